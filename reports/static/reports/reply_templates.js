// The reply-template picker (reports/admin_replies.py): picking a template puts its text,
// filled for the report, in the form's text field, where staff edit it before sending; a
// question template ticks "this is a question to the citizen", any other unticks it.
// Without this script the picker stays hidden and its links reload the form filled in.
(function () {
  "use strict";

  function setUp(select) {
    var target = document.getElementById(select.dataset.target);
    var question = select.dataset.question
      ? document.getElementById(select.dataset.question)
      : null;
    if (!target) {
      return;
    }
    // What the picker last wrote: text that differs from it is the staff member's own.
    var written = target.value;
    var chosen = select.value;
    select.hidden = false;
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      if (!option || !option.value) {
        chosen = select.value;
        return;
      }
      var own = target.value.trim() !== "" && target.value !== written;
      if (own && !window.confirm(select.dataset.confirm)) {
        select.value = chosen;
        return;
      }
      chosen = select.value;
      target.value = option.dataset.text || "";
      written = target.value;
      if (question) {
        question.checked = option.dataset.question === "true";
      }
      target.focus();
      target.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }

  function setUpAll() {
    document.querySelectorAll("select.reply-template-picker").forEach(setUp);
  }

  // The form's media come in the page's head, before the form.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
