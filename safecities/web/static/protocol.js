// The zones of one protocol request on an offline map (no tiles): soldiers admitted in red,
// police-only zones in blue, each with its name, command post and why soldiers are admitted.
(function () {
  "use strict";
  var el = document.getElementById("protocol-map");
  if (!el || typeof L === "undefined") { return; }
  var labels = JSON.parse(document.getElementById("protocol-labels").textContent);
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  var map = L.map(el, { keyboard: true, maxZoom: 18 });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);
  fetch(el.dataset.zones, { credentials: "same-origin" }).then(function (r) { return r.json(); })
    .then(function (gj) {
      var layer = L.geoJSON(gj, {
        style: function (f) {
          var s = f.properties.soldiers_allowed;
          return { color: s ? "#b30000" : "#1f4e99", weight: 2, fillOpacity: 0.25 };
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindTooltip("<strong>" + esc(p.name) + "</strong><br>" + esc(p.command_post) + "<br>" +
            esc(p.soldiers_allowed ? labels.soldiers + ": " + p.soldiers_why : labels.police));
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [20, 20] }); }
      var legend = L.control({ position: "bottomright" });
      legend.onAdd = function () {
        var d = L.DomUtil.create("div", "legend");
        d.innerHTML = "<strong>" + esc(labels.legend) + "</strong><br>" +
          '<span class="swatch" style="background:#b30000"></span> ' + esc(labels.soldiers) + "<br>" +
          '<span class="swatch" style="background:#1f4e99"></span> ' + esc(labels.police);
        return d;
      };
      legend.addTo(map);
      el.dataset.loaded = String(layer.getLayers().length);
    });
}());
