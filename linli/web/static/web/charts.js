/* Line charts drawn with the vendored ECharts from data the page embeds with json_script:
 * <div data-chart="case-trend" data-source="ID"> reads {labels, urls, series:[{name, data}]}
 * from the <script type="application/json" id="ID">. Values are percentages; a null is a
 * period with nothing to measure and leaves a gap. Clicking a point opens that period. */
(function () {
  "use strict";

  function drawTrend(element) {
    var source = document.getElementById(element.dataset.source);
    if (!source || typeof echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(element);
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (value) { return value == null ? "—" : value + "%"; } },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 40 },
      xAxis: { type: "category", data: data.labels, axisLabel: { rotate: 45 } },
      yAxis: { type: "value", min: 0, axisLabel: { formatter: "{value}%" } },
      series: data.series.map(function (series) {
        return { name: series.name, type: "line", data: series.data, connectNulls: false, symbolSize: 8 };
      }),
    });
    chart.on("click", function (params) {
      var url = data.urls[params.dataIndex];
      if (url) {
        window.location.href = url;
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll() {
    document.querySelectorAll('[data-chart="case-trend"]').forEach(drawTrend);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
