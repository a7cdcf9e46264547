// Suggest the tenant ids of recent customers while the partner types one.
(function () {
  "use strict";
  var field = document.getElementById("id_org-tenant_id");
  if (field && document.getElementById("recent-tenants")) {
    field.setAttribute("list", "recent-tenants");
  }
})();
