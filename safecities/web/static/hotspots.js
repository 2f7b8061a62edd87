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
        l.bindTooltip(m.esc(labels[p.gi_class] || p.gi_class) + " · " + m.esc(p.count) + " " +
          m.esc(labels.incidents || "") + " · z " + Number(p.gi_z).toFixed(2));
      }
    });
    m.add("detect", layer, true, labels.detect);
    el.dataset.detectShown = String(n);
  }).catch(function () { el.dataset.detectShown = "error"; });
})();
