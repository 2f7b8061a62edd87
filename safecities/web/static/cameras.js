// Camera layers on the shared map (safecitiesMap from map.js): coverage sectors on /cameras, the
// planner's chosen sites on /cameras/plan. No inline scripts: data comes from JSON script tags.
(function () {
  "use strict";
  var m = window.safecitiesMap;
  var el = document.getElementById("map");
  if (!m || !el || typeof L === "undefined") { return; }
  var labelsEl = document.getElementById("cameras-labels");
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  var esc = m.esc;

  if (el.dataset.coverageUrl) {
    m.get(el.dataset.coverageUrl).then(function (gj) {
      var fov = gj.features.filter(function (f) { return f.properties.layer === "camera_fov"; });
      var layer = L.geoJSON({ type: "FeatureCollection", features: fov }, {
        style: { color: "#5b2a86", weight: 1, fillColor: "#8e63b5", fillOpacity: 0.35 },
        onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.id)); }
      });
      m.add("coverage", layer, true, labels.coverage,
        m.legendRow("background:#8e63b5;border:1px solid #5b2a86", labels.coverage));
      el.dataset.coverageShown = String(fov.length);
    }).catch(function () { el.dataset.coverageShown = "error"; });
  }

  var chosenEl = document.getElementById("plan-chosen");
  if (chosenEl) {
    var gj = JSON.parse(chosenEl.textContent);
    var layer = L.geoJSON(gj, {
      pointToLayer: function (f, ll) {
        var connect = f.properties.action === "connect";
        return L.circleMarker(ll, { radius: 7, color: connect ? "#7a4d00" : "#0a5f2c", weight: 2,
          fillColor: connect ? "#f0a202" : "#2ca25f", fillOpacity: 0.9 });
      },
      onEachFeature: function (f, l) {
        l.bindTooltip(esc(f.properties.site_id) + " · " + esc(Math.round(f.properties.cost)) + " €");
      }
    });
    m.add("chosen", layer, true, labels.chosen,
      m.legendRow("border-radius:50%;background:#2ca25f;border:2px solid #0a5f2c", labels.chosen_new || labels.chosen) +
      m.legendRow("border-radius:50%;background:#f0a202;border:2px solid #7a4d00", labels.chosen_connect || labels.chosen));
    el.dataset.chosenShown = String(gj.features.length);
  }
})();
