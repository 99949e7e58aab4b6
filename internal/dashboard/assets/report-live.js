// mailtrail dashboard, a campaign's report while one watches: it follows the session's
// event stream, filtered to the campaign; when the campaign's events arrive it fetches the
// same report again (at most once every 5 seconds, never while the page is hidden) and
// swaps the regions marked data-live in place, by id. The page works without it.
(function () {
  "use strict";
  var note = document.getElementById("report-live");
  if (!note || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var every = 5000;
  var campaign = note.getAttribute("data-campaign") || "";
  var tz = note.getAttribute("data-tz") || undefined;
  // last: when the page shown was fetched (its load counts); pending: events came since
  // (data-pending on the indicator, with data-updates counting the swaps, for tests).
  var last = Date.now(), timer = null, pending = false, busy = false, updated = "", updates = 0, es;
  function setPending(v) { pending = v; note.setAttribute("data-pending", v ? "true" : "false"); }

  // The time of the last update, in the organization's zone as the report's other times.
  function clock(d) {
    try {
      return d.toLocaleTimeString("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit" });
    } catch (e) { return d.toLocaleTimeString(); }
  }
  function say(state) { note.textContent = state + (updated ? " · updated " + updated : ""); }

  // changed notes that the campaign has new events and plans one refresh: at once if the
  // last one is 5 seconds old, else when it will be; a hidden page waits to be seen.
  function changed() {
    setPending(true);
    if (timer || busy || document.visibilityState === "hidden") return;
    timer = setTimeout(refresh, Math.max(0, last + every - Date.now()));
  }

  function refresh() {
    timer = null;
    if (document.visibilityState === "hidden") return; // visibilitychange calls changed
    setPending(false);
    busy = true;
    last = Date.now();
    fetch(location.pathname + location.search, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (r) {
        // An ended session answers with the sign-in page (a redirect): stop there.
        if (r.redirected) { es.close(); throw new Error("signed out"); }
        if (!r.ok) throw new Error("report " + r.status);
        return r.text();
      })
      .then(function (html) {
        swap(new DOMParser().parseFromString(html, "text/html"));
        updated = clock(new Date());
        note.setAttribute("data-updates", String(++updates));
        say("Live");
      })
      .catch(function () {
        note.textContent = es.readyState === EventSource.CLOSED ? "Not live · reload the page" : "Live · could not update, trying again with the next event";
      })
      .then(function () {
        busy = false;
        if (pending) changed();
      });
  }

  // charts remembers, per chart, the period tapped and whether its table is open.
  function charts() {
    var out = {};
    document.querySelectorAll("[data-live] figure.chart[id]").forEach(function (f) {
      var hits = Array.prototype.slice.call(f.querySelectorAll(".hit"));
      var d = f.querySelector("details");
      out[f.id] = { on: hits.indexOf(f.querySelector(".hit.on")), open: !!(d && d.open) };
    });
    return out;
  }
  function restoreCharts(was) {
    Object.keys(was).forEach(function (id) {
      var f = document.getElementById(id);
      if (!f) return;
      var d = f.querySelector("details"), hit = f.querySelectorAll(".hit")[was[id].on], out = f.querySelector(".chart-readout");
      if (d && was[id].open) d.open = true;
      if (hit && out) { hit.classList.add("on"); out.textContent = hit.getAttribute("data-tip"); }
    });
  }

  // swap replaces each live region with its namesake in doc; the element that had focus
  // gets it back (same id, else same link). Chart hover and tap, and every link and form
  // of the regions, are handled by app.js at the document, so nothing needs binding again.
  function swap(doc) {
    if (!doc.getElementById("kpis")) throw new Error("not a report");
    var was = charts(), active = document.activeElement, focus = null;
    document.querySelectorAll("[data-live][id]").forEach(function (old) {
      var fresh = doc.getElementById(old.id);
      if (!fresh) return;
      if (active && active !== document.body && old.contains(active)) {
        focus = active.id ? "#" + CSS.escape(active.id) : active.getAttribute("href") !== null ? 'a[href="' + CSS.escape(active.getAttribute("href")) + '"]' : null;
        focus = focus && { region: old.id, sel: focus };
      }
      old.replaceWith(document.importNode(fresh, true));
    });
    restoreCharts(was);
    if (focus) {
      var region = document.getElementById(focus.region), el = region && region.querySelector(focus.sel);
      if (el) el.focus({ preventScroll: true });
    }
    // New days widen the range form's bounds.
    ["range-from", "range-to"].forEach(function (id) {
      var o = document.getElementById(id), n = doc.getElementById(id);
      if (o && n) { o.min = n.min; o.max = n.max; }
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && pending) changed();
  });
  note.hidden = false;
  note.textContent = "Connecting…";
  // The stream starts at the events committed from now on; after a dropped connection the
  // browser resumes it with Last-Event-ID, so no event between is missed.
  es = new EventSource(note.getAttribute("data-stream"));
  es.onopen = function () { say("Live"); };
  es.onerror = function () {
    note.textContent = es.readyState === EventSource.CLOSED ? "Not live · reload the page" : "Reconnecting…";
  };
  es.onmessage = function (m) {
    var ev;
    try { ev = JSON.parse(m.data); } catch (e) { return; }
    if (campaign && ev.campaign_id !== campaign) return; // the stream filters; this is a guard
    changed();
  };
})();
