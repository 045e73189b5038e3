// Ticket page glue: the ticket's head (#ticket-main) refreshes on its own ring (ticket-updated-<id>) and brings the
// body (#ticket-body) along out of band, but never while the person is in the middle of writing an update (the
// refresh would throw the text away). Folded parts (details[data-fold]) keep their open state across a refresh.
(function () {
  "use strict";

  function main() {
    return document.getElementById("ticket-main");
  }

  function regions() {
    return [main(), document.getElementById("ticket-body")].filter(Boolean);
  }

  function defaultIndex(select) {
    for (var i = 0; i < select.options.length; i += 1) {
      if (select.options[i].defaultSelected) {
        return i;
      }
    }
    return 0;
  }

  // Something typed, chosen or opened that a refresh would silently undo. A form marked hx-preserve outlives a
  // refresh as it is; only its text counts, since a refresh takes the form away once posting is not allowed.
  // An opened fold does not count: it is opened again after the refresh.
  function isWriting(block) {
    var pending = block.querySelector("details[open]:not([data-fold])") !== null;
    block.querySelectorAll("textarea, input, select").forEach(function (field) {
      if (field.tagName !== "TEXTAREA" && field.closest("[hx-preserve]")) {
        return;
      } else if (field.type === "file") {
        pending = pending || Boolean(field.files && field.files.length);
      } else if (field.type === "checkbox") {
        pending = pending || field.checked !== field.defaultChecked;
      } else if (field.tagName === "SELECT") {
        pending = pending || field.selectedIndex !== defaultIndex(field);
      } else if (field.tagName === "TEXTAREA") {
        pending = pending || field.value.trim() !== "";
      }
    });
    return pending;
  }

  document.addEventListener("htmx:before:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var block = main();
    if (block && ctx && ctx.sourceElement === block && regions().some(isWriting)) {
      event.preventDefault();
    }
  });

  // Before new content goes in: a fold is as open or closed in what replaces it as it is now.
  document.addEventListener("htmx:before:swap", function (event) {
    (event.detail && event.detail.tasks || []).forEach(function (task) {
      if (!task.fragment || !task.fragment.querySelectorAll) {
        return;
      }
      task.fragment.querySelectorAll("details[data-fold][id]").forEach(function (fresh) {
        var now = document.getElementById(fresh.id);
        if (now) {
          fresh.open = now.open;
        }
      });
    });
  });
})();
