// mailtrail dashboard: small progressive enhancements; every page works without it.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // mt.post sends a same-origin POST carrying the session's CSRF token in a header.
  window.mt = {
    post: function (url, body) {
      return fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": meta ? meta.content : "", "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body)
      });
    }
  };
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy]");
    if (!b || !navigator.clipboard) return;
    navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
      var t = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = t; }, 1200);
    });
  });
  // Charts: pointing at a period (or tapping it on a phone) writes its figures under the
  // chart, where screen readers hear them too (aria-live).
  function readout(hit) {
    var fig = hit.closest(".chart"), out = fig && fig.querySelector(".chart-readout");
    if (!out) return;
    fig.querySelectorAll(".hit.on").forEach(function (h) { h.classList.remove("on"); });
    hit.classList.add("on");
    out.textContent = hit.getAttribute("data-tip");
  }
  document.addEventListener("pointerover", function (e) {
    var hit = e.target.closest && e.target.closest(".chart .hit");
    if (hit) readout(hit);
  });
  document.addEventListener("click", function (e) {
    var hit = e.target.closest && e.target.closest(".chart .hit");
    if (hit) readout(hit);
  });
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { e.preventDefault(); return; }
    // A long form (a CSV import) shows that it is working and is not sent twice.
    var busy = e.target.getAttribute("data-busy"), btn = e.target.querySelector("button[type=submit]");
    if (busy && btn) { btn.disabled = true; btn.textContent = busy; }
  });
})();
