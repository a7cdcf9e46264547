// The tick box in the header ticks every claim on the page that can be confirmed.
(function () {
  "use strict";
  var all = document.getElementById("tick-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll("input.tick").forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
