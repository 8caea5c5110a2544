// The camera pages' scripts (live wall, live view, home panel, discovery). No inline script anywhere:
// the pages pass their figures in data-* attributes, so the Content-Security-Policy can forbid inline code.
(function () {
  "use strict";
  if (window.supervisionCameras) { return; }  // included twice on one page: run once
  window.supervisionCameras = true;

  // A still that failed shows the "no picture" text underneath instead of a broken-image icon.
  function showOrHide(img) {
    var shown = img.naturalWidth > 0;
    img.style.visibility = shown ? "visible" : "hidden";
    img.parentNode.classList.toggle("has-picture", shown);
  }
  function isStill(el) {
    return el && el.tagName === "IMG" && el.closest && el.closest(".camtile");
  }
  // load and error do not bubble, but they can be caught on the way down.
  document.addEventListener("load", function (event) {
    if (isStill(event.target)) { showOrHide(event.target); }
  }, true);
  document.addEventListener("error", function (event) {
    if (isStill(event.target)) { event.target.style.visibility = "hidden"; event.target.parentNode.classList.remove("has-picture"); }
  }, true);

  // The wall holds no connection per camera: each still is one short request every few seconds,
  // loaded off-screen first so a slow or missing frame never blanks the tile.
  function reload(img) {
    var url = img.getAttribute("data-snapshot") + "?_=" + Date.now();
    var probe = new Image();
    probe.onload = function () {
      img.src = url; img.style.visibility = "visible"; img.classList.remove("stale");
      img.parentNode.classList.add("has-picture");
    };
    probe.onerror = function () { img.classList.add("stale"); };
    probe.src = url;
  }

  function statuses(wall) {
    fetch(wall.getAttribute("data-status-api"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        body.data.forEach(function (cam) {
          var tile = wall.querySelector('[data-camera="' + cam.id + '"]');
          if (!tile) { return; }
          var status = cam.health.status;
          tile.className = tile.className.replace(/\b(online|offline|frozen|unknown)\b/g, "").trim() + " " + status;
          var badge = tile.querySelector("[data-status]");
          var label = wall.getAttribute("data-label-" + status);
          if (badge && label) {
            badge.setAttribute("data-status", status);
            badge.textContent = label;
            badge.className = "badge " + ({ online: "ok", offline: "bad", frozen: "warn" }[status] || "");
          }
        });
      }).catch(function () {});
  }

  function wall(el) {
    var seconds = parseFloat(el.getAttribute("data-refresh-seconds")) || 4;
    window.setInterval(function () {
      if (document.hidden) { return; }
      Array.prototype.forEach.call(el.querySelectorAll("img[data-snapshot]"), reload);
    }, seconds * 1000);
    if (el.getAttribute("data-status-api")) {
      window.setInterval(function () { if (!document.hidden) { statuses(el); } }, 10000);
    }
  }

  function liveView(img) {
    function fallBack() {
      // No live stream (no reader yet, or it went away): fall back to the latest still.
      if (img.getAttribute("data-fell-back")) { return; }
      img.setAttribute("data-fell-back", "1");
      var ended = document.querySelector("[data-testid=live-ended]");
      if (ended) { ended.hidden = false; }
      img.src = img.getAttribute("data-fallback") + "?_=" + Date.now();
    }
    img.addEventListener("error", fallBack);
    if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) { fallBack(); }  // failed before we ran
    // Leaving the page closes the stream, which is when the view's end is written to the audit log.
    window.addEventListener("pagehide", function () { img.removeEventListener("error", fallBack); img.src = ""; });
  }

  // Typing an address means "ask this one device", not the multicast probe.
  document.addEventListener("focusin", function (event) {
    var name = event.target.getAttribute && event.target.getAttribute("data-unchecks");
    if (!name) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("input[type=radio]"), function (r) {
      if (r.name === name) { r.checked = false; }
    });
  });

  function start() {
    // Stills that finished (or failed) before this deferred script ran.
    Array.prototype.forEach.call(document.querySelectorAll(".camtile img"), function (img) {
      if (img.complete) { showOrHide(img); }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-camera-wall]"), wall);
    Array.prototype.forEach.call(document.querySelectorAll("img[data-live-view]"), liveView);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
