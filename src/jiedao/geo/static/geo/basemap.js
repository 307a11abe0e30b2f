/* The base map (底图) under every Leaflet map whose box carries data-base-map (written by the
   template tag base_map_config): the tile server's tiles when one is set, otherwise the
   street's own base map from this site — the communities, the roads with their names and the
   notable places — drawn as vector layers below the grids. Nothing is fetched from any other
   host. Load after leaflet.js and before the script that makes the map. */
(function () {
  "use strict";
  if (!window.L) { return; }

  var COLOURS = {
    light: { land: "#f6f3ec", community: "#a8a29e", street: "#78716c", casing: "#94a3b8", road: "#ffffff",
             mainCasing: "#c2410c", mainRoad: "#fcd34d" },
    dark: { land: "#111a2e", community: "#334155", street: "#475569", casing: "#0b1120", road: "#334155",
            mainCasing: "#0b1120", mainRoad: "#52627d" }
  };
  // Road widths in screen pixels (casing, then the road on it).
  var WIDTH = { main: [11, 7], minor: [7, 4] };
  // When names overlap, the first of this order stays: communities, main roads, the street's
  // offices, roads, then the other places.
  var PRIORITY = ["basemap-community-label", "basemap-main", "basemap-place-office", "basemap-place-hall",
                  "basemap-road-label", "basemap-place"];
  // Seen from farther than this zoom (a whole street on a phone, the cockpit's panel), only the
  // communities, the main roads and the street's offices are named.
  var NEAR_ZOOM = 14;

  function settings(box) {
    var raw = box && box.getAttribute("data-base-map");
    if (!raw) { return null; }
    try { return JSON.parse(raw); } catch (e) { return null; }
  }

  function latLng(pair) { return L.latLng(pair[1], pair[0]); }

  function label(at, text, className) {
    var span = document.createElement("span");
    span.textContent = text;
    return L.marker(at, {
      pane: "basemapLabels", interactive: false, keyboard: false,
      icon: L.divIcon({ className: "basemap-label " + className, html: span, iconSize: null })
    });
  }

  function place(feature) {
    var p = feature.properties;
    var span = document.createElement("span");
    var dot = document.createElement("i");
    dot.setAttribute("aria-hidden", "true");
    span.appendChild(dot);
    span.appendChild(document.createTextNode(p.name));
    span.title = p.kind_label || "";
    return L.marker(latLng(feature.geometry.coordinates), {
      pane: "basemapLabels", interactive: false, keyboard: false,
      icon: L.divIcon({ className: "basemap-label basemap-place basemap-place-" + p.kind, html: span, iconSize: null })
    });
  }

  function draw(map, data, dark) {
    var colours = dark ? COLOURS.dark : COLOURS.light;
    var renderer = L.svg({ pane: "basemap", padding: 0.5 });
    var layers = [];
    var labels = [];
    var counts = { roads: 0, labels: 0, places: 0, communities: 0 };
    function shape(feature, style) {
      layers.push(L.geoJSON(feature, { renderer: renderer, interactive: false, style: style }));
    }
    data.features.forEach(function (f) {
      var p = f.properties || {};
      if (p.layer === "community") {
        shape(f, { className: "basemap-community", color: colours.community, weight: 1, dashArray: "4 4",
                   fillColor: colours.land, fillOpacity: 1 });
        labels.push(label(latLng(p.label), p.name, "basemap-community-label"));
        counts.communities += 1;
      } else if (p.layer === "street") {
        shape(f, { className: "basemap-street", color: colours.street, weight: 2, dashArray: "10 4 2 4", fill: false });
      } else if (p.layer === "road") {
        var width = p.main ? WIDTH.main : WIDTH.minor;
        shape(f, { className: "basemap-road-casing", color: p.main ? colours.mainCasing : colours.casing,
                   weight: width[0], lineCap: "round", lineJoin: "round" });
        shape(f, { className: "basemap-road" + (p.main ? " basemap-road-main" : ""), color: p.main ? colours.mainRoad : colours.road,
                   weight: width[1], lineCap: "round", lineJoin: "round" });
        (p.labels || []).forEach(function (spot) {
          labels.push(label(latLng(spot.at), p.name, "basemap-road-label" + (p.main ? " basemap-main" : "") +
                                                     (spot.vertical ? " basemap-vertical" : "")));
          counts.labels += 1;
        });
        counts.roads += 1;
      } else if (p.layer === "place") {
        labels.push(place(f));
        counts.places += 1;
      }
    });
    layers.concat(labels).forEach(function (layer) { layer.addTo(map); });
    return counts;
  }

  function rank(element) {
    for (var i = 0; i < PRIORITY.length; i += 1) {
      if (L.DomUtil.hasClass(element, PRIORITY[i])) { return i; }
    }
    return PRIORITY.length;
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  // Names that would overlap a name of higher rank (or one placed before it) are hidden at this
  // zoom, so that what shows can be read: a street seen whole shows its communities and main
  // roads, closer in every road and place.
  function declutter(map) {
    var box = map.getContainer();
    L.DomUtil[map.getZoom() < NEAR_ZOOM ? "addClass" : "removeClass"](box, "basemap-far");
    var elements = Array.prototype.slice.call(map.getPane("basemapLabels").querySelectorAll(".basemap-label"));
    elements.forEach(function (e) { L.DomUtil.removeClass(e, "basemap-hidden"); });
    var boxes = elements.map(function (e, i) {
      return { element: e, rank: rank(e), order: i, rect: e.firstChild.getBoundingClientRect() };
    }).filter(function (b) { return b.rect.width > 0; });
    boxes.sort(function (a, b) { return a.rank - b.rank || a.order - b.order; });
    var kept = [];
    boxes.forEach(function (b) {
      var hit = kept.some(function (k) { return overlaps(k, b.rect); });
      if (hit) { L.DomUtil.addClass(b.element, "basemap-hidden"); } else { kept.push(b.rect); }
    });
    box.dataset.baseMapShown = String(kept.length);
  }

  L.Map.addInitHook(function () {
    var map = this;
    var box = map.getContainer();
    var config = settings(box);
    if (!config) { return; }
    if (map.options.maxZoom === undefined) { map.options.maxZoom = 19; }
    if (config.tiles) {
      if (config.attribution && !map.attributionControl) {
        map.attributionControl = L.control.attribution().addTo(map);
      }
      L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution || "" }).addTo(map);
      return;
    }
    if (!config.url || !window.fetch) { return; }
    map.createPane("basemap").style.zIndex = 250;  // above the (absent) tiles, below the grids
    map.createPane("basemapLabels").style.zIndex = 420;  // names above the grids' tint, below the case points
    L.DomUtil.addClass(box, "basemap" + (config.dark ? " basemap-dark" : ""));
    fetch(config.url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } }).then(function (r) {
      if (!r.ok) { throw new Error(config.url + " → " + r.status); }
      return r.json();
    }).then(function (data) {
      var counts = draw(map, data, config.dark);
      map.whenReady(function () {
        declutter(map);
        map.on("zoomend resize", function () { declutter(map); });
        box.dataset.baseMapRoads = String(counts.roads);
        box.dataset.baseMapLabels = String(counts.labels);
      });
    }).catch(function (error) {
      box.dataset.baseMapRoads = "0";
      if (window.console) { console.error(error); }
    });
  });
})();
