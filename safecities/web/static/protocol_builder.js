// Live validation of the request builder: on every change the form is checked by the server
// (the protocol schema's own messages, translated, with their JSON paths) without sending it.
(function () {
  "use strict";
  var form = document.getElementById("builder-form");
  if (!form) { return; }
  var box = document.getElementById("builder-errors");
  var body = document.getElementById("builder-errors-body");
  var timer = null;
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function check() {
    var data = new FormData(form);
    data.set("do", "check");
    fetch(form.dataset.check, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (res) {
        body.innerHTML = res.errors.map(function (e) {
          return '<tr class="violation"><td><code>' + esc(e.path) + "</code></td><td>" + esc(e.message) + "</td></tr>";
        }).join("");
        box.hidden = res.errors.length === 0;
        form.dataset.valid = String(res.valid);
      });
  }
  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
}());
