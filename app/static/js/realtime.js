// Socket.IO glue for every page that loads it: one connection, server rings turned into DOM events on
// document.body (ticket-updated, ticket-deleted, ticket-hidden, notification-added, code-access-changed,
// message-posted, typing, joined, realtime:connected, realtime:disconnected, and realtime-reconnected after a
// lost connection came back), so htmx widgets can use
// hx-trigger="ticket-updated from:body". Ticket rooms are joined for every [data-ticket-room] element on the page
// and joined again after each reconnect.
(function () {
  "use strict";
  if (window.TicketwerkRealtime || typeof window.io !== "function") {
    return;
  }

  var RING_EVENTS = [
    "ticket-updated", "ticket-deleted", "ticket-hidden", "notification-added", "code-access-changed",
    "message-posted", "typing", "joined", "join-refused"
  ];
  var joined = {};
  var everConnected = false;
  // A proxy that lets no WebSocket through gets long-polling instead: the rings still arrive, nothing polls the pages.
  var socket = window.io({ transports: ["websocket", "polling"], tryAllTransports: true, reconnectionDelayMax: 10000 });

  function fire(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { bubbles: true, detail: detail || {} }));
  }

  function roomsOnPage() {
    var found = [];
    document.querySelectorAll("[data-ticket-room]").forEach(function (el) {
      var ticket = parseInt(el.getAttribute("data-ticket-room"), 10);
      if (ticket) {
        found.push({ ticket: ticket, as: el.getAttribute("data-as") === "code" ? "code" : "staff", el: el });
      }
    });
    return found;
  }

  function joinRooms() {
    if (!socket.connected) {
      return;
    }
    roomsOnPage().forEach(function (room) {
      var key = room.as + ":" + room.ticket;
      if (joined[key]) {
        if (joined[key] !== "pending") {
          room.el.setAttribute("data-joined", joined[key]);
        }
        return;
      }
      joined[key] = "pending";
      socket.emit("join_ticket", { ticket: room.ticket, as: room.as }, function (answer) {
        joined[key] = answer && answer.ok ? "yes" : "refused";
        document.querySelectorAll('[data-ticket-room="' + room.ticket + '"]').forEach(function (el) {
          el.setAttribute("data-joined", joined[key]);
        });
      });
    });
  }

  // A ring about one ticket is also dispatched as "<name>-<ticket id>": a widget listens for its own ticket
  // (hx-trigger="ticket-updated-42 from:body") without an event filter, which the CSP (no eval) would block.
  RING_EVENTS.forEach(function (name) {
    socket.on(name, function (payload) {
      fire(name, payload);
      if (payload && payload.ticket) {
        fire(name + "-" + payload.ticket, payload);
      }
    });
  });

  socket.on("connect", function () {
    joined = {};
    document.documentElement.setAttribute("data-realtime", "connected");
    joinRooms();
    fire("realtime:connected");
    if (everConnected) {
      fire("realtime-reconnected");  // rings sent while the connection was down are lost: regions fetch again
    }
    everConnected = true;
  });

  socket.on("disconnect", function (reason) {
    joined = {};
    document.documentElement.setAttribute("data-realtime", "disconnected");
    document.querySelectorAll("[data-ticket-room]").forEach(function (el) {
      el.removeAttribute("data-joined");
    });
    fire("realtime:disconnected", { reason: reason });
    if (reason === "io server disconnect") {
      // The server ended access (code disabled, logged out): try once more later; the connect check decides.
      window.setTimeout(function () { socket.connect(); }, 3000);
    }
  });

  socket.on("code-access-changed", function () {
    var codePage = /^\/c\//.test(window.location.pathname) || document.querySelector('[data-ticket-room][data-as="code"]');
    if (codePage) {
      window.setTimeout(function () { window.location.reload(); }, 500);
    }
  });

  socket.on("ticket-hidden", function (payload) {
    var mine = roomsOnPage().some(function (room) { return room.as === "code" && room.ticket === payload.ticket; });
    if (mine) {
      window.location.reload();
    }
  });

  // Panels swapped in later (htmx) bring their own rooms.
  document.addEventListener("htmx:after:swap", joinRooms);

  // The page's one connection, shared: other scripts send through it instead of opening their own.
  window.TicketwerkRealtime = {
    emit: function (name, data) { socket.emit(name, data); },
    connected: function () { return socket.connected; }
  };
})();
