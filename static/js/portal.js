// Behaviour shared by every page, kept out of the markup so no inline script is needed.
(function () {
  "use strict";
  // <form data-confirm="Are you sure?">: ask before submitting.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // <button data-copy="#selector">: copy that field's value to the clipboard.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (field) navigator.clipboard.writeText(field.value);
  });
})();
