// mailtrail dashboard, live events: an EventSource on the session's stream; new rows on top.
(function () {
  "use strict";
  var table = document.getElementById("live");
  if (!table || !window.EventSource) return;
  var rows = document.getElementById("live-rows");
  var status = document.getElementById("live-status");
  var typeSel = document.getElementById("live-type");
  var campaign = document.getElementById("live-campaign");
  var max = 200, es = null;
  // cell adds a cell; label names it on a phone, where the rows are cards.
  function cell(tr, text, cls, label) {
    var td = document.createElement("td");
    td.textContent = text || "—";
    if (cls) td.className = cls;
    td.setAttribute("data-label", label);
    tr.appendChild(td);
  }
  // Times in the organization's zone, as on the other pages (28 Nov 2026, 05:46:14).
  var tz = table.getAttribute("data-tz") || undefined;
  function when(t) {
    try {
      return t.toLocaleString("en-GB", { timeZone: tz, day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit" });
    } catch (e) { return t.toISOString(); }
  }
  function add(ev) {
    var waiting = rows.querySelector(".waiting");
    if (waiting) waiting.remove();
    var tr = document.createElement("tr");
    tr.setAttribute("data-type", ev.event_type);
    tr.setAttribute("data-campaign", ev.campaign_id || "");
    var t = new Date(ev.occurred_at);
    cell(tr, isNaN(t) ? ev.occurred_at : when(t), "nowrap", "Time");
    cell(tr, ev.event_type, "type-" + ev.event_type, "Type");
    cell(tr, ev.campaign_id, "", "Campaign");
    cell(tr, ev.customer_id, "", "Customer");
    cell(tr, ev.classification, "", "Classification");
    rows.insertBefore(tr, rows.firstChild);
    while (rows.children.length > max) rows.removeChild(rows.lastChild);
  }
  function waiting() {
    rows.textContent = "";
    var tr = document.createElement("tr"), td = document.createElement("td");
    tr.className = "waiting"; td.colSpan = 5; td.className = "empty";
    td.textContent = "No recent events. New ones appear here as they are recorded.";
    tr.appendChild(td); rows.appendChild(tr);
  }
  // open (re)connects with the filters; rows shown under other filters go.
  function open() {
    if (es) { es.close(); waiting(); }
    var q = ["recent=" + (table.getAttribute("data-recent") || "50")], url = table.getAttribute("data-stream");
    if (typeSel.value) q.push("type=" + encodeURIComponent(typeSel.value));
    if (campaign.value.trim()) q.push("campaign_id=" + encodeURIComponent(campaign.value.trim()));
    url += "?" + q.join("&");
    es = new EventSource(url);
    status.textContent = "Connecting…";
    es.onopen = function () { status.textContent = "Live"; };
    es.onerror = function () { status.textContent = "Reconnecting…"; };
    es.onmessage = function (m) {
      try { add(JSON.parse(m.data)); } catch (e) { /* not an event */ }
    };
  }
  typeSel.addEventListener("change", open);
  campaign.addEventListener("change", open);
  document.getElementById("live-filter").addEventListener("submit", function (e) { e.preventDefault(); });
  open();
})();
