// Messenger panel: live messages, formatting toolbar, voice recording, typing indicator, unread markers and
// older messages on scroll-up. Works on every [data-messenger] panel; panels are re-rendered by htmx after posts.
(function () {
  "use strict";
  if (window.TicketwerkMessenger) {
    return;
  }
  window.TicketwerkMessenger = true;

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var TYPING_SHOW_MS = 4000;
  var TYPING_SEND_MS = 2000;
  var typingTimers = {};
  var lastTypingSent = 0;
  var recorders = {};

  function csrf() {
    return csrfMeta ? csrfMeta.content : "";
  }

  function panelFor(ticket) {
    return document.querySelector('[data-messenger][data-ticket="' + ticket + '"]');
  }

  function panelOf(el) {
    return el.closest("[data-messenger]");
  }

  function realtime() {
    return window.TicketwerkRealtime;
  }

  function fromHtml(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  function markMine(panel, root) {
    var me = panel.getAttribute("data-me");
    root.querySelectorAll("[data-author]").forEach(function (el) {
      if (me && el.getAttribute("data-author") === me) {
        el.classList.add("mine");
      }
    });
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 200;
  }

  // ---- Read markers -------------------------------------------------------------------------------------------
  var readTimers = {};

  function markRead(panel) {
    var ticket = panel.getAttribute("data-ticket");
    window.clearTimeout(readTimers[ticket]);
    readTimers[ticket] = window.setTimeout(function () {
      var last = panel.querySelector("[data-thread] [data-message-id]:last-of-type");
      var messages = panel.querySelectorAll("[data-thread] [data-message-id]");
      last = messages.length ? messages[messages.length - 1] : null;
      if (!last) {
        return;
      }
      var id = parseInt(last.getAttribute("data-message-id"), 10);
      if (id <= parseInt(panel.getAttribute("data-last-read") || "0", 10)) {
        return;
      }
      var body = new FormData();
      body.append("message", String(id));
      body.append("csrf_token", csrf());
      if (panel.getAttribute("data-as") === "code") {
        body.append("as", "code");
      }
      fetch(panel.getAttribute("data-read-url"), {
        method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": csrf() }
      }).then(function (response) {
        if (response.ok) {
          panel.setAttribute("data-last-read", String(id));
        }
      }).catch(function () {});
    }, 800);
  }

  function readWhenSeen(panel) {
    if (document.visibilityState === "visible") {
      markRead(panel);
    }
  }

  // ---- Live messages ------------------------------------------------------------------------------------------
  document.body.addEventListener("message-posted", function (event) {
    var data = event.detail || {};
    var panel = panelFor(data.ticket);
    if (!panel || document.getElementById("message-" + data.id)) {
      return;
    }
    var thread = panel.querySelector("[data-thread]");
    var follow = nearBottom();
    var fragment = fromHtml(data.html || "");
    markMine(panel, fragment);
    var mine = data.author && data.author === panel.getAttribute("data-me");
    var empty = thread.querySelector("[data-thread-empty]");
    if (empty) {
      empty.remove();
    }
    if (!mine && (!follow || document.visibilityState !== "visible") && !thread.querySelector("[data-unread-marker]")) {
      var marker = document.createElement("li");
      marker.className = "unread-marker small";
      marker.setAttribute("data-unread-marker", "");
      marker.setAttribute("data-testid", "unread-marker");
      var label = document.createElement("span");
      label.textContent = panel.getAttribute("data-unread-label") || "New messages";
      marker.appendChild(label);
      thread.appendChild(marker);
    }
    thread.appendChild(fragment);
    if (window.htmx && window.htmx.process) {
      window.htmx.process(thread.lastElementChild);
    }
    hideTyping(panel, data.author);
    if (follow || mine) {
      thread.lastElementChild.scrollIntoView({ block: "end" });
    }
    if (follow && !mine) {
      readWhenSeen(panel);
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      document.querySelectorAll("[data-messenger]").forEach(markRead);
    }
  });

  // Without a socket, a ring on the ticket (e.g. via a reconnect) refreshes the thread from the server.
  document.body.addEventListener("realtime:connected", function () {
    document.querySelectorAll("[data-messenger]").forEach(function (panel) {
      if (panel.getAttribute("data-was-offline") === "yes") {
        refreshThread(panel);
      }
      panel.removeAttribute("data-was-offline");
    });
  });

  document.body.addEventListener("realtime:disconnected", function () {
    document.querySelectorAll("[data-messenger]").forEach(function (panel) {
      panel.setAttribute("data-was-offline", "yes");
    });
  });

  // No live connection (blocked WebSocket, proxy trouble): refresh the thread now and then instead.
  window.setInterval(function () {
    if (document.documentElement.getAttribute("data-realtime") === "connected" || document.visibilityState !== "visible") {
      return;
    }
    document.querySelectorAll("[data-messenger]").forEach(function (panel) {
      var input = panel.querySelector('textarea[name="body"]');
      if (!panel.querySelector("[data-older] a[data-loading]") && !(input && document.activeElement === input && input.value)) {
        refreshThread(panel);
      }
    });
  }, 15000);

  function refreshThread(panel) {
    fetch(panel.getAttribute("data-thread-url"), { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) {
          return;
        }
        var fresh = fromHtml(html).querySelector("[data-thread]");
        var thread = panel.querySelector("[data-thread]");
        if (fresh && thread) {
          markMine(panel, fresh);
          thread.replaceWith(fresh);
          observeOlder(panel);
        }
      }).catch(function () {});
  }

  // ---- Typing indicator ---------------------------------------------------------------------------------------
  function hideTyping(panel, author) {
    var box = panel.querySelector("[data-typing]");
    if (box && (!author || box.getAttribute("data-author") === author)) {
      box.hidden = true;
      box.textContent = "";
    }
  }

  document.body.addEventListener("typing", function (event) {
    var data = event.detail || {};
    var panel = panelFor(data.ticket);
    if (!panel || data.author === panel.getAttribute("data-me")) {
      return;
    }
    var box = panel.querySelector("[data-typing]");
    var template = box.getAttribute("data-label") || "{name} is typing…";
    box.textContent = template.replace("{name}", data.name || "");
    box.setAttribute("data-author", data.author || "");
    box.hidden = false;
    window.clearTimeout(typingTimers[data.ticket]);
    typingTimers[data.ticket] = window.setTimeout(function () { hideTyping(panel); }, TYPING_SHOW_MS);
  });

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches('[data-messenger] textarea[name="body"]')) {
      return;
    }
    var now = Date.now();
    var rt = realtime();
    if (!rt || !rt.connected() || now - lastTypingSent < TYPING_SEND_MS || !input.value.trim()) {
      return;
    }
    lastTypingSent = now;
    var panel = panelOf(input);
    rt.emit("typing", { ticket: parseInt(panel.getAttribute("data-ticket"), 10), as: panel.getAttribute("data-as") });
  });

  // Ctrl/Cmd+Enter sends.
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && input.matches &&
        input.matches('[data-messenger] textarea[name="body"]')) {
      event.preventDefault();
      input.form.requestSubmit();
    }
  });

  // ---- Formatting toolbar -------------------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-messenger] [data-format]");
    if (!button) {
      return;
    }
    var input = panelOf(button).querySelector('textarea[name="body"]');
    var mark = button.getAttribute("data-format") === "bold" ? "**" : "_";
    var start = input.selectionStart;
    var end = input.selectionEnd;
    var value = input.value;
    var inner = value.slice(start, end) || "";
    input.value = value.slice(0, start) + mark + inner + mark + value.slice(end);
    input.focus();
    input.setSelectionRange(start + mark.length, start + mark.length + inner.length);
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches('[data-messenger] input[type="file"][name="files"]')) {
      var names = Array.prototype.map.call(input.files, function (file) { return file.name; });
      var out = panelOf(input).querySelector("[data-file-names]");
      if (out) {
        out.textContent = names.join(", ");
      }
    }
  });

  // ---- Older messages -----------------------------------------------------------------------------------------
  function loadOlder(link) {
    if (link.getAttribute("data-loading")) {
      return;
    }
    link.setAttribute("data-loading", "yes");
    var panel = panelOf(link);
    var holder = link.closest("[data-older]");
    var before = document.documentElement.scrollHeight;
    fetch(link.href, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) {
          link.removeAttribute("data-loading");
          return;
        }
        var fragment = fromHtml(html);
        markMine(panel, fragment);
        holder.replaceWith(fragment);
        window.scrollBy(0, document.documentElement.scrollHeight - before);
        observeOlder(panel);
      }).catch(function () { link.removeAttribute("data-loading"); });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-messenger] [data-older] a");
    if (link) {
      event.preventDefault();
      loadOlder(link);
    }
  });

  var olderObserver = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (entry.isIntersecting && window.scrollY > 0) {
        loadOlder(entry.target);
      }
    });
  }) : null;

  function observeOlder(panel) {
    var link = panel.querySelector("[data-older] a");
    if (link && olderObserver) {
      olderObserver.observe(link);
    }
  }

  // ---- Voice messages -----------------------------------------------------------------------------------------
  function recordingType() {
    var types = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
    for (var i = 0; i < types.length; i += 1) {
      if (window.MediaRecorder.isTypeSupported && window.MediaRecorder.isTypeSupported(types[i])) {
        return types[i];
      }
    }
    return "";
  }

  function voiceParts(panel) {
    return {
      box: panel.querySelector("[data-voice-panel]"),
      status: panel.querySelector("[data-voice-status]"),
      stop: panel.querySelector("[data-voice-stop]"),
      preview: panel.querySelector("[data-voice-preview]"),
      send: panel.querySelector("[data-voice-send]"),
      start: panel.querySelector("[data-voice-start]")
    };
  }

  function resetVoice(panel) {
    var ticket = panel.getAttribute("data-ticket");
    var state = recorders[ticket];
    if (state && state.stream) {
      state.stream.getTracks().forEach(function (track) { track.stop(); });
    }
    delete recorders[ticket];
    var parts = voiceParts(panel);
    if (parts.box) {
      parts.box.hidden = true;
      parts.preview.hidden = true;
      parts.preview.removeAttribute("src");
      parts.send.hidden = true;
      parts.stop.hidden = false;
    }
  }

  function startRecording(panel) {
    var parts = voiceParts(panel);
    var ticket = panel.getAttribute("data-ticket");
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var type = recordingType();
      var recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
      var state = { stream: stream, recorder: recorder, chunks: [], blob: null };
      recorders[ticket] = state;
      recorder.addEventListener("dataavailable", function (event) {
        if (event.data && event.data.size) {
          state.chunks.push(event.data);
        }
      });
      recorder.addEventListener("stop", function () {
        state.blob = new Blob(state.chunks, { type: recorder.mimeType || type || "audio/webm" });
        stream.getTracks().forEach(function (track) { track.stop(); });
        parts.preview.src = URL.createObjectURL(state.blob);
        parts.preview.hidden = false;
        parts.send.hidden = false;
        parts.stop.hidden = true;
        parts.status.textContent = parts.status.getAttribute("data-done") || "";
      });
      parts.status.textContent = parts.status.getAttribute("data-recording") || parts.status.textContent;
      parts.box.hidden = false;
      parts.stop.hidden = false;
      recorder.start(250);
    }).catch(function () {
      parts.box.hidden = false;
      parts.stop.hidden = true;
      parts.status.textContent = parts.status.getAttribute("data-denied") || "Microphone not available.";
    });
  }

  function sendRecording(panel) {
    var state = recorders[panel.getAttribute("data-ticket")];
    if (!state || !state.blob) {
      return;
    }
    var parts = voiceParts(panel);
    parts.send.disabled = true;
    var extension = /ogg/.test(state.blob.type) ? "ogg" : /mp4/.test(state.blob.type) ? "m4a" : "webm";
    var body = new FormData();
    body.append("audio", state.blob, "voice." + extension);
    body.append("csrf_token", csrf());
    if (panel.getAttribute("data-as") === "code") {
      body.append("as", "code");
    }
    var next = panel.querySelector('input[name="next"]');
    if (next) {
      body.append("next", next.value);
    }
    fetch(panel.getAttribute("data-voice-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "HX-Request": "true" }
    }).then(function (response) { return response.text(); }).then(function (html) {
      resetVoice(panel);
      replacePanel(panel, html);
    }).catch(function () {
      parts.send.disabled = false;
    });
  }

  function replacePanel(panel, html) {
    var fresh = fromHtml(html).querySelector("[data-messenger]");
    if (!fresh) {
      return;
    }
    panel.replaceWith(fresh);
    if (window.htmx && window.htmx.process) {
      window.htmx.process(fresh);
    }
    setUp(fresh);
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-messenger] button");
    if (!target) {
      return;
    }
    var panel = panelOf(target);
    if (target.hasAttribute("data-voice-start")) {
      startRecording(panel);
    } else if (target.hasAttribute("data-voice-stop")) {
      var state = recorders[panel.getAttribute("data-ticket")];
      if (state && state.recorder.state !== "inactive") {
        state.recorder.stop();
      }
    } else if (target.hasAttribute("data-voice-send")) {
      sendRecording(panel);
    } else if (target.hasAttribute("data-voice-discard")) {
      var current = recorders[panel.getAttribute("data-ticket")];
      if (current && current.recorder.state !== "inactive") {
        current.recorder.stop();
      }
      resetVoice(panel);
    }
  });

  // ---- Panel set-up (first load and after every htmx swap) ----------------------------------------------------
  function setUp(panel) {
    markMine(panel, panel);
    var start = panel.querySelector("[data-voice-start]");
    if (start && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder) {
      start.hidden = false;
    }
    observeOlder(panel);
    readWhenSeen(panel);
    if (realtime()) {
      realtime().joinRooms();
    }
  }

  document.addEventListener("htmx:after:swap", function () {
    document.querySelectorAll("[data-messenger]").forEach(function (panel) {
      if (!panel.getAttribute("data-ready")) {
        panel.setAttribute("data-ready", "yes");
        setUp(panel);
        var input = panel.querySelector('textarea[name="body"]');
        if (input && panel.contains(document.activeElement) === false) {
          input.focus();
        }
      }
    });
  });

  document.querySelectorAll("[data-messenger]").forEach(function (panel) {
    panel.setAttribute("data-ready", "yes");
    setUp(panel);
  });
})();
