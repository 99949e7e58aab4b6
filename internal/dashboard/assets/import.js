// mailtrail dashboard, suppression CSV import: the upload's progress in the form, then the
// import's progress on its page. Without it the form posts and the page refreshes itself.
(function () {
  "use strict";

  // The form: sent with XMLHttpRequest to show how much is uploaded, then on to the
  // import's page (where the 303 led).
  var form = document.querySelector("form[data-upload]");
  if (form && window.FormData && window.XMLHttpRequest) {
    var box = document.getElementById("upload"), bar = document.getElementById("upload-progress");
    var state = document.getElementById("upload-state"), alert = document.getElementById("upload-error");
    var btn = form.querySelector("button[type=submit]"), label = btn.textContent;
    var fail = function (msg) {
      box.hidden = true;
      alert.textContent = msg;
      alert.hidden = false;
      btn.disabled = false;
      btn.textContent = label;
    };
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      alert.hidden = true;
      var file = form.querySelector("input[type=file]").files[0], max = +form.getAttribute("data-max");
      if (file && max && file.size > max) {
        // app.js marks the button busy after this handler: undo it once it has.
        setTimeout(function () { fail("The file is over 32 MB: split it, or import it with the API."); });
        return;
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action"));
      xhr.upload.onprogress = function (ev) {
        if (!ev.lengthComputable) return;
        var p = Math.floor(ev.loaded * 100 / ev.total);
        bar.value = p;
        state.textContent = "Uploading… " + p + "%";
      };
      xhr.upload.onload = function () { bar.value = 100; state.textContent = "Starting the import…"; };
      xhr.onload = function () {
        var to = xhr.responseURL || "";
        if (xhr.status === 200 && /\/dashboard\/suppressions\/import\/[^\/.]+$/.test(to.split("?")[0])) {
          window.location.assign(to);
          return;
        }
        // An error page: show its message here.
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var p = doc.querySelector("main p");
        fail(p ? p.textContent : "The upload failed (" + xhr.status + "). Try again.");
      };
      xhr.onerror = function () { fail("The upload failed: check the connection, then try again."); };
      bar.value = 0;
      state.textContent = "Uploading…";
      box.hidden = false;
      xhr.send(new FormData(form));
    });
  }

  // The import's page: its status polled every half second while it runs; when it ends,
  // one reload shows the final page with the rejected rows.
  var card = document.getElementById("import"), progress = document.getElementById("import-progress");
  if (!card || !progress || progress.getAttribute("data-state") !== "running" || !window.fetch) return;
  var url = card.getAttribute("data-status");
  var fmt = function (n) { return Number(n).toLocaleString("en-US"); };
  var show = function (s) {
    progress.value = s.percent;
    progress.textContent = s.percent + "%";
    progress.setAttribute("data-state", s.state);
    document.getElementById("import-percent").textContent = s.percent + "%";
    ["rows", "added", "existing", "rejected"].forEach(function (k) {
      document.getElementById("import-" + k).textContent = fmt(s[k]);
    });
  };
  var tick = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (r.status === 404 || r.redirected) { window.location.reload(); return null; } // gone, or signed out
      if (!r.ok) throw new Error("status " + r.status);
      return r.json();
    }).then(function (s) {
      if (!s) return;
      show(s);
      if (s.state === "running") setTimeout(tick, 500);
      else window.location.reload();
    }).catch(function () { setTimeout(tick, 2000); });
  };
  setTimeout(tick, 500);
})();
