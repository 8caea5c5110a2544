// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // Guard against double submits: the server is idempotent where it matters, but say so early.
    var button = form.querySelector("button[type=submit], button:not([type])");
    if (button && form.method.toLowerCase() === "post") {
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  });
  // Elements with data-refresh="<seconds>" and data-src reload their image/fragment periodically.
  function refresh(el) {
    var seconds = parseFloat(el.getAttribute("data-refresh")) || 5;
    window.setInterval(function () {
      if (document.hidden) { return; }
      var src = el.getAttribute("data-src");
      if (!src) { return; }
      var url = src + (src.indexOf("?") < 0 ? "?" : "&") + "_=" + Date.now();
      if (el.tagName === "IMG") {
        var probe = new Image();
        probe.onload = function () { el.src = url; el.classList.remove("stale"); };
        probe.onerror = function () { el.classList.add("stale"); };
        probe.src = url;
      } else {
        fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) { if (html !== null) { el.innerHTML = html; } });
      }
    }, seconds * 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-refresh]"), refresh);
  });
})();

// A search box with data-filter-select="<select id>" narrows that select's options (and their groups) to the
// ones whose text, or whose group's label, holds what is typed; Enter picks the first one left and moves on.
(function () {
  "use strict";
  function filter(box, select) {
    var words = box.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var groups = select.querySelectorAll("optgroup");
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) { return; }
      var group = option.parentNode.tagName === "OPTGROUP" ? option.parentNode.label : "";
      var text = (group + " " + option.text).toLowerCase();
      option.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    Array.prototype.forEach.call(groups, function (group) {
      group.hidden = !group.querySelector("option:not([hidden])");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter-select]"), function (box) {
      var select = document.getElementById(box.getAttribute("data-filter-select"));
      if (!select) { return; }
      box.addEventListener("input", function () { filter(box, select); });
      box.addEventListener("keydown", function (e) {
        if (e.key !== "Enter" || e.ctrlKey || e.metaKey) { return; }
        e.preventDefault();
        var first = select.querySelector("option:not([hidden])[value]:not([value=''])");
        if (first) { select.value = first.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
        select.focus();
      });
    });
  });
})();
