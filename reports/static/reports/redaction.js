// Staff redaction (reports/admin_redaction.py): the photo on a canvas with the boxes that
// are obscured in its public rendition; dragging over it draws a new box, which fills the
// form's x, y, width and height (in the photo's own pixels) and posts it. The form works
// without this script too: staff type the numbers.
(function () {
  "use strict";

  var COLOURS = { face: "#e53935", plate: "#fb8c00", other: "#8e24aa" };

  function setUp(canvas) {
    var form = document.getElementById("redaction-add-form");
    var regions = JSON.parse(document.getElementById("redaction-regions").textContent);
    var width = Number(canvas.dataset.width);
    var height = Number(canvas.dataset.height);
    var image = new Image();
    var start = null;
    var current = null;
    canvas.width = width;
    canvas.height = height;

    function draw() {
      var context = canvas.getContext("2d");
      context.clearRect(0, 0, width, height);
      if (image.complete) {
        context.drawImage(image, 0, 0, width, height);
      }
      context.lineWidth = Math.max(2, width / 400);
      regions.forEach(function (region) {
        context.strokeStyle = COLOURS[region.kind] || COLOURS.other;
        context.strokeRect(region.x, region.y, region.w, region.h);
      });
      if (current) {
        context.setLineDash([8, 6]);
        context.strokeStyle = "#00e5ff";
        context.strokeRect(current.x, current.y, current.w, current.h);
        context.setLineDash([]);
      }
    }

    // A pointer's position in the photo's pixels (the canvas is shown scaled).
    function point(event) {
      var box = canvas.getBoundingClientRect();
      return {
        x: Math.round(((event.clientX - box.left) * width) / box.width),
        y: Math.round(((event.clientY - box.top) * height) / box.height),
      };
    }

    function clamp(value, low, high) {
      return Math.min(Math.max(value, low), high);
    }

    canvas.addEventListener("pointerdown", function (event) {
      start = point(event);
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!start) {
        return;
      }
      var end = point(event);
      var x0 = clamp(Math.min(start.x, end.x), 0, width);
      var y0 = clamp(Math.min(start.y, end.y), 0, height);
      var x1 = clamp(Math.max(start.x, end.x), 0, width);
      var y1 = clamp(Math.max(start.y, end.y), 0, height);
      current = { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
      draw();
    });
    canvas.addEventListener("pointerup", function () {
      start = null;
      if (!current || current.w < 4 || current.h < 4) {
        current = null;
        draw();
        return;
      }
      form.elements.x.value = current.x;
      form.elements.y.value = current.y;
      form.elements.width.value = current.w;
      form.elements.height.value = current.h;
      form.submit();
    });

    image.addEventListener("load", draw);
    image.src = canvas.dataset.image;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var canvas = document.getElementById("redaction-canvas");
    if (canvas) {
      setUp(canvas);
    }
  });
})();
