// Notifications: live bell and toasts on the "notification-added" ring, browser notifications while the tab is
// hidden, and web-push subscription buttons (employees on the settings page, code users on their ticket page).
(function () {
  "use strict";
  if (window.TicketwerkNotifications) {
    return;
  }
  var shown = {};
  var csrf = document.querySelector('meta[name="csrf-token"]');

  function csrfHeaders(extra) {
    var headers = extra || {};
    if (csrf) {
      headers["X-CSRFToken"] = csrf.content;
    }
    return headers;
  }

  function setCount(unread) {
    if (typeof unread !== "number") {
      return;
    }
    document.querySelectorAll('[data-testid="notification-count"]').forEach(function (node) {
      node.textContent = String(unread);
      node.setAttribute("data-count", String(unread));
    });
  }

  function showToast(toast) {
    var region = document.getElementById("toasts");
    if (!region) {
      return;
    }
    var box = document.createElement("div");
    box.className = "toast";
    box.setAttribute("role", "status");
    var link = document.createElement("a");
    link.href = toast.url || "/notifications";
    link.textContent = toast.title || "";
    box.appendChild(link);
    if (toast.body) {
      var text = document.createElement("p");
      text.className = "small";
      text.textContent = toast.body;
      box.appendChild(text);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-ghost btn-sm";
    close.setAttribute("aria-label", region.dataset.closeLabel || "×");
    close.textContent = "×";
    close.addEventListener("click", function () {
      box.remove();
    });
    box.appendChild(close);
    region.appendChild(box);
    window.setTimeout(function () {
      box.remove();
    }, 10000);
  }

  function showBrowserNotification(toast) {
    if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) {
      return;
    }
    try {
      var note = new Notification(toast.title || "Ticketwerk", {
        body: toast.body || "",
        tag: "notification-" + toast.id,
        icon: "/static/icons/icon-192.png"
      });
      note.onclick = function () {
        window.focus();
        window.location.href = toast.url || "/notifications";
      };
    } catch (error) {
      // Some browsers only allow notifications from a service worker; web push covers those.
    }
  }

  // A ring from the server: update the count, toast each new notification once per tab.
  function onRing(payload) {
    payload = payload || {};
    setCount(payload.unread);
    (payload.toasts || []).forEach(function (toast) {
      if (toast.id && shown[toast.id]) {
        return;
      }
      shown[toast.id] = true;
      showToast(toast);
      showBrowserNotification(toast);
    });
  }

  window.TicketwerkNotifications = { onRing: onRing };

  // realtime.js (when present) turns socket rings into DOM events; the detail carries the payload.
  document.addEventListener("notification-added", function (event) {
    if (event.detail && typeof event.detail === "object") {
      onRing(event.detail);
    }
  }, true);

  function connectSocket() {
    if (!document.getElementById("notification-bell") || typeof window.io !== "function") {
      return;
    }
    if (window.TicketwerkRealtime) {
      return; // realtime.js already listens and re-dispatches rings on document.body.
    }
    var socket = window.io({ transports: ["websocket", "polling"] });
    socket.on("notification-added", function (payload) {
      onRing(payload);
      document.body.dispatchEvent(new CustomEvent("notification-added", { detail: null, bubbles: true }));
    });
  }

  // Clicking an item opens the ticket; mark it read on the way without delaying navigation.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-read-url]") : null;
    if (!link || !navigator.sendBeacon) {
      return;
    }
    var form = new FormData();
    if (csrf) {
      form.append("csrf_token", csrf.content);
    }
    form.append("next", "ticket");
    navigator.sendBeacon(link.dataset.readUrl, form);
  });

  // ---- browser notifications and web push (need a user gesture) ----

  function urlBase64ToUint8Array(base64) {
    var padding = "=".repeat((4 - (base64.length % 4)) % 4);
    var raw = window.atob((base64 + padding).replace(/-/g, "+").replace(/_/g, "/"));
    var output = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; ++i) {
      output[i] = raw.charCodeAt(i);
    }
    return output;
  }

  function status(container, text) {
    var node = container.querySelector('[data-role="push-status"]');
    if (node) {
      node.textContent = text;
    }
  }

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function registration() {
    return navigator.serviceWorker.register("/service-worker.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function subscribe(container) {
    if (!pushSupported()) {
      status(container, container.dataset.msgUnsupported || "");
      return;
    }
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        status(container, container.dataset.msgBlocked || "");
        return null;
      }
      return fetch(container.dataset.pushKeyUrl, { credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          return registration().then(function (reg) {
            return reg.pushManager.getSubscription().then(function (existing) {
              return existing || reg.pushManager.subscribe({
                userVisibleOnly: true,
                applicationServerKey: urlBase64ToUint8Array(data.key)
              });
            });
          });
        })
        .then(function (subscription) {
          return fetch(container.dataset.pushSubscribe, {
            method: "POST",
            credentials: "same-origin",
            headers: csrfHeaders({ "Content-Type": "application/json" }),
            body: JSON.stringify(subscription.toJSON())
          });
        })
        .then(function (response) {
          status(container, response.ok ? container.dataset.msgOn || "" : container.dataset.msgFailed || "");
        });
    }).catch(function () {
      status(container, container.dataset.msgFailed || "");
    });
  }

  function unsubscribe(container) {
    if (!pushSupported()) {
      return;
    }
    navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).then(function (subscription) {
      if (!subscription) {
        status(container, container.dataset.msgOff || "");
        return null;
      }
      var body = JSON.stringify({ endpoint: subscription.endpoint });
      return fetch(container.dataset.pushUnsubscribe, {
        method: "POST",
        credentials: "same-origin",
        headers: csrfHeaders({ "Content-Type": "application/json" }),
        body: body
      }).then(function () {
        return subscription.unsubscribe();
      }).then(function () {
        status(container, container.dataset.msgOff || "");
      });
    }).catch(function () {
      status(container, container.dataset.msgFailed || "");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-action]") : null;
    if (!button) {
      return;
    }
    var container = button.closest("[data-push-subscribe]") || document.body;
    var action = button.dataset.action;
    if (action === "enable-browser-notifications" && "Notification" in window) {
      Notification.requestPermission().then(function (permission) {
        status(container, permission === "granted" ? container.dataset.msgOn || "" : container.dataset.msgBlocked || "");
      });
    } else if (action === "push-subscribe") {
      subscribe(container);
    } else if (action === "push-unsubscribe") {
      unsubscribe(container);
    }
  });

  function start() {
    connectSocket();
    // The service worker makes the app installable and receives web pushes.
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register("/service-worker.js", { scope: "/" }).catch(function () {});
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
