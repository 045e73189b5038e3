// Notifications glue: the "notification-added" frame (realtime.js re-dispatches it on document.body) brings the
// bell's count and toasts rendered by the server; this puts them in place, shows each toast once per tab and, while
// the tab is hidden, as a browser notification. Also the web-push subscription buttons and the read beacon.
(function () {
  "use strict";
  if (window.TicketwerkNotifications) {
    return;
  }
  window.TicketwerkNotifications = true;
  var shown = {};
  var csrf = document.querySelector('meta[name="csrf-token"]');

  function showBrowserNotification(toast) {
    if (!("Notification" in window) || Notification.permission !== "granted" || !document.hidden) {
      return;
    }
    var link = toast.querySelector('[data-role="toast-title"]');
    var body = toast.querySelector('[data-role="toast-body"]');
    try {
      var note = new Notification(link ? link.textContent : "Ticketwerk", {
        body: body ? body.textContent : "",
        tag: "notification-" + toast.dataset.notificationId,
        icon: "/static/icons/icon-192.png"
      });
      note.onclick = function () {
        window.focus();
        window.location.href = link ? link.href : "/notifications";
      };
    } catch (error) {
      // Some browsers only allow notifications from a service worker; web push covers those.
    }
  }

  document.body.addEventListener("notification-added", function (event) {
    if (!event.detail || typeof event.detail.html !== "string") {
      return;
    }
    var frame = document.createElement("template");
    frame.innerHTML = event.detail.html;
    var count = frame.content.querySelector("#notification-count");
    var current = document.getElementById("notification-count");
    if (count && current) {
      current.replaceWith(count);
      window.htmx.process(count);
    }
    var region = document.getElementById("toasts");
    frame.content.querySelectorAll("[data-notification-id]").forEach(function (toast) {
      if (shown[toast.dataset.notificationId] || !region) {
        return;
      }
      shown[toast.dataset.notificationId] = true;
      // News about the page being read shows live on it: the bell counts it, no toast covers the page.
      var title = toast.querySelector('[data-role="toast-title"]');
      if (title && title.getAttribute("href") === window.location.pathname) {
        return;
      }
      region.appendChild(toast);
      window.setTimeout(function () { toast.remove(); }, 10000);
      showBrowserNotification(toast);
    });
  });

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

  function urlBase64ToUint8Array(base64) {
    var padding = "=".repeat((4 - (base64.length % 4)) % 4);
    var raw = window.atob((base64 + padding).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }

  function status(container, key) {
    var node = container.querySelector('[data-role="push-status"]');
    if (node) {
      node.textContent = container.dataset[key] || "";
    }
  }

  function post(url, body) {
    var headers = { "Content-Type": "application/json" };
    if (csrf) {
      headers["X-CSRFToken"] = csrf.content;
    }
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body) });
  }

  function pushSupported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function subscribe(container) {
    if (!pushSupported()) {
      status(container, "msgUnsupported");
      return;
    }
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        status(container, "msgBlocked");
        return null;
      }
      return Promise.all([
        fetch(container.dataset.pushKeyUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
        navigator.serviceWorker.register("/service-worker.js", { scope: "/" }).then(function () {
          return navigator.serviceWorker.ready;
        })
      ]).then(function (both) {
        var reg = both[1];
        return reg.pushManager.getSubscription().then(function (existing) {
          return existing || reg.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: urlBase64ToUint8Array(both[0].key)
          });
        });
      }).then(function (subscription) {
        return post(container.dataset.pushSubscribe, subscription.toJSON());
      }).then(function (response) {
        status(container, response.ok ? "msgOn" : "msgFailed");
      });
    }).catch(function () {
      status(container, "msgFailed");
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
        return null;
      }
      return post(container.dataset.pushUnsubscribe, { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    }).then(function () {
      status(container, "msgOff");
    }).catch(function () {
      status(container, "msgFailed");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-action]") : null;
    if (!button) {
      return;
    }
    var container = button.closest("[data-push-subscribe]") || document.body;
    var action = button.dataset.action;
    if (action === "dismiss-toast") {
      button.closest(".toast").remove();
    } else if (action === "enable-browser-notifications" && "Notification" in window) {
      Notification.requestPermission().then(function (permission) {
        status(container, permission === "granted" ? "msgOn" : "msgBlocked");
      });
    } else if (action === "push-subscribe") {
      subscribe(container);
    } else if (action === "push-unsubscribe") {
      unsubscribe(container);
    }
  });

  // The service worker makes the app installable and receives web pushes.
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/service-worker.js", { scope: "/" }).catch(function () {});
  }
})();
