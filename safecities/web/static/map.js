// Offline map of the city: Leaflet with the bundled GeoJSON layers only (no tile server, no CDN).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var labels = JSON.parse(document.getElementById("map-labels").textContent);
  var city = el.dataset.city;
  var map = L.map(el, { zoomControl: true, keyboard: true, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Statbel, STIB-MIVB, NMBS/SNCB (iRail)");
  var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  var loaded = {};

  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error(url + " " + r.status); }
      return r.json();
    });
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function add(key, layer, show, label) {
    loaded[key] = layer;
    control.addOverlay(layer, label || labels[key] || key);
    if (show) { layer.addTo(map); }
  }
  // Capability scripts loaded after this one (e.g. /static/cameras.js) add their own layers with
  // safecitiesMap.add(key, leafletLayer, show, translatedLabel) and fetch with safecitiesMap.get.
  window.safecitiesMap = { map: map, layers: loaded, add: add, get: get, esc: esc, labels: labels };

  var q = "?city=" + encodeURIComponent(city);
  get("/api/reference/municipalities" + q).then(function (gj) {
    var layer = L.geoJSON(gj, {
      style: { color: "#555", weight: 1, fillColor: "#ffffff", fillOpacity: 0.7 },
      onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name_fr) + " / " + esc(f.properties.name_nl)); }
    });
    add("municipalities", layer, true);
    map.fitBounds(layer.getBounds());
    layer.bringToBack();
    el.dataset.ready = "true";
  }).catch(function () { map.setView([50.846, 4.352], 12); el.dataset.ready = "true"; });

  get("/api/reference/metro-lines" + q).then(function (gj) {
    add("metro_lines", L.geoJSON(gj, { style: { color: "#0a7d3c", weight: 3 },
      onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.line)); } }), true);
  }).catch(function () {});

  get("/api/reference/zones" + q).then(function (gj) {
    add("zones", L.geoJSON(gj, { style: function (f) {
        return { color: f.properties.kind === "hotspot" ? "#a4001d" : "#7a4d00", weight: 2, fillOpacity: 0.15 };
      }, onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name)); } }), true);
  }).catch(function () {});

  get("/api/reference/stations" + q).then(function (gj) {
    add("stations", L.geoJSON(gj, { pointToLayer: function (f, ll) {
        return L.circleMarker(ll, { radius: 4, color: f.properties.kind === "metro" ? "#0a7d3c" : "#1f4e79", weight: 1, fillOpacity: 0.9 });
      }, onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name)); } }), true);
  }).catch(function () {});

  if (el.dataset.forecast) {
    get(el.dataset.forecast).then(function (fc) {
      var top = 0;
      fc.cells.features.forEach(function (f) { top = Math.max(top, f.properties.risk); });
      add("forecast", L.geoJSON(fc.cells, { style: function (f) {
          var a = top > 0 ? 0.15 + 0.6 * f.properties.risk / top : 0.2;
          return { color: "#7a4d00", weight: 0.5, fillColor: "#d95f02", fillOpacity: a };
        }, onEachFeature: function (f, l) { l.bindTooltip("#" + f.properties.rank + " · " + f.properties.risk.toFixed(3)); } }), true);
      el.dataset.forecastShown = String(fc.cells.features.length);
    }).catch(function () {});
  }

  if (el.dataset.patrols) {
    get(el.dataset.patrols).then(function (gj) {
      var feats = gj.features.filter(function (f) { return f.geometry; });
      add("patrols", L.geoJSON({ type: "FeatureCollection", features: feats }, { style: function (f) {
          var p = f.properties, teams = p.mixed + p.police_only + p.fipa;
          return { color: p.soldiers > 0 ? "#5b2a86" : "#1f4e79", weight: teams ? 3 : 1,
                   fillColor: p.soldiers > 0 ? "#8e6bbf" : "#6baed6", fillOpacity: teams ? 0.55 : 0.05 };
        }, onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindTooltip(esc(p.name) + " · " + labels.mixed + " " + p.mixed + " · " + labels.police_only + " " +
            p.police_only + (p.fipa ? " · FIPA " + p.fipa : "") + " · " + labels.police + " " + p.police +
            " · " + labels.soldiers + " " + p.soldiers);
        } }), true);
      var out = document.getElementById("patrols-summary");
      if (out) {
        out.textContent = gj.at.slice(0, 16).replace("T", " ") + " · " + labels.soldiers + " " +
          gj.soldiers_total + " / " + gj.soldier_cap + (gj.in_plan ? "" : " · " + labels.outside_plan);
      }
      el.dataset.patrolsShown = String(feats.length);
    }).catch(function () {});
  }

  if (el.dataset.cameras === "true") {
    get("/api/cameras/geojson").then(function (gj) {
      add("cameras", L.geoJSON(gj, { pointToLayer: function (f, ll) {
          return L.circleMarker(ll, { radius: 6, color: "#5b2a86", weight: 2, fillOpacity: 0.7 });
        }, onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.id) + " · " + esc(f.properties.status)); } }), true);
      el.dataset.camerasShown = String(gj.features.length);
    }).catch(function () {});
  }

  if (el.dataset.incidents === "true") {
    get("/api/incidents/geojson" + q).then(function (gj) {
      var feats = gj.features;
      var layer = L.layerGroup();
      add("incidents", layer, true);
      var slider = document.getElementById("time-slider");
      var out = document.getElementById("time-value");
      if (!feats.length) { if (out) { out.textContent = "–"; } return; }
      var t0 = feats[0].properties.t, t1 = feats[feats.length - 1].properties.t;
      function draw() {
        var limit = t0 + (t1 - t0) * Number(slider ? slider.value : 100) / 100;
        layer.clearLayers();
        var n = 0;
        feats.forEach(function (f) {
          if (f.properties.t > limit) { return; }
          n += 1;
          var c = f.geometry.coordinates;
          L.circleMarker([c[1], c[0]], { radius: 6, color: "#a4001d", weight: 1, fillOpacity: 0.8 })
            .bindTooltip(esc(f.properties.occurred_at.slice(0, 16).replace("T", " ")) + " · " + esc(f.properties.kind))
            .addTo(layer);
        });
        if (out) { out.textContent = new Date(limit).toISOString().slice(0, 10) + " (" + n + ")"; }
        el.dataset.incidentsShown = String(n);
      }
      if (slider) { slider.addEventListener("input", draw); }
      draw();
    }).catch(function () {});
  }
})();
