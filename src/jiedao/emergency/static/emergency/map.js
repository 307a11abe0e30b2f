// The emergency board's map: grid outlines, open emergencies (red) and devices (blue; orange while alerting).
(function () {
  var box = document.getElementById("emergency-map");
  if (!box || typeof L === "undefined") return;
  var map = L.map(box, { attributionControl: false, maxZoom: 18, zoomSnap: 0.25 });
  fetch(box.dataset.url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
    var layer = L.geoJSON(data, {
      style: function (feature) {
        return feature.properties.layer === "grid" ? { color: "#6b7280", weight: 1, fillOpacity: 0.05 } : {};
      },
      pointToLayer: function (feature, latlng) {
        var p = feature.properties;
        var colour = p.layer === "emergency" ? "#b91c1c" : (p.alerting ? "#ea580c" : "#1d4ed8");
        return L.circleMarker(latlng, { radius: p.layer === "emergency" ? 10 : 6, color: colour, fillColor: colour, fillOpacity: 0.8 });
      },
      onEachFeature: function (feature, marker) {
        var p = feature.properties;
        var text = document.createElement("div");
        if (p.layer === "grid") { text.textContent = p.title; marker.bindTooltip(text); return; }
        text.textContent = p.title + (p.status ? " · " + p.status : "") + (p.kind ? " · " + p.kind : "");
        marker.bindPopup(text);
      }
    }).addTo(map);
    if (layer.getLayers().length) { map.fitBounds(layer.getBounds().pad(0.05)); } else { map.setView([39.9, 116.4], 13); }
  });
})();
