// The zone page: draws the camera's zones over its still and lets an officer click a new outline.
// The form's text area holds the points ("x, y" per line, 0 to 1): clicks write there, typing there redraws,
// so the keyboard alone can do everything. No inline script or style (the Content-Security-Policy forbids it).
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";

  function parse(text) {
    var points = [];
    text.replace(/;/g, "\n").split("\n").forEach(function (line) {
      var parts = line.replace(/[,,]/g, " ").trim().split(/\s+/).filter(Boolean);
      if (parts.length !== 2) { return; }
      var x = parseFloat(parts[0]), y = parseFloat(parts[1]);
      if (isFinite(x) && isFinite(y)) { points.push([x, y]); }
    });
    return points;
  }

  function format(points) {
    return points.map(function (p) { return p[0].toFixed(4) + ", " + p[1].toFixed(4); }).join("\n");
  }

  function shape(tag, points, cls) {
    var el = document.createElementNS(SVG, tag);
    el.setAttribute("points", points.map(function (p) { return p[0] + "," + p[1]; }).join(" "));
    el.setAttribute("class", cls);
    return el;
  }

  function label(text, points) {
    var el = document.createElementNS(SVG, "text");
    var x = Math.min.apply(null, points.map(function (p) { return p[0]; }));
    var y = Math.min.apply(null, points.map(function (p) { return p[1]; }));
    el.setAttribute("x", x + 0.01);
    el.setAttribute("y", y + 0.045);
    el.textContent = text;
    return el;
  }

  function setup(canvas) {
    var svg = canvas.querySelector("[data-zone-svg]");
    var img = canvas.querySelector("[data-zone-still]");
    var area = document.querySelector("[data-zone-points]");
    var shapes = [];
    try { shapes = JSON.parse(canvas.getAttribute("data-shapes") || "[]"); } catch (e) { shapes = []; }
    var aspect = canvas.getAttribute("data-aspect");
    if (aspect) { canvas.style.aspectRatio = aspect; }

    function draw() {
      while (svg.firstChild) { svg.removeChild(svg.firstChild); }
      shapes.forEach(function (z) {
        svg.appendChild(shape("polygon", z.points, z.kind));
        svg.appendChild(label(z.name, z.points));
      });
      if (!area) { return; }
      var draft = parse(area.value);
      if (draft.length >= 3) { svg.appendChild(shape("polygon", draft, "draft")); }
      else if (draft.length > 0) { svg.appendChild(shape("polyline", draft, "draft")); }
    }

    if (img) {
      img.addEventListener("load", function () { canvas.classList.add("has-picture"); });
      img.addEventListener("error", function () { img.style.visibility = "hidden"; });
      if (img.complete && img.naturalWidth > 0) { canvas.classList.add("has-picture"); }
    }
    if (area && canvas.getAttribute("data-draw") === "on") {
      svg.addEventListener("click", function (event) {
        var box = svg.getBoundingClientRect();
        var x = (event.clientX - box.left) / box.width, y = (event.clientY - box.top) / box.height;
        var points = parse(area.value);
        points.push([Math.min(1, Math.max(0, x)), Math.min(1, Math.max(0, y))]);
        area.value = format(points);
        draw();
      });
      area.addEventListener("input", draw);
      var undo = document.querySelector("[data-zone-undo]");
      var clear = document.querySelector("[data-zone-clear]");
      if (undo) { undo.addEventListener("click", function () { var p = parse(area.value); p.pop(); area.value = format(p); draw(); }); }
      if (clear) { clear.addEventListener("click", function () { area.value = ""; draw(); }); }
    }
    draw();
  }

  document.querySelectorAll("[data-zone-canvas]").forEach(setup);
})();
