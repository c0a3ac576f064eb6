// The admin's language switch submits its form when a language is chosen (a script file, not
// an inline handler: the Content-Security-Policy allows no inline script).
document.addEventListener("DOMContentLoaded", () => {
  const select = document.querySelector("#language-switch select[name=language]");
  if (select) {
    select.addEventListener("change", () => select.form.submit());
  }
});
