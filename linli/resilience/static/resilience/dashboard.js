/* The resilience dashboard's charts, drawn with the vendored ECharts from data the page
 * embeds with json_script (each chart also has a table of its numbers under "Numbers"):
 *   <div data-chart="resilience-radar" data-source="ID">  {indicators:[{name,max}], name, values}
 *   <div data-chart="resilience-trend" data-source="ID">  {labels, series:[{name, data}]}
 * Values are points out of 100; a null is a week (or sub-index) with nothing measured. */
(function () {
  "use strict";

  function read(element) {
    var source = document.getElementById(element.dataset.source);
    if (!source || typeof echarts === "undefined") {
      return null;
    }
    return JSON.parse(source.textContent);
  }

  function format(value) {
    return value == null ? "—" : value.toFixed(1);
  }

  function drawRadar(element) {
    var data = read(element);
    if (!data) {
      return null;
    }
    var chart = echarts.init(element);
    chart.setOption({
      tooltip: { trigger: "item" },
      radar: {
        indicator: data.indicators,
        // Room for the axis names on a 390 px phone.
        radius: "55%",
        center: ["50%", "55%"],
        axisName: {
          color: "#1f2328",
          fontSize: 12,
          lineHeight: 15,
          // "Capacity resilience" on two lines; Chinese names are short enough as they are.
          formatter: function (name) { return name.replace(" ", "\n"); },
        },
      },
      series: [
        {
          type: "radar",
          areaStyle: { opacity: 0.25 },
          data: [
            {
              name: data.name,
              // A missing sub-index is drawn at 0 but labelled "—".
              value: data.values.map(function (value) { return value == null ? 0 : value; }),
              label: {
                show: true,
                formatter: function (params) {
                  return format(data.values[params.dimensionIndex]);
                },
              },
            },
          ],
        },
      ],
    });
    return chart;
  }

  function drawTrend(element) {
    var data = read(element);
    if (!data) {
      return null;
    }
    var chart = echarts.init(element);
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: format },
      legend: { top: 0, type: "scroll" },
      grid: { left: 36, right: 12, top: 40, bottom: 48 },
      xAxis: { type: "category", data: data.labels, axisLabel: { rotate: 45 } },
      yAxis: { type: "value", min: 0, max: 100 },
      series: data.series.map(function (series, position) {
        return {
          name: series.name,
          type: "line",
          data: series.data,
          connectNulls: false,
          symbolSize: 6,
          // The overall index (last) is drawn heavier than its parts.
          lineStyle: { width: position === data.series.length - 1 ? 3 : 1.5 },
        };
      }),
    });
    return chart;
  }

  function drawAll() {
    var charts = [];
    document.querySelectorAll('[data-chart="resilience-radar"]').forEach(function (element) {
      charts.push(drawRadar(element));
    });
    document.querySelectorAll('[data-chart="resilience-trend"]').forEach(function (element) {
      charts.push(drawTrend(element));
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) {
        if (chart) {
          chart.resize();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
