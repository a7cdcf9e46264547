// Shows the fields of ticked services only, and per-service contacts only when chosen.
(function () {
  "use strict";
  var form = document.getElementById("claim-form");
  if (!form) return;

  function sync() {
    var mode = form.querySelector("input[name='contact-survey_contact_mode']:checked");
    var perService = mode && mode.value === "per_service";
    form.querySelectorAll(".claim-line").forEach(function (line) {
      var ticked = line.querySelector(".line-toggle").checked;
      line.classList.toggle("is-selected", ticked);
      line.querySelector(".line-fields").hidden = !ticked;
      line.querySelectorAll(".per-service-contact").forEach(function (el) {
        el.hidden = !perService;
      });
    });
    form.querySelectorAll(".one-contact").forEach(function (el) {
      el.hidden = perService;
    });
  }

  form.addEventListener("change", sync);
  sync();
})();
