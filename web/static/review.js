/* Keyboard review of a video event (issue 13 §7), our own small script (no library):
   c = confirm, d = dismiss (each chooses the outcome and puts the cursor in the reason),
   Ctrl+Enter in the reason submits, j / k = next / previous event to review in the queue.
   Keys are ignored while typing in a field, except Ctrl+Enter and Escape (leaves the field). */
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=review-form]");
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || el.tagName === "INPUT" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function choose(outcome) {
    if (!form) { return; }
    var radio = form.querySelector("input[name=outcome][value=" + outcome + "]");
    if (radio) { radio.checked = true; }
    var reason = form.querySelector("textarea[name=reason]");
    if (reason) { reason.focus(); }
  }
  function go(rel) {
    var link = document.querySelector("a[data-queue=" + rel + "]");
    if (link) { window.location.assign(link.getAttribute("href")); }
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.metaKey) { return; }
    var target = ev.target;
    if (typing(target)) {
      if (ev.key === "Enter" && ev.ctrlKey && form && form.contains(target)) {
        ev.preventDefault();
        if (form.reportValidity()) { form.submit(); }
      } else if (ev.key === "Escape") {
        target.blur();
      }
      return;
    }
    if (ev.ctrlKey) { return; }
    switch (ev.key) {
      case "c": ev.preventDefault(); choose("confirmed"); break;
      case "d": ev.preventDefault(); choose("dismissed"); break;
      case "j": ev.preventDefault(); go("next"); break;
      case "k": ev.preventDefault(); go("previous"); break;
      default: break;
    }
  });
}());
