// The hall's duty screen stays on all day: reload it every five minutes so tomorrow's pair appears by itself.
// (A meta refresh would do the same but fails WCAG's timing rule for pages people read.)
(function () {
  var screen = document.querySelector("[data-reload-seconds]");
  if (!screen) { return; }
  var seconds = parseInt(screen.getAttribute("data-reload-seconds"), 10) || 300;
  window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
})();
