// Offline map of the city: Leaflet with the bundled GeoJSON layers only (no tile server, no CDN).
// Every layer has a legend entry with its units, names (zone, station, municipality, camera id) in
// tooltips and as labels when zoomed in, a search box that flies to a place, a scale bar, and zoom
// held to the city (maxBounds) and to level 18 (no tiles exist beyond the data's precision).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var labels = JSON.parse(document.getElementById("map-labels").textContent);
  var city = el.dataset.city;
  var lang = document.documentElement.lang || "en";
  var map = L.map(el, { zoomControl: true, keyboard: true, attributionControl: true,
    maxZoom: 18, minZoom: 9, maxBoundsViscosity: 1.0 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Statbel, STIB-MIVB, NMBS/SNCB (iRail)");
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
  var control = L.control.layers(null, null, { collapsed: false }).addTo(map);
  var loaded = {};
  var legends = {};
  var names = {};
  var LABEL_ZOOM = { municipalities: 13, zones: 15, stations: 15, cameras: 17 };

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
  function t(key, values) {  // a translated label with {name} placeholders filled in
    var s = labels[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split("{" + k + "}").join(values[k]); });
    return s;
  }
  function num(x, digits) {  // decimals in the page's language (1,5 in NL and FR)
    return new Intl.NumberFormat(lang, { maximumSignificantDigits: digits || 2 }).format(x);
  }
  function swatch(css) { return '<span class="map-swatch" style="' + css + '"></span>'; }
  function legendRow(css, text) { return "<li>" + swatch(css) + " " + esc(text) + "</li>"; }

  // --- legend: one block per layer shown, with its units (below the map: it hides no data and
  // is printed with it) --------------------------------------------------------------------------
  var legendDiv = document.createElement("div");
  legendDiv.id = "map-legend";
  legendDiv.className = "map-legend";
  legendDiv.setAttribute("aria-live", "polite");
  el.insertAdjacentElement("afterend", legendDiv);
  function drawLegend() {
    var div = document.getElementById("map-legend");
    if (!div) { return; }
    var shown = Object.keys(loaded).filter(function (k) { return legends[k] && map.hasLayer(loaded[k]); });
    div.innerHTML = shown.length ? '<p class="map-legend-title">' + esc(labels.legend) + "</p>" +
      shown.map(function (k) {
        return '<div class="map-legend-layer" data-layer="' + esc(k) + '"><p class="map-legend-name">' +
          esc(names[k]) + "</p>" + legends[k] + "</div>";
      }).join("") : "";
    div.hidden = !shown.length;
    el.dataset.legend = shown.join(" ");
  }
  map.on("overlayadd overlayremove", function () { drawLegend(); drawLabels(); });

  // --- names as labels when zoomed in -----------------------------------------------------------
  var named = {};   // layer key -> [{name, latlng}]
  var labelLayer = L.layerGroup().addTo(map);
  var viewSet = false;  // no bounds to test against before the map has its first view
  map.on("load", function () { viewSet = true; drawLabels(); });
  function drawLabels() {
    if (!viewSet) { return; }
    labelLayer.clearLayers();
    var z = map.getZoom(), view = map.getBounds().pad(0.2), n = 0;
    Object.keys(named).forEach(function (key) {
      if (z < LABEL_ZOOM[key] || !loaded[key] || !map.hasLayer(loaded[key])) { return; }
      if (key === "municipalities" && z >= LABEL_ZOOM.zones) { return; }  // zone names take over
      named[key].forEach(function (p) {
        if (!view.contains(p.latlng)) { return; }
        n += 1;
        L.marker(p.latlng, { interactive: false, keyboard: false, icon: L.divIcon({
          className: "map-label map-label-" + key, html: esc(p.name), iconSize: null }) }).addTo(labelLayer);
      });
    });
    el.dataset.labelsShown = String(n);
  }
  map.on("zoomend moveend", drawLabels);

  // --- places for the search box and for naming forecast cells -----------------------------------
  var places = [];  // {name, kind, layer}
  var polygons = { municipalities: [], zones: [] };  // {feature, name}
  function fold(s) {
    return String(s).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }
  function remember(key, name, layer, latlng, kind) {
    places.push({ name: name, key: fold(name), kind: kind || labels["place_" + key] || key, layer: layer });
    if (LABEL_ZOOM[key]) {
      (named[key] = named[key] || []).push({ name: name, latlng: latlng });
    }
  }
  function inRing(x, y, ring) {  // ray casting; written here because Leaflet has no point-in-polygon
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) { inside = !inside; }
    }
    return inside;
  }
  function contains(geom, lon, lat) {
    var polys = geom.type === "MultiPolygon" ? geom.coordinates : [geom.coordinates];
    return polys.some(function (rings) {
      return inRing(lon, lat, rings[0]) && !rings.slice(1).some(function (h) { return inRing(lon, lat, h); });
    });
  }
  function placeOf(lat, lon) {  // the zone and municipality around a point (either may be null)
    var out = { zone: null, municipality: null };
    polygons.zones.forEach(function (z) {
      if (!out.zone && contains(z.feature.geometry, lon, lat)) { out.zone = z; }
    });
    polygons.municipalities.forEach(function (m) {
      if (!out.municipality && contains(m.feature.geometry, lon, lat)) { out.municipality = m; }
    });
    return out;
  }
  function municipalityName(p) {  // both official names, the page's language first
    if (!p.name_nl || p.name_nl === p.name_fr) { return p.name_fr || p.name_nl || p.nis; }
    return lang === "nl" ? p.name_nl + " / " + p.name_fr : p.name_fr + " / " + p.name_nl;
  }
  function planLink(zone) {  // opens the patrol plan form with this zone preselected
    if (el.dataset.planLink !== "true" || !zone) { return ""; }
    return '<a class="plan-link" href="/patrols?zone=' + encodeURIComponent(zone.feature.properties.id) +
      '#plans-h">' + esc(t("plan_zone", { zone: zone.name })) + "</a>";
  }

  function add(key, layer, show, label, legendHtml) {
    loaded[key] = layer;
    names[key] = label || labels[key] || key;
    if (legendHtml) { legends[key] = legendHtml.indexOf("<li") === 0 ? "<ul>" + legendHtml + "</ul>" : legendHtml; }
    control.addOverlay(layer, names[key]);
    if (show) { layer.addTo(map); }
    drawLegend();
    drawLabels();
  }
  // Capability scripts loaded after this one (e.g. /static/cameras.js) add their own layers with
  // safecitiesMap.add(key, leafletLayer, show, translatedLabel, legendHtml) and fetch with get.
  window.safecitiesMap = { map: map, layers: loaded, add: add, get: get, esc: esc, labels: labels,
    legendRow: legendRow, num: num, placeOf: placeOf, planLink: planLink, t: t };

  var q = "?city=" + encodeURIComponent(city);
  get("/api/reference/municipalities" + q).then(function (gj) {
    var layer = L.geoJSON(gj, {
      style: { color: "#555", weight: 1, fillColor: "#ffffff", fillOpacity: 0.7 },
      onEachFeature: function (f, l) {
        var name = municipalityName(f.properties);
        l.bindTooltip(esc(name));
        polygons.municipalities.push({ feature: f, name: name });
        remember("municipalities", name, l, l.getBounds().getCenter());
      }
    });
    add("municipalities", layer, true, null,
      legendRow("border:1px solid #555;background:#fff", labels.legend_municipality));
    var bounds = layer.getBounds();
    map.fitBounds(bounds);
    map.setMaxBounds(bounds.pad(0.3));
    map.setMinZoom(Math.max(map.getBoundsZoom(bounds.pad(0.3)) - 1, 9));
    layer.bringToBack();
    el.dataset.ready = "true";
  }).catch(function () { map.setView([50.846, 4.352], 12); el.dataset.ready = "true"; });

  get("/api/reference/metro-lines" + q).then(function (gj) {
    add("metro_lines", L.geoJSON(gj, { style: { color: "#0a7d3c", weight: 3 },
      onEachFeature: function (f, l) { l.bindTooltip(esc(t("metro_line", { line: f.properties.line }))); } }),
      true, null, legendRow("height:3px;border:0;background:#0a7d3c", labels.legend_metro_line));
  }).catch(function () {});

  get("/api/reference/zones" + q).then(function (gj) {
    var kinds = { hotspot: "#a4001d", railway_priority: "#1f4e79" };
    add("zones", L.geoJSON(gj, { style: function (f) {
        return { color: kinds[f.properties.kind] || "#7a4d00", weight: 2, fillOpacity: 0.15 };
      }, onEachFeature: function (f, l) {
        var p = f.properties, z = { feature: f, name: p.name };
        polygons.zones.push(z);
        remember("zones", p.name, l, l.getBounds().getCenter());
        l.bindTooltip(esc(p.name) + (p.command_post ? " · " + esc(p.command_post) : ""));
        if (el.dataset.planLink === "true") {
          l.bindPopup(function () { return "<strong>" + esc(p.name) + "</strong><br>" + planLink(z); });
        }
      } }), true, null,
      legendRow("border:2px solid #a4001d", labels.legend_zone_hotspot) +
      legendRow("border:2px solid #1f4e79", labels.legend_zone_railway) +
      legendRow("border:2px solid #7a4d00", labels.legend_zone_patrol));
  }).catch(function () {});

  get("/api/reference/stations" + q).then(function (gj) {
    add("stations", L.geoJSON(gj, { pointToLayer: function (f, ll) {
        return L.circleMarker(ll, { radius: 4, color: f.properties.kind === "metro" ? "#0a7d3c" : "#1f4e79", weight: 1, fillOpacity: 0.9 });
      }, onEachFeature: function (f, l) {
        var p = f.properties;
        var kind = p.kind === "metro" ? labels.metro_station : labels.railway_station;
        l.bindTooltip(esc(p.name) + " · " + esc(kind));
        remember("stations", p.name, l, l.getLatLng(), kind);
        [p.name_nl, p.name_fr].forEach(function (alt) {  // both languages find the station
          if (alt && alt !== p.name) { places.push({ name: p.name, key: fold(alt), kind: kind, layer: l }); }
        });
      } }), true, null,
      legendRow("border-radius:50%;background:#0a7d3c", labels.metro_station) +
      legendRow("border-radius:50%;background:#1f4e79", labels.railway_station));
  }).catch(function () {});

  if (el.dataset.forecast) {
    get(el.dataset.forecast).then(function (fc) {
      var days = fc.horizon_days || 1;
      // Cells of zero risk are not drawn; five equal classes from the smallest positive risk up.
      var feats = fc.cells.features.filter(function (f) { return f.properties.risk > 0; });
      var perDay = feats.map(function (f) { return f.properties.risk / days; });
      var lo = Math.min.apply(null, perDay.concat([Infinity])), hi = Math.max.apply(null, perDay.concat([0]));
      var colours = ["#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"];
      function cls(v) { return hi > lo ? Math.min(4, Math.floor(5 * (v - lo) / (hi - lo))) : 4; }
      function cellText(f) {
        var p = f.properties, where = placeOf(p.lat, p.lon), parts = [];
        if (where.zone) { parts.push(where.zone.name); }
        if (where.municipality) { parts.push(where.municipality.name); }
        return (parts.length ? esc(parts.join(" · ")) + "<br>" : "") +
          esc(t("forecast_cell", { risk: num(p.risk / days), rank: p.rank }));
      }
      var layer = L.geoJSON({ type: "FeatureCollection", features: feats }, { style: function (f) {
          return { color: "#7a4d00", weight: 0.5, fillColor: colours[cls(f.properties.risk / days)], fillOpacity: 0.7 };
        }, onEachFeature: function (f, l) {
          l.bindTooltip(function () { return cellText(f); });
          if (el.dataset.planLink === "true") {
            l.bindPopup(function () {
              var where = placeOf(f.properties.lat, f.properties.lon);
              return cellText(f) + (where.zone ? "<br>" + planLink(where.zone) : "");
            });
          }
        } });
      var rows = "";
      if (hi > 0 && hi - lo > 1e-9 * hi) {
        rows = colours.map(function (c, k) {
          var a = lo + (hi - lo) * k / 5, b = lo + (hi - lo) * (k + 1) / 5;
          return legendRow("background:" + c, num(a, 3) + " – " + num(b, 3));
        }).join("");
      } else if (hi > 0) {  // every cell has the same risk: one class
        rows = legendRow("background:" + colours[4], num(hi, 3));
      }
      add("forecast", layer, true, null, "<p>" + esc(t("forecast_units", { size: fc.cell_size_m })) + "</p><ul>" +
        rows + "</ul><p>" + esc(t("forecast_not_drawn", { n: fc.cells.features.length - feats.length })) + "</p>");
      el.dataset.forecastShown = String(feats.length);
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
          var text = esc(p.name) + " · " + labels.mixed + " " + p.mixed + " · " + labels.police_only + " " +
            p.police_only + (p.fipa ? " · FIPA " + p.fipa : "") + " · " + labels.police + " " + p.police +
            " · " + labels.soldiers + " " + p.soldiers;
          l.bindTooltip(text);
          if (el.dataset.planLink === "true") {
            l.bindPopup(function () { return text + "<br>" + planLink({ feature: f, name: p.name }); });
          }
        } }), true, null, "<p>" + esc(labels.legend_patrols_units) + "</p><ul>" +
          legendRow("background:#8e6bbf;border:2px solid #5b2a86", labels.legend_patrols_soldiers) +
          legendRow("background:#6baed6;border:2px solid #1f4e79", labels.legend_patrols_police) +
          legendRow("border:1px solid #1f4e79", labels.legend_patrols_none) + "</ul>");
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
        }, onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindTooltip(esc(p.id) + " · " + esc(labels["status_" + p.status] || p.status));
          remember("cameras", String(p.id), l, l.getLatLng());
        } }), true, null, legendRow("border-radius:50%;background:#8e6bbf;border:2px solid #5b2a86", labels.legend_camera));
      el.dataset.camerasShown = String(gj.features.length);
    }).catch(function () {});
  }

  if (el.dataset.incidents === "true") {
    get("/api/incidents/geojson" + q).then(function (gj) {
      var feats = gj.features;
      var layer = L.layerGroup();
      add("incidents", layer, true, null, legendRow("border-radius:50%;background:#a4001d", labels.legend_incident));
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
            .bindTooltip(esc(f.properties.occurred_at.slice(0, 16).replace("T", " ")) + " · " +
              esc(labels["kind_" + f.properties.kind] || f.properties.kind))
            .addTo(layer);
        });
        if (out) { out.textContent = new Date(limit).toISOString().slice(0, 10) + " (" + n + ")"; }
        el.dataset.incidentsShown = String(n);
      }
      if (slider) { slider.addEventListener("input", draw); }
      draw();
    }).catch(function () {});
  }

  // --- search: station, zone, municipality or camera id; flies there and names it -------------
  var search = L.control({ position: "topleft" });
  search.onAdd = function () {
    var form = L.DomUtil.create("form", "map-search");
    form.setAttribute("role", "search");
    form.innerHTML = '<label for="map-search-q">' + esc(labels.search) + "</label>" +
      '<input id="map-search-q" name="q" list="map-search-list" autocomplete="off" maxlength="80">' +
      '<datalist id="map-search-list"></datalist><button type="submit">' + esc(labels.search_go) + "</button>" +
      '<output id="map-search-out" aria-live="polite"></output>';
    L.DomEvent.disableClickPropagation(form);
    L.DomEvent.disableScrollPropagation(form);
    // typing "+", "-" or arrows in the box must not zoom or pan the map
    L.DomEvent.on(form, "keydown keypress keyup", L.DomEvent.stopPropagation);
    L.DomEvent.on(form.querySelector("input"), "focus", function () {
      var list = form.querySelector("datalist");
      if (list.childElementCount) { return; }
      var seen = {};
      places.forEach(function (p) {
        if (seen[p.name]) { return; }
        seen[p.name] = true;
        var o = document.createElement("option");
        o.value = p.name;
        o.label = p.kind;
        list.appendChild(o);
      });
    });
    L.DomEvent.on(form, "submit", function (ev) {
      L.DomEvent.preventDefault(ev);
      var want = fold(form.querySelector("input").value);
      var out = form.querySelector("output");
      if (!want) { return; }
      var hit = places.filter(function (p) { return p.key === want; })[0] ||
        places.filter(function (p) { return p.key.indexOf(want) === 0; })[0] ||
        places.filter(function (p) { return p.key.indexOf(want) >= 0; })[0];
      if (!hit) {
        out.textContent = labels.search_none;
        el.dataset.searchFound = "";
        return;
      }
      // no animation: a flight could be cut short by a layer arriving meanwhile (and reduced
      // motion suits everyone reading a map)
      map.once("moveend", function () { if (hit.layer.openTooltip) { hit.layer.openTooltip(); } });
      if (hit.layer.getBounds) { map.fitBounds(hit.layer.getBounds(), { maxZoom: 16, animate: false }); }
      else { map.setView(hit.layer.getLatLng(), 17, { animate: false }); }
      out.textContent = hit.name + " (" + hit.kind + ")";
      el.dataset.searchFound = hit.name;
    });
    return form;
  };
  search.addTo(map);
})();
