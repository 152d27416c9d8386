// "Add a question" on the new-survey page: copies the formset's empty form. Without
// script the page still offers three questions.
(function () {
  const button = document.getElementById("add-question");
  const template = document.getElementById("question-template");
  const list = document.getElementById("questions");
  const total = document.getElementById("id_questions-TOTAL_FORMS");
  const max = document.getElementById("id_questions-MAX_NUM_FORMS");
  if (!button || !template || !list || !total) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    const index = Number(total.value);
    if (max && index >= Number(max.value)) return;
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    list.lastElementChild.querySelector("input, select, textarea").focus();
  });
})();
