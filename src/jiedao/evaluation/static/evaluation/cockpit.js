/* 驾驶舱: every figure is fetched from the evaluation API (the same selectors as the API
   documents), drawn with ECharts, and links to the records behind it. In the large-screen
   mode the page refreshes its data every minute. */
(function () {
  "use strict";

  // A district user looks at one street at a time: every request and link carries it.
  var streetCode = "";

  function withStreet(url) {
    if (!streetCode || !url || url.indexOf("street=") >= 0) { return url; }
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "street=" + encodeURIComponent(streetCode);
  }

  function getJSON(url) {
    url = withStreet(url);
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " → " + r.status); }
      return r.json();
    });
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text != null) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function pct(v) { return v == null ? "—" : (v * 100).toFixed(1) + "%"; }

  // "%(first)s 至 %(last)s" with its values: the labels come translated from the page.
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (m, key) { return values[key] == null ? "" : values[key]; });
  }

  function hhmm(iso) {
    return new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, hour: "2-digit", minute: "2-digit" });
  }

  function start() {
    var root = document.getElementById("cockpit");
    if (!root) { return; }
    var config = JSON.parse(root.dataset.cockpitConfig);
    streetCode = config.street || "";
    var labels = config.labels;
    var dark = config.screen;
    var status = root.querySelector("[data-status]");
    var charts = {};

    // Every figure says whether it is live (实时, as of a time) or of a period (本月, 2026-12 …).
    function note(name, text) {
      root.querySelectorAll('[data-note="' + name + '"]').forEach(function (n) { n.textContent = text; });
    }

    function chart(name) {
      if (!window.echarts) { return null; }
      if (!charts[name]) {
        var box = root.querySelector('[data-chart="' + name + '"]');
        if (!box) { return null; }
        charts[name] = window.echarts.init(box, dark ? "dark" : null, { renderer: "canvas" });
        charts[name].on("click", function (p) {
          var url = p.data && p.data.url;
          if (url) { window.location.href = withStreet(url); }
        });
      }
      return charts[name];
    }

    function live() {
      return getJSON(config.live).then(function (data) {
        note("live", data.as_of);
        note("month", data.period_label);
        data.counters.forEach(function (c) {
          var a = root.querySelector('[data-counter="' + c.key + '"]');
          if (a) { a.querySelector(".counter-value").textContent = c.value; a.href = withStreet(c.url); }
        });
        data.rates.forEach(function (r) {
          var a = root.querySelector('[data-rate="' + r.code + '"]');
          if (a) { a.querySelector(".counter-value").textContent = r.display; a.href = withStreet(r.url); }
        });
      });
    }

    function rates() {
      var codes = ["response_rate", "resolution_rate", "satisfaction_rate"];
      var names = [labels.response, labels.resolution, labels.satisfaction];
      return Promise.all(codes.map(function (code) {
        return getJSON(config.values.replace("CODE", code) + "?scope=street&period=month&last=12");
      })).then(function (all) {
        var periods = all[0].periods;
        note("rates", fill(labels.months, { first: periods[0], last: periods[periods.length - 1] }));
        var c = chart("rates");
        if (!c) { return; }
        c.setOption({
          tooltip: { trigger: "axis", valueFormatter: pct }, legend: { top: 0 },
          grid: { left: 50, right: 20, top: 30, bottom: 30 },
          xAxis: { type: "category", data: periods },
          yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: function (v) { return v * 100 + "%"; } } },
          series: all.map(function (d, i) {
            var byKey = {};
            d.values.forEach(function (v) { byKey[v.period_key] = v.value; });
            return { name: names[i], type: "line", smooth: true, data: periods.map(function (p) {
              return { value: byKey[p] == null ? null : byKey[p], url: config.indicator.replace("CODE", codes[i]) + "?period=" + p };
            }) };
          })
        });
      });
    }

    function daily() {
      return getJSON(config.trend + "?days=30").then(function (rows) {
        if (rows.length) { note("daily", fill(labels.days, { first: rows[0].day, last: rows[rows.length - 1].day })); }
        var c = chart("daily");
        if (!c) { return; }
        c.setOption({
          tooltip: { trigger: "axis" }, grid: { left: 40, right: 10, top: 20, bottom: 30 },
          xAxis: { type: "category", data: rows.map(function (r) { return r.day.slice(5); }) },
          yAxis: { type: "value", name: labels.cases },
          series: [{ type: "bar", data: rows.map(function (r) { return { value: r.count, url: config.records + "?since=" + r.day + "&until=" + r.day }; }) }]
        });
      });
    }

    function ranking() {
      return getJSON(config.rankings + "?scope=community&scheme=" + encodeURIComponent(config.scheme)).then(function (data) {
        var rows = data.rows.slice().reverse();
        note("ranking", fill(labels.thisMonth, { period: data.period }));
        var c = chart("ranking");
        if (!c) { return; }
        c.setOption({
          tooltip: {}, grid: { left: 90, right: 30, top: 10, bottom: 20 },
          xAxis: { type: "value", min: 0, max: 100, name: labels.score },
          yAxis: { type: "category", data: rows.map(function (r) { return r.scope_name; }) },
          series: [{ type: "bar", label: { show: true, position: "right" }, data: rows.map(function (r) {
            return { value: r.score, url: config.rankingPage + "?scope=community&scheme=" + encodeURIComponent(data.scheme.code) + "&period=" + data.period };
          }) }]
        });
      });
    }

    function categories() {
      return getJSON(config.categories).then(function (data) {
        note("categories", fill(labels.thisMonth, { period: data.period }));
        var c = chart("categories");
        if (!c) { return; }
        c.setOption({
          tooltip: { trigger: "item" },
          series: [{ type: "pie", radius: ["35%", "70%"], data: data.categories.map(function (r) {
            return { name: r.name, value: r.count, url: r.url };
          }) }]
        });
      });
    }

    function lists() {
      var hot = root.querySelector('[data-list="hot"]');
      var warn = root.querySelector('[data-list="warnings"]');
      return Promise.all([getJSON(config.hot), getJSON(config.warnings)]).then(function (res) {
        hot.textContent = "";
        if (res[0].computed_at) { note("hot", fill(labels.hotWindow, { time: hhmm(res[0].computed_at) })); }
        if (!res[0].issues.length) { hot.appendChild(el("li", res[0].available ? labels.noHot : labels.hotMissing, { "class": "empty" })); }
        res[0].issues.forEach(function (i) {
          var li = el("li"); var a = el("a", i.title, { href: i.url });
          li.appendChild(a); li.appendChild(el("span", " " + i.count + labels.cases + (i.community ? " · " + i.community : ""), { "class": "small" }));
          hot.appendChild(li);
        });
        if (res[0].stale && res[0].computed_at) {
          hot.appendChild(el("li", labels.hotAsOf + " " + new Date(res[0].computed_at).toLocaleString("zh-CN", { hour12: false }),
                             { "class": "empty small", "data-stale": "1" }));
        }
        warn.textContent = "";
        if (!res[1].length) { warn.appendChild(el("li", labels.noWarnings, { "class": "empty" })); }
        res[1].slice(0, 8).forEach(function (w) {
          var li = el("li", null, { "class": "warning warning-" + w.level });
          li.appendChild(el("span", w.level_label, { "class": "lamp lamp-" + w.level }));
          li.appendChild(w.url ? el("a", " " + w.title, { href: w.url }) : el("span", " " + w.title));
          warn.appendChild(li);
        });
      });
    }

    var heatLayer = null;
    function map() {
      var box = root.querySelector("[data-map]");
      if (!box || !config.heat || !window.L) { if (box) { box.parentNode.hidden = true; } return Promise.resolve(); }
      if (!box._map) {
        box._map = L.map(box, { zoomControl: false, attributionControl: false, preferCanvas: true });
        box._map.setView([39.92, 116.45], 14);
        getJSON(config.grids).then(function (g) {
          var layer = L.geoJSON(g, { style: function (f) { return { color: f.properties.colour, weight: 1, fillOpacity: 0.08 }; },
            onEachFeature: function (f, l) { l.on("click", function () { window.location.href = f.properties.url; }); } }).addTo(box._map);
          if (g.features.length) { box._map.fitBounds(layer.getBounds()); }
        });
      }
      return getJSON(config.heat).then(function (data) {
        note("heat", fill(labels.heat, { days: data.days }));
        if (heatLayer) { box._map.removeLayer(heatLayer); }
        if (L.heatLayer) { heatLayer = L.heatLayer(data.points, { radius: 18, blur: 15, minOpacity: 0.3, max: Math.max(1, data.max || 1) }).addTo(box._map); }
      });
    }

    function clock() {
      var c = document.querySelector("[data-clock]");
      if (c) { c.textContent = new Date().toLocaleString("zh-CN", { hour12: false }); }
    }

    // Each panel on its own: one that cannot load (say, no scoring scheme for the rankings)
    // says so in its place, and the others still show.
    function panel(name, load) {
      return load().then(function () { return true; }, function (e) {
        if (window.console) { console.error(e); }
        var box = document.querySelector("[data-chart='" + name + "']");
        if (box && !box.querySelector("canvas")) { box.textContent = labels.error; }
        return false;
      });
    }

    function refresh() {
      return Promise.all([panel("live", live), panel("rates", rates), panel("daily", daily),
                          panel("ranking", ranking), panel("categories", categories), panel("lists", lists),
                          panel("map", map)]).then(function (done) {
        var allWell = done.every(Boolean);
        status.textContent = allWell ? labels.updated + " " + new Date().toLocaleTimeString("zh-CN", { hour12: false })
                                     : labels.error;
        root.dataset.loaded = "1";
      });
    }

    refresh();
    window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
    if (config.refresh) {
      setInterval(refresh, config.refresh * 1000);
      setInterval(clock, 1000);
      clock();
    }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
