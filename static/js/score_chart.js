// The score-history chart of the lead page's score panel (scoring/_score_panel.html), drawn
// with Chart.js (static/vendor/chart.umd.min.js, v4.6.2, MIT) from the panel's JSON (its data-history). The panel
// arrives by htmx after the page, so charts are drawn whenever new content is loaded.
(function () {
  "use strict";

  var BAND_HOT = "rgba(220, 38, 38, 0.07)";
  var BAND_WARM = "rgba(245, 158, 11, 0.08)";
  var LINE_HOT = "rgba(220, 38, 38, 0.55)";
  var LINE_WARM = "rgba(180, 83, 9, 0.55)";

  function dateText(ms, withTime) {
    var options = { month: "2-digit", day: "2-digit" };
    if (withTime) { options.year = "numeric"; options.hour = "2-digit"; options.minute = "2-digit"; }
    return new Date(ms).toLocaleString(document.documentElement.lang || undefined, options);
  }

  // Tier bands behind the line: hot above its line, warm between the two (the rules' thresholds).
  var tierBands = {
    id: "tierBands",
    beforeDatasetsDraw: function (chart, args, options) {
      var area = chart.chartArea, y = chart.scales.y, ctx = chart.ctx;
      if (!area || options.hot == null || options.warm == null) { return; }
      var yHot = y.getPixelForValue(options.hot), yWarm = y.getPixelForValue(options.warm);
      ctx.save();
      ctx.fillStyle = BAND_HOT;
      ctx.fillRect(area.left, area.top, area.right - area.left, yHot - area.top);
      ctx.fillStyle = BAND_WARM;
      ctx.fillRect(area.left, yHot, area.right - area.left, yWarm - yHot);
      ctx.setLineDash([4, 4]);
      ctx.lineWidth = 1;
      [[yHot, LINE_HOT, options.labelHot], [yWarm, LINE_WARM, options.labelWarm]].forEach(function (line) {
        ctx.strokeStyle = line[1];
        ctx.beginPath(); ctx.moveTo(area.left, line[0]); ctx.lineTo(area.right, line[0]); ctx.stroke();
        ctx.fillStyle = line[1];
        ctx.font = "11px sans-serif";
        ctx.textAlign = "left";  // at the left: the line of a lead that became hot ends at the right
        ctx.fillText(line[2], area.left + 4, line[0] - 4);
      });
      ctx.restore();
    }
  };

  function draw(box) {
    if (box.dataset.drawn || typeof window.Chart === "undefined") { return; }
    var canvas = box.querySelector("canvas");
    if (!canvas || !box.dataset.history) { return; }
    var data = JSON.parse(box.dataset.history);
    box.dataset.drawn = "1";
    var points = data.points.map(function (p) { return { x: Date.parse(p.t), y: p.total, reason: p.reason }; });
    var first = points[0].x, last = points[points.length - 1].x;
    var pad = Math.max((last - first) * 0.05, 3600 * 1000);
    new window.Chart(canvas, {
      type: "line",
      data: {
        datasets: [{
          label: box.dataset.labelTotal, data: points, borderColor: "#2563eb", backgroundColor: "#2563eb",
          pointRadius: 3.5, pointHoverRadius: 5, borderWidth: 2, stepped: false, tension: 0
        }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: {
            type: "linear", min: first - pad, max: last + pad,
            ticks: { maxTicksLimit: 4, font: { size: 11 }, callback: function (value) { return dateText(value, false); } },
            grid: { display: false }
          },
          y: { min: 0, max: 100, ticks: { stepSize: 25, font: { size: 11 } }, grid: { color: "#eef2f7" } }
        },
        plugins: {
          legend: { display: false },
          tierBands: { hot: data.hot, warm: data.warm, labelHot: box.dataset.labelHot, labelWarm: box.dataset.labelWarm },
          tooltip: {
            callbacks: {
              title: function (items) { return dateText(items[0].parsed.x, true); },
              label: function (item) { return item.raw.reason + ": " + Math.round(item.parsed.y); }
            }
          }
        }
      },
      plugins: [tierBands]
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-score-chart]").forEach(draw);
  }

  document.addEventListener("htmx:load", function (event) { drawAll(event.target); });
  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
}());
