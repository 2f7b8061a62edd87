// Hotspot layers on the shared map (safecitiesMap from map.js): Getis-Ord Gi* hot and cold cells
// from /api/hotspots/detect?geojson=true. No inline scripts: labels come from a JSON script tag.
(function () {
  "use strict";
  var m = window.safecitiesMap;
  var el = document.getElementById("map");
  if (!m || !el || typeof L === "undefined" || !el.dataset.detect) { return; }
  var labelsEl = document.getElementById("hotspots-labels");
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  var colours = { hot: "#b2182b", cold: "#2166ac", not_significant: "#d9d9d9" };

  m.get(el.dataset.detect).then(function (out) {
    var n = 0;
    var layer = L.geoJSON(out.geojson, {
      style: function (f) {
        var cls = f.properties.gi_class;
        var strong = cls !== "not_significant";
        return { color: strong ? colours[cls] : "#777", weight: strong ? 1 : 0.5,
          fillColor: colours[cls] || "#d9d9d9", fillOpacity: strong ? 0.55 : 0.25 };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        if (p.gi_class !== "not_significant") { n += 1; }
        var text = function () {
          var c = l.getBounds().getCenter(), where = m.placeOf(c.lat, c.lng), names = [];
          if (where.zone) { names.push(where.zone.name); }
          if (where.municipality) { names.push(where.municipality.name); }
          return (names.length ? m.esc(names.join(" · ")) + "<br>" : "") +
            m.esc(labels[p.gi_class] || p.gi_class) + " · " + m.esc(p.count) + " " +
            m.esc(labels.incidents || "") + " · z " + m.esc(m.num(p.gi_z, 3));
        };
        l.bindTooltip(text);
        if (el.dataset.planLink === "true" && p.gi_class === "hot") {
          l.bindPopup(function () {
            var c = l.getBounds().getCenter(), zone = m.placeOf(c.lat, c.lng).zone;
            return text() + (zone ? "<br>" + m.planLink(zone) : "");
          });
        }
      }
    });
    m.add("detect", layer, true, labels.detect, "<p>" + m.esc(labels.detect_units || "") + "</p><ul>" +
      m.legendRow("background:" + colours.hot, labels.hot) +
      m.legendRow("background:" + colours.cold, labels.cold) +
      m.legendRow("background:" + colours.not_significant, labels.not_significant) + "</ul>");
    el.dataset.detectShown = String(n);
  }).catch(function () { el.dataset.detectShown = "error"; });

  // Emerging hot and cold spots (space-time cube classes), off until chosen in the layer control.
  if (el.dataset.emerging) {
    m.get(el.dataset.emerging).then(function (out) {
      var layer = L.geoJSON(out.geojson, {
        style: function (f) {
          var cold = /_coldspot$/.test(f.properties.category);
          return { color: cold ? "#2166ac" : "#b2182b", weight: 1, dashArray: "4 3",
            fillColor: cold ? "#92c5de" : "#f4a582", fillOpacity: 0.5 };
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          var parts = String(p.category).split("_");
          var kind = parts[1] === "coldspot" ? labels.cold : labels.hot;
          l.bindTooltip(m.esc(labels[parts[0]] || parts[0]) + " · " + m.esc(kind) + " · " +
            m.esc(p.count) + " " + m.esc(labels.incidents || ""));
        }
      });
      m.add("emerging", layer, false, labels.emerging, "<p>" + m.esc(labels.emerging_units || "") + "</p><ul>" +
        m.legendRow("background:#f4a582;border:1px dashed #b2182b", labels.hot) +
        m.legendRow("background:#92c5de;border:1px dashed #2166ac", labels.cold) + "</ul>");
      el.dataset.emergingShown = String(out.geojson.features.length);
    }).catch(function () { el.dataset.emergingShown = "error"; });
  }
})();
