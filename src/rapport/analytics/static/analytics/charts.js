// Draws every [data-chart] element with Plotly from the JSON in the <script> it names.
// An external file, so the page's Content-Security-Policy needs no inline script; no mode bar,
// whose per-chart style rules would be inline styles too (the CSV links give the data).
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-chart"));
      if (!source || !window.Plotly) { return; }
      var figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(element, figure.data, figure.layout, {
        responsive: true, displayModeBar: false
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
