/* An indicator's trend for the street, read from GET /api/v1/indicators/{code}/values. */
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("trend");
    if (!box || !window.echarts) { return; }
    var config = JSON.parse(box.dataset.indicatorConfig);
    var url = config.values + "?scope=" + encodeURIComponent(config.scope) + "&period=" + config.kind + "&last=12";
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.ok ? r.json() : Promise.reject(new Error(String(r.status)));
    }).then(function (data) {
      var byKey = {};
      data.values.forEach(function (v) { if (!v.scope_code || config.scope === "street") { byKey[v.period_key] = v.value; } });
      var chart = window.echarts.init(box);
      chart.setOption({
        tooltip: { trigger: "axis" }, grid: { left: 50, right: 20, top: 20, bottom: 30 },
        xAxis: { type: "category", data: data.periods },
        yAxis: { type: "value", axisLabel: { formatter: function (v) { return config.rate ? (v * 100).toFixed(0) + "%" : v; } } },
        series: [{ name: config.name, type: "line", smooth: true, data: data.periods.map(function (p) { return byKey[p] == null ? null : byKey[p]; }) }]
      });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
