// Draws each chart of the dashboard with Chart.js from the figures the page carries (#chart-data); the tables
// under the charts hold the same figures.
(function () {
  "use strict";
  var COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f"];
  var charts = JSON.parse(document.getElementById("chart-data").textContent);

  function datasets(chart) {
    return chart.series.map(function (pair, i) {
      var name = pair[0];
      var set = {
        label: name,
        data: pair[1],
        backgroundColor: COLOURS[i % COLOURS.length],
        borderColor: COLOURS[i % COLOURS.length],
        spanGaps: true
      };
      if (chart.id === "nps" && name === "answers") {
        set.type = "bar";
        set.yAxisID = "answers";
        set.backgroundColor = "rgba(127, 127, 127, 0.35)";
      } else if (chart.id === "nps") {
        set.type = "line";
      }
      return set;
    });
  }

  function options(chart) {
    var scales = {
      x: { stacked: chart.stacked },
      y: { stacked: chart.stacked, beginAtZero: true }
    };
    if (chart.id === "nps") {
      scales.y = { min: -100, max: 100, title: { display: true, text: "NPS" } };
      scales.answers = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
        title: { display: true, text: "answers" } };
    }
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      indexAxis: chart.horizontal ? "y" : "x",
      scales: scales,
      plugins: { legend: { display: chart.series.length > 1 } }
    };
  }

  charts.forEach(function (chart) {
    var canvas = document.getElementById("canvas-" + chart.id);
    new Chart(canvas, { type: chart.type, data: { labels: chart.labels, datasets: datasets(chart) },
      options: options(chart) });
  });
})();
