// Ticketwerk glue: CSRF header for htmx requests, htmx forms that never lose what was typed, and previews of the
// photos chosen in a form. Other behaviour lives in small modules beside this file.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var texts = document.querySelector('meta[name="form-messages"]');

  function formOf(ctx) {
    var source = ctx && ctx.sourceElement;
    return source && source.closest ? source.closest("form") : null;
  }

  // The form's error line (made on first use). htmx does not swap 413 and 5xx answers (noSwap in base.html)
  // and has nothing to swap without a connection, so the form stays as typed and only the reason is shown.
  function say(form, key) {
    var line = form.querySelector("[data-form-error]");
    if (!line && key) {
      line = document.createElement("p");
      line.className = "alert alert-error";
      line.setAttribute("role", "alert");
      line.setAttribute("data-form-error", "");
      form.insertBefore(line, form.firstChild);
    }
    if (line) {
      line.textContent = key ? texts.getAttribute("data-" + key) : "";
      line.hidden = !key;
    }
  }

  function tooLarge(body) {
    var size = 0;
    var limit = Number(texts && texts.getAttribute("data-max-bytes"));
    if (body && body.forEach) {
      body.forEach(function (value) { size += value && typeof value.size === "number" ? value.size : 0; });
    }
    return limit > 0 && size > limit;
  }

  // Forms marked data-clear-on-send (updates) let the next text be typed while the last one travels: what was
  // sent leaves the fields at once (hx-sync queues the sends), and a send that fails puts it back, in order.
  function takeOut(form) {
    return Array.prototype.map.call(form.querySelectorAll("textarea, input[type=file]"), function (field) {
      var sent = { field: field, value: field.value, files: new DataTransfer() };
      Array.prototype.forEach.call(field.files || [], function (file) { sent.files.items.add(file); });
      field.value = "";
      field.returned = "";
      field.dispatchEvent(new Event("change", { bubbles: true }));
      return sent;
    });
  }

  function putBack(sent) {
    sent.forEach(function (item) {
      var field = item.field;
      if (field.type === "file") {
        if (!field.files.length && item.files.files.length) {
          field.files = item.files.files;
          field.dispatchEvent(new Event("change", { bubbles: true }));
        }
      } else if (item.value) {
        var kept = field.returned && field.value.indexOf(field.returned) === 0 ? field.returned : "";
        var since = field.value.slice(kept.length).trim();
        field.returned = kept ? kept + "\n\n" + item.value : item.value;
        field.value = since ? field.returned + "\n\n" + since : field.returned;
      }
    });
  }

  document.addEventListener("htmx:config:request", function (event) {
    var ctx = event.detail && event.detail.ctx;
    if (!ctx || !ctx.request) {
      return;
    }
    if (meta) {
      ctx.request.headers["X-CSRFToken"] = meta.content;
    }
    var form = formOf(ctx);
    if (!form) {
      return;
    }
    if (ctx.request.method === "GET") {
      say(form, null); // a search sent again: the last attempt's "no connection" no longer applies
      return;
    }
    if (tooLarge(ctx.request.body)) {
      event.preventDefault();
      say(form, "too-large");
      return;
    }
    say(form, null);
    if (form.hasAttribute("data-clear-on-send")) {
      ctx.sentFields = takeOut(form);
    }
  });

  document.addEventListener("htmx:response:error", function (event) {
    var ctx = event.detail.ctx;
    var form = formOf(ctx);
    if (form && (ctx.response.status === 413 || ctx.response.status >= 500)) {
      say(form, ctx.response.status === 413 ? "too-large" : "failed");
    }
  });

  document.addEventListener("htmx:error", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var form = formOf(ctx);
    if (form && form.isConnected && !ctx.response) {
      say(form, "offline");
    }
  });

  // Drafts: a textarea marked data-draft-key keeps what is typed in this browser (localStorage) until its form
  // is sent with success, so leaving the page, a reload or a crash loses nothing.
  function keepDraft(field) {
    try {
      var key = "ticketwerk-draft:" + field.getAttribute("data-draft-key");
      if (field.value) {
        localStorage.setItem(key, field.value);
      } else {
        localStorage.removeItem(key);
      }
    } catch (error) {
      // Private mode or a full storage: the field itself still holds the text.
    }
  }

  function restoreDrafts() {
    document.querySelectorAll("textarea[data-draft-key]").forEach(function (field) {
      try {
        var saved = localStorage.getItem("ticketwerk-draft:" + field.getAttribute("data-draft-key"));
        if (saved && !field.value) {
          field.value = saved;
        }
      } catch (error) {
        // See keepDraft.
      }
    });
  }

  // Signing out leaves no draft behind for the next person at this browser.
  document.addEventListener("submit", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-clears-drafts")) {
      try {
        Object.keys(localStorage).forEach(function (key) {
          if (key.indexOf("ticketwerk-draft:") === 0) {
            localStorage.removeItem(key);
          }
        });
      } catch (error) {
        // See keepDraft.
      }
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-draft-key]")) {
      keepDraft(event.target);
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", restoreDrafts);
  } else {
    restoreDrafts();
  }

  document.addEventListener("htmx:finally:request", function (event) {
    var ctx = event.detail.ctx;
    if (ctx.sentFields && (!ctx.response || ctx.response.status >= 400)) {
      putBack(ctx.sentFields);
    } else if (ctx.sentFields) {
      ctx.sentFields.forEach(function (item) {
        if (item.field.hasAttribute("data-draft-key")) {
          keepDraft(item.field);  // sent: the draft is what was typed since, or nothing
        }
      });
    }
  });
})();

// Wizard and upload forms: show the chosen photos and videos before they are uploaded.
(function () {
  "use strict";

  function clear(list) {
    list.querySelectorAll("[data-object-url]").forEach(function (el) {
      URL.revokeObjectURL(el.getAttribute("data-object-url"));
    });
    list.textContent = "";
  }

  function preview(input) {
    var list = document.querySelector(input.getAttribute("data-preview"));
    if (!list) { return; }
    clear(list);
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      var media = null;
      // HEIC/HEIF (phone photos) show in Safari only: elsewhere the name stands alone until the server's JPEG.
      var heif = /^image\/hei[cf]/.test(file.type) || /\.hei[cf]$/i.test(file.name);
      if (/^image\//.test(file.type) && !heif) {
        media = document.createElement("img");
        media.alt = file.name;
      } else if (/^video\//.test(file.type)) {
        media = document.createElement("video");
        media.muted = true;
        media.setAttribute("playsinline", "");
      }
      if (media) {
        var url = URL.createObjectURL(file);
        media.src = url;
        media.setAttribute("data-object-url", url);
        item.appendChild(media);
      }
      var name = document.createElement("span");
      name.textContent = file.name;
      item.appendChild(name);
      list.appendChild(item);
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches("input[type=file][data-preview]")) {
      preview(input);
    }
  });
})();
