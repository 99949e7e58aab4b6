// mailtrail dashboard, connections: the create form shows only the credential fields the
// chosen vendor can use, and says which it needs. Without it every field shows.
(function () {
  "use strict";
  var form = document.getElementById("create-connection");
  var sel = document.getElementById("conn-vendor");
  var needs = document.getElementById("conn-needs");
  if (!form || !sel) return;
  function update() {
    var opt = sel.options[sel.selectedIndex];
    var fields = (opt.getAttribute("data-fields") || "").split(" ");
    form.querySelectorAll("[data-field]").forEach(function (l) {
      var on = fields.indexOf(l.getAttribute("data-field")) >= 0;
      l.hidden = !on;
      if (!on) l.querySelector("input").value = "";
    });
    if (needs) needs.textContent = opt.value + " needs " + opt.getAttribute("data-needs") + ".";
  }
  sel.addEventListener("change", update);
  update();
})();
