// Draws a report's chart from the figures in its canvas's data-chart attribute (the same
// figures as the table beside it). Loaded only by the report pages, after Chart.js.
(function () {
  "use strict";
  var canvas = document.getElementById("report-chart");
  if (!canvas || typeof window.Chart === "undefined") { return; }
  var spec = JSON.parse(canvas.getAttribute("data-chart"));
  // Colour-blind-safe palette (Okabe–Ito), each series also named in the legend.
  var colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
  spec.datasets.forEach(function (dataset, i) {
    var colour = colours[i % colours.length];
    dataset.backgroundColor = colour;
    dataset.borderColor = colour;
    dataset.spanGaps = true;
  });
  new window.Chart(canvas, {
    type: spec.type,
    data: { labels: spec.labels, datasets: spec.datasets },
    options: {
      // Figures, not a show: drawn at once (and the same for a screenshot or a print).
      animation: false,
      maintainAspectRatio: false,
      responsive: true,
      scales: {
        x: { stacked: spec.stacked },
        y: {
          stacked: spec.stacked,
          beginAtZero: true,
          max: spec.percent ? 100 : undefined,
          ticks: spec.percent ? { callback: function (v) { return v + " %"; } } : { precision: 0 }
        }
      }
    }
  });
})();
