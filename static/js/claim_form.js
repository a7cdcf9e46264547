// The claim form: shows only the fields that apply, and keeps a copy of what is typed in
// this browser until the server has it, so an expired session never loses a claim.
(function () {
  "use strict";
  var PREFIX = "claim-form:";
  var MAX_AGE_MS = 14 * 24 * 3600 * 1000;
  var SKIP = ["csrfmiddlewaretoken", "form_token", "version", "action"];

  function storage() {
    try {
      var probe = PREFIX + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null; // private mode or storage disabled: the form still works, without a copy
    }
  }

  function read(store, key) {
    try {
      return JSON.parse(store.getItem(key) || "null");
    } catch (e) {
      return null;
    }
  }

  var store = storage();

  // A claim's page after a save: the copy of that form is no longer needed.
  var saved = document.querySelector("[data-form-saved]");
  if (store) {
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (!key || key.indexOf(PREFIX) !== 0) continue;
      var entry = read(store, key);
      var stale = !entry || Date.now() - (entry.at || 0) > MAX_AGE_MS;
      var done = saved && entry && entry.token === saved.getAttribute("data-form-saved");
      if (stale || done) store.removeItem(key);
    }
  }

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
    var segment = form.querySelector("[name='org-segment']");
    form.querySelectorAll("[data-segment-only]").forEach(function (el) {
      el.hidden = segment ? segment.value !== el.getAttribute("data-segment-only") : false;
    });
  }

  var key = PREFIX + form.getAttribute("data-form-key");
  var tokenField = form.querySelector("[name='form_token']");
  var token = tokenField ? tokenField.value : "";

  function fields() {
    var values = [];
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (SKIP.indexOf(el.name) !== -1 || el.type === "hidden" || el.type === "submit") return;
      if (el.type === "checkbox" || el.type === "radio") {
        values.push([el.name, el.value, el.checked]);
      } else {
        values.push([el.name, el.value, null]);
      }
    });
    return values;
  }

  function same(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function keep() {
    if (store) {
      try {
        store.setItem(key, JSON.stringify({ token: token, at: Date.now(), fields: fields() }));
      } catch (e) {
        /* storage full: nothing more to do */
      }
    }
  }

  function restore(values) {
    values.forEach(function (item) {
      var name = item[0], value = item[1], checked = item[2];
      form.querySelectorAll("[name='" + CSS.escape(name) + "']").forEach(function (el) {
        if (el.type === "checkbox") {
          el.checked = checked;
        } else if (el.type === "radio") {
          if (el.value === value) el.checked = checked;
        } else {
          el.value = value;
        }
      });
    });
    sync();
  }

  var earlier = store ? read(store, key) : null;
  var banner = document.getElementById("form-restore");
  if (earlier && earlier.token !== token && earlier.fields && !same(earlier.fields, fields())) {
    // An earlier copy that the server never got: offer it back, never apply it unasked.
    if (banner) {
      banner.classList.remove("d-none");
      banner.addEventListener("click", function (event) {
        var button = event.target.closest("[data-restore]");
        if (!button) return;
        if (button.getAttribute("data-restore") === "yes") restore(earlier.fields);
        banner.classList.add("d-none");
        keep();
      });
    }
  } else {
    keep();
  }

  var timer = null;
  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(keep, 300);
  });
  form.addEventListener("change", function () {
    sync();
    keep();
  });
  form.addEventListener("submit", keep);
  sync();
})();
