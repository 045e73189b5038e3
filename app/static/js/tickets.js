// Ticket page glue: refresh the ticket's main block only for rings about this ticket, and never while the
// person is in the middle of writing an update (the refresh would throw the text away).
(function () {
  "use strict";

  function main() {
    return document.getElementById("ticket-main");
  }

  function isWriting(block) {
    var pending = false;
    block.querySelectorAll("textarea, input[type=file]").forEach(function (field) {
      if ((field.type === "file" && field.files && field.files.length) || (field.type !== "file" && field.value.trim())) {
        pending = true;
      }
    });
    return pending;
  }

  document.body.addEventListener("ticket-updated", function (event) {
    var block = main();
    if (!block) {
      return;
    }
    var ticket = parseInt(block.getAttribute("data-ticket"), 10);
    var about = event.detail && event.detail.ticket;
    if (!about || about === ticket) {
      block.dispatchEvent(new CustomEvent("this-ticket-updated"));
    }
  });

  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var block = main();
    if (block && ctx && ctx.sourceElement === block && isWriting(block)) {
      event.preventDefault();
    }
  });
})();
