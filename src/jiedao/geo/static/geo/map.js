/* 一图统览: grid boundaries, open cases, the 30-day heat layer and (for authorised
   roles) the special-care layer, all read from the geo API with the page's session, over
   the base map of geo/basemap.js. */
(function () {
  "use strict";

  function escapeHtml(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " → " + r.status); }
      return r.json();
    });
  }

  function start() {
    var box = document.getElementById("map");
    if (!box || !window.L) { return; }
    var config = JSON.parse(box.dataset.mapConfig);
    var labels = config.labels;
    var status = document.querySelector("[data-map-status]");
    // The tiles, or the street's own base map, come from geo/basemap.js (the box's data-base-map).
    var map = L.map(box, { zoomControl: true, preferCanvas: true, attributionControl: !!config.tiles });
    map.setView([39.92, 116.45], 14);
    // Points above the heat layer (which lives in the overlay pane), so that their colour stays true.
    map.createPane("points").style.zIndex = 450;
    var overlays = {};
    var control = L.control.layers(null, overlays, { collapsed: false }).addTo(map);

    var grids = L.geoJSON(null, {
      style: function (f) {
        return { color: f.properties.colour, weight: 2, fillColor: f.properties.colour, fillOpacity: 0.18 };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(escapeHtml(p.community_name + " " + p.name), { sticky: true });
        layer.bindPopup("<strong>" + escapeHtml(p.community_name + " " + p.name) + "</strong><br>" +
          escapeHtml(labels.grid) + " <span class=\"mono\">" + escapeHtml(p.code) + "</span><br>" +
          escapeHtml(labels.open_cases) + ": " + p.open_cases +
          "<br><a href=\"" + encodeURI(p.url) + "\">" + escapeHtml(labels.grid) + " →</a>");
      }
    }).addTo(map);
    control.addOverlay(grids, labels.grids);

    var cases = L.geoJSON(null, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { pane: "points", radius: 7, color: "#111", weight: 1,
          fillColor: f.properties.colour, fillOpacity: 0.95 });
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindPopup("<strong class=\"mono\">" + escapeHtml(p.number) + "</strong> " +
          escapeHtml(p.status_label) + " · " + escapeHtml(p.urgency_label) + "<br>" +
          escapeHtml(p.category) + "<br>" + escapeHtml(p.summary) +
          "<br><a class=\"btn btn-primary\" data-case-link href=\"" + encodeURI(p.url) + "\">" +
          escapeHtml(labels.open) + "</a>");
      }
    }).addTo(map);
    control.addOverlay(cases, labels.cases);

    var heat = window.L.heatLayer ? L.heatLayer([], { radius: 20, blur: 18, maxZoom: 17, minOpacity: 0.3 }) : null;
    if (heat) { control.addOverlay(heat, labels.heat); }

    var care = null;
    if (config.care) {
      care = L.geoJSON(null, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { pane: "points", radius: 6, color: "#581c87", weight: 1,
            fillColor: "#9333ea", fillOpacity: 0.9 });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindPopup("<strong>" + escapeHtml(p.building) + "</strong><br>" +
            escapeHtml((p.tags || []).join("、")) + "<br>" + escapeHtml(labels.households) + ": " + p.count);
        }
      });
      control.addOverlay(care, labels.care);
    }

    function failed(error) {
      if (status) { status.textContent = labels.error; }
      if (window.console) { console.error(error); }
    }

    getJSON(config.grids).then(function (data) {
      grids.addData(data);
      var bounds = grids.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10] }); }
      box.dataset.gridsLoaded = String(data.features.length);
    }).catch(failed);
    getJSON(config.cases).then(function (data) {
      cases.addData(data);
      box.dataset.casesLoaded = String(data.features.length);
    }).catch(failed);
    if (heat) {
      getJSON(config.heat).then(function (data) {
        // One point per map cell, weighted by its cases; the busiest cells (the API's max) at full colour.
        heat.setOptions({ max: Math.max(1, data.max || 1) });
        heat.setLatLngs(data.points);
        box.dataset.heatLoaded = String(data.points.length);
      }).catch(failed);
    }
    if (care) {
      getJSON(config.care).then(function (data) {
        care.addData(data);
        box.dataset.careLoaded = String(data.features.length);
      }).catch(failed);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
