// The dashboard's only script: it keeps the overview's counts fresh and asks before destructive forms.
// Served as a file, so the Content-Security-Policy can forbid inline script.
"use strict";

document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});

function format(el, n) {
  el.textContent = el.getAttribute("data-format").replace("%d", String(n));
}

function refresh() {
  fetch("/api/overview", { headers: { Accept: "application/json" }, cache: "no-store" })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(function (data) {
      document.querySelectorAll("[data-live=failed]").forEach(function (el) { format(el, data.failed); });
      document.querySelectorAll("[data-live=bridges]").forEach(function (el) { format(el, data.bridges); });
      data.queues.forEach(function (q) {
        var row = document.querySelector('tr[data-queue="' + CSS.escape(q.name) + '"]');
        if (!row) { return; }
        ["ready", "delayed", "reserved", "failed"].forEach(function (f) {
          var cell = row.querySelector("[data-field=" + f + "]");
          if (cell) { cell.textContent = String(q[f]); }
        });
        var p = row.querySelector("[data-field=paused]");
        if (p) { p.textContent = p.getAttribute(q.paused ? "data-paused" : "data-working"); }
      });
      document.body.setAttribute("data-refreshed", String(Date.now()));
    })
    .catch(function () { /* the next poll tries again */ });
}

if (document.querySelector("[data-live]")) {
  window.setInterval(refresh, 3000);
}
