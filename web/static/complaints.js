// The intake screen: the repeat-caller hint and the answer box that only a consultation answered on the spot needs.
(function () {
  "use strict";
  var phone = document.getElementById("f-phone");
  var box = document.getElementById("phone-history");
  if (phone && box) {
    var timer = null;
    phone.addEventListener("input", function () {
      clearTimeout(timer);
      var value = phone.value.replace(/\s+/g, "");
      if (value.length < 7) { box.innerHTML = ""; return; }
      timer = setTimeout(function () {
        fetch(phone.dataset.history + "?phone=" + encodeURIComponent(value), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { box.innerHTML = html; })
          .catch(function () { box.innerHTML = ""; });
      }, 300);
    });
  }
  var spot = document.getElementById("f-spot");
  var answer = document.getElementById("answer-box");
  var type = document.getElementById("f-type");
  function sync() {
    if (!spot || !answer) { return; }
    answer.hidden = !spot.checked;
  }
  if (spot) { spot.addEventListener("change", sync); sync(); }
  // Keys 1–5 pick the request type while the type field has focus; Ctrl+Enter submits from anywhere.
  if (type) {
    type.addEventListener("keydown", function (e) {
      if (e.key >= "1" && e.key <= String(type.options.length - 1)) {
        type.selectedIndex = Number(e.key);
        if (spot) { spot.checked = type.value === "consult" && spot.checked; sync(); }
        e.preventDefault();
      }
    });
  }
  var form = document.querySelector("form[data-testid=intake-form]");
  if (form) {
    form.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    // A second click while the first submit is on its way sends nothing (the idempotency key guards the rest).
    form.addEventListener("submit", function () {
      var button = form.querySelector("button.primary");
      if (button) { setTimeout(function () { button.disabled = true; }, 0); }
    });
  }
})();

// The citizen form: the window list shows only the windows of the centre chosen (the server checks it too).
(function () {
  "use strict";
  var site = document.querySelector("select[data-public-site]");
  var window_ = document.querySelector("select[data-public-window]");
  if (!site || !window_) { return; }
  function sync() {
    var groups = window_.querySelectorAll("optgroup[data-site]");
    var any = false;
    for (var i = 0; i < groups.length; i++) {
      var mine = groups[i].getAttribute("data-site") === site.value;
      groups[i].hidden = !mine;
      groups[i].disabled = !mine;
      any = any || mine;
    }
    var chosen = window_.options[window_.selectedIndex];
    if (chosen && chosen.parentNode && chosen.parentNode.disabled) { window_.value = ""; }
    window_.disabled = !any;
  }
  site.addEventListener("change", sync);
  sync();
})();
