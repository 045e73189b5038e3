/* Draws the report charts with Chart.js (vendored: chart-4.6.1.umd.min.js) from each canvas' data-chart JSON.
   No inline script: the figures travel in the attribute, the same figures stand in the table beside each chart.
   A series never differs by colour alone: each has its own dash pattern and point shape, named in the legend. */
(function () {
  "use strict";

  var COLOURS = ["#1a56c4", "#b4490d", "#2f7d32", "#6b3fa0", "#4b5563"];
  var DASHES = [[], [8, 4], [2, 3], [12, 3, 3, 3], [1, 1]];
  var SHAPES = ["circle", "rect", "triangle", "rectRot", "crossRot"];

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  function dataset(series, index, spec) {
    var colour = COLOURS[index % COLOURS.length];
    var line = spec.kind === "line";
    return {
      label: series.name,
      data: series.values,
      borderColor: colour,
      backgroundColor: line ? colour : colour + "99",
      borderWidth: 2,
      borderDash: DASHES[index % DASHES.length],
      pointStyle: SHAPES[index % SHAPES.length],
      pointRadius: line ? 4 : 0,
      pointHoverRadius: 6,
      maxBarThickness: 48,
      tension: 0
    };
  }

  function config(spec) {
    var indexAxis = spec.horizontal ? "y" : "x";
    var valueAxis = spec.horizontal ? "x" : "y";
    var scales = {};
    scales[indexAxis] = { stacked: spec.stacked, ticks: { autoSkip: true, maxRotation: 60 } };
    scales[valueAxis] = {
      stacked: spec.stacked,
      beginAtZero: true,
      ticks: spec.whole ? { precision: 0 } : {},
      title: { display: true, text: spec.unit }
    };
    return {
      type: spec.kind,
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, index) { return dataset(series, index, spec); })
      },
      options: {
        indexAxis: indexAxis,
        responsive: true,
        maintainAspectRatio: false,
        animation: reducedMotion() ? false : { duration: 300 },
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: { display: spec.series.length > 1, labels: { usePointStyle: true } }
        }
      }
    };
  }

  function draw(canvas) {
    if (typeof window.Chart === "undefined") {
      return;
    }
    var previous = window.Chart.getChart(canvas);
    if (previous) {
      previous.destroy();
    }
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-chart"));
    } catch (error) {
      return;
    }
    new window.Chart(canvas, config(spec));
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
  document.addEventListener("htmx:after:swap", drawAll);
})();
