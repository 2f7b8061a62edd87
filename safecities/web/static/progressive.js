// The page behind a "computing the latest figures" shell (safecities/web/warmup.py): fetch it in
// full, then put its head styles, title and body in place and run its scripts in order (scripts
// inserted as HTML do not run by themselves). On any failure, load the full page normally.
(function () {
  "use strict";
  var el = document.getElementById("progressive");
  if (!el) { return; }
  function fallback() { window.location.replace(el.dataset.fallback); }
  fetch(el.dataset.src, { credentials: "same-origin", headers: { "X-Safecities-Full": "1" } })
    .then(function (r) {
      if (r.redirected) { window.location.replace(r.url); return null; }  // e.g. signed out
      return r.text();
    })
    .then(function (text) {
      if (text === null) { return; }
      var doc = new DOMParser().parseFromString(text, "text/html");
      document.title = doc.title;
      doc.head.querySelectorAll('link[rel="stylesheet"]').forEach(function (l) {
        if (!document.querySelector('link[rel="stylesheet"][href="' + l.getAttribute("href") + '"]')) {
          document.head.appendChild(document.importNode(l, true));
        }
      });
      var scripts = Array.prototype.slice.call(doc.body.querySelectorAll("script[src]"));
      scripts.forEach(function (s) { s.parentNode.removeChild(s); });
      document.body.replaceWith(document.importNode(doc.body, true));
      (function next(i) {
        if (i >= scripts.length) { return; }
        var s = document.createElement("script");
        s.src = scripts[i].getAttribute("src");
        s.onload = s.onerror = function () { next(i + 1); };
        document.body.appendChild(s);
      })(0);
    })
    .catch(fallback);
})();
