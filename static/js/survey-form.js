// The new-survey page: "Add a question" copies the formset's empty form, and each question
// shows only the fields its kind uses. Without script the page offers three questions with
// every field, and the server ignores what a kind does not use.
(function () {
  const OPTION_KINDS = ["single", "multiple", "ranking", "matrix"];
  const SCALE_KINDS = ["scale", "matrix"];
  const CHOICE_KINDS = ["single", "multiple"];
  const list = document.getElementById("questions");
  if (!list) return;

  function fieldOf(question, name) {
    const input = question.querySelector(`[name$="-${name}"]`);
    return input ? input.closest(".field") : null;
  }

  function showFieldsFor(question) {
    const kind = question.querySelector('select[name$="-kind"]').value;
    const show = {
      options: OPTION_KINDS.includes(kind),
      other: CHOICE_KINDS.includes(kind),
      scale_min: SCALE_KINDS.includes(kind),
      scale_max: SCALE_KINDS.includes(kind),
    };
    for (const [name, visible] of Object.entries(show)) {
      const field = fieldOf(question, name);
      if (field) field.hidden = !visible;
    }
  }

  list.addEventListener("change", function (event) {
    if (event.target.matches('select[name$="-kind"]')) {
      showFieldsFor(event.target.closest(".question-form"));
    }
  });
  list.querySelectorAll(".question-form").forEach(showFieldsFor);

  const button = document.getElementById("add-question");
  const template = document.getElementById("question-template");
  const total = document.getElementById("id_questions-TOTAL_FORMS");
  const max = document.getElementById("id_questions-MAX_NUM_FORMS");
  if (!button || !template || !total) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    const index = Number(total.value);
    if (max && index >= Number(max.value)) return;
    list.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    const added = list.lastElementChild;
    showFieldsFor(added);
    added.querySelector("input, select, textarea").focus();
  });
})();
