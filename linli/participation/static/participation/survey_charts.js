/* Grouped bars of factor scores per grid unit, drawn with the vendored ECharts from the
 * data the results page embeds with json_script:
 * <div data-chart="survey-bars" data-source="ID"> reads {factors:[name], units:[{name,
 * scores:[number|null]}]}. The scale is the 1–5 Likert scale; null leaves no bar. */
(function () {
  "use strict";

  function draw(element) {
    var source = document.getElementById(element.dataset.source);
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(element);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 40, right: 16, top: 40, bottom: 60 },
      xAxis: { type: "category", data: data.units.map(function (u) { return u.name; }), axisLabel: { rotate: 30 } },
      yAxis: { type: "value", min: 1, max: 5 },
      series: data.factors.map(function (name, index) {
        return { name: name, type: "bar", data: data.units.map(function (u) { return u.scores[index]; }) };
      }),
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    document.querySelectorAll('[data-chart="survey-bars"]').forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
