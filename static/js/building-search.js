// Live building search on the profile page: typing an address fetches matching
// buildings as radio buttons. Without JavaScript the "Find" button does the same.
(function () {
  "use strict";
  var input = document.querySelector("input[data-search-url]");
  var results = document.getElementById("building-results");
  if (!input || !results) return;
  var timer = null;
  var latest = 0;
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var query = input.value.trim();
      if (query.length < 2) return;
      var request = ++latest;
      fetch(input.dataset.searchUrl + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
      })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null && request === latest) results.innerHTML = html;
        });
    }, 250);
  });
})();
