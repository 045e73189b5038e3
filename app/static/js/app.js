// Ticketwerk glue: CSRF header for htmx requests. Other behaviour lives in small modules beside this file.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.addEventListener("htmx:config:request", function (event) {
    if (meta && event.detail && event.detail.ctx && event.detail.ctx.request) {
      event.detail.ctx.request.headers["X-CSRFToken"] = meta.content;
    }
  });
})();
