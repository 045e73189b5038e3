// Messenger panel: the outbox that sends what people write, live messages, formatting toolbar, voice recording,
// typing indicator and unread markers. Works on every [data-messenger] panel. htmx does the rest: older messages
// (a button), the read marker (the panel's read form), the thread fetched again after a reconnect, the composer slot.
//
// The outbox: a sent message shows at once in the sender's thread (data-state "sending"), leaves in the order it
// was written, one request at a time, and is kept in IndexedDB until the server has stored it, so a dropped
// connection or a reload loses nothing. Each message carries an id made here; the server stores an id once, so
// sending it again after a lost answer is harmless. Refusals mark it "failed" with the reason and a retry.
// The composer is never replaced by a response: its slot is refetched only when the right to write changes.
(function () {
  "use strict";
  if (window.TicketwerkMessenger) {
    return;
  }
  window.TicketwerkMessenger = true;

  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var TYPING_SHOW_MS = 4000;
  var TYPING_SEND_MS = 2000;
  var TEXT_TIMEOUT_MS = 30000;
  var RETRY_FIRST_MS = 1000;
  var RETRY_MAX_MS = 30000;
  var PROGRESS_FROM_BYTES = 1024 * 1024;
  var RETRY_STATUSES = [0, 408, 429, 502, 503, 504];
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

  function threadOf(panel) {
    return panel.querySelector("[data-thread]");
  }

  function label(panel, name) {
    return panel.getAttribute("data-label-" + name) || "";
  }

  function realtime() {
    return window.TicketwerkRealtime;
  }

  function fromHtml(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  // A pending message shows the time it was written in the reader's zone, as the server writes the stored ones.
  var timeFormat = null;
  try {
    timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
      timeZone: document.documentElement.getAttribute("data-time-zone") || undefined
    });
  } catch (error) {
    timeFormat = null;
  }

  // The reader follows the conversation when the thread's end is on the screen or just below it (the staff page
  // has more below the conversation, so the end of the page says nothing about it).
  function nearBottom(panel) {
    var end = threadOf(panel).getBoundingClientRect().bottom;
    return end >= 0 && end <= window.innerHeight + 200;
  }

  // New entries go before the sender's own pending messages, which stay last until the server has them.
  function addToThread(panel, node) {
    var thread = threadOf(panel);
    var empty = thread.querySelector("[data-thread-empty]");
    if (empty) {
      empty.remove();
    }
    thread.insertBefore(node, thread.querySelector('[data-state="sending"], [data-state="failed"]'));
  }

  // Outbox storage: IndexedDB (files included), in memory where the browser has none.
  var store = (function () {
    var memory = {};
    var opening = null;

    function open() {
      if (!opening) {
        opening = new Promise(function (resolve) {
          var request;
          try {
            request = window.indexedDB.open("ticketwerk-outbox", 1);
          } catch (error) {
            resolve(null);
            return;
          }
          request.onupgradeneeded = function () {
            request.result.createObjectStore("messages", { keyPath: "id" });
          };
          request.onsuccess = function () { resolve(request.result); };
          request.onerror = request.onblocked = function () { resolve(null); };
        });
      }
      return opening;
    }

    function write(work) {
      return open().then(function (db) {
        if (!db) {
          return null;
        }
        return new Promise(function (resolve) {
          try {
            var transaction = db.transaction("messages", "readwrite");
            work(transaction.objectStore("messages"));
            transaction.oncomplete = transaction.onerror = transaction.onabort = resolve;
          } catch (error) {
            resolve();
          }
        });
      });
    }

    return {
      put: function (entry) {
        memory[entry.id] = entry;
        return write(function (objects) { objects.put(entry); });
      },
      remove: function (id) {
        delete memory[id];
        return write(function (objects) { objects.delete(id); });
      },
      list: function (key) {
        return open().then(function (db) {
          if (!db) {
            return Object.keys(memory).map(function (id) { return memory[id]; });
          }
          return new Promise(function (resolve) {
            var request = db.transaction("messages", "readonly").objectStore("messages").getAll();
            request.onsuccess = function () { resolve(request.result || []); };
            request.onerror = function () { resolve([]); };
          });
        }).then(function (rows) {
          return rows.filter(function (row) { return row.key === key; })
            .sort(function (a, b) { return a.created - b.created; });
        });
      }
    };
  })();

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function outboxKey(panel) {
    return panel.getAttribute("data-me") + "|" + panel.getAttribute("data-ticket");
  }

  // Pending messages in the thread.
  var queues = {};      // outbox key -> entries in the order they were written
  var busy = {};        // outbox key -> a request is in flight
  var retryTimers = {}; // outbox key -> timer of the next attempt after a network failure
  var backoff = {};     // outbox key -> delay of that attempt (ms)

  function bubbleOf(panel, entry) {
    return threadOf(panel).querySelector('[data-client-id="' + entry.id + '"]');
  }

  // A pending message: the server's <template> in the panel, filled with what was written (as text, never HTML).
  function makeBubble(panel, entry) {
    var li = panel.querySelector("template[data-pending-message]").content.firstElementChild.cloneNode(true);
    var created = new Date(entry.created);
    var time = li.querySelector("time");
    time.setAttribute("datetime", created.toISOString());
    time.textContent = timeFormat ? timeFormat.format(created) : created.toLocaleString();
    li.setAttribute("data-client-id", entry.id);
    fill(li.querySelector("[data-body]"), entry.body);
    fill(li.querySelector("[data-files]"), entry.files.map(function (file) { return file.name; }).join(", "));
    return li;
  }

  function fill(el, text) {
    el.textContent = text || "";
    el.hidden = !text;
  }

  function showState(panel, entry) {
    var li = bubbleOf(panel, entry);
    if (!li || li.getAttribute("data-state") === "sent") {
      return;
    }
    li.setAttribute("data-state", entry.state);
    li.querySelector("[data-state-label]").textContent = label(panel, entry.state);
    fill(li.querySelector("[data-error]"), entry.error);
    li.querySelector(".pending-actions").hidden = entry.state !== "failed";
  }

  function showPending(panel, entry) {
    if (!bubbleOf(panel, entry)) {
      var empty = threadOf(panel).querySelector("[data-thread-empty]");
      if (empty) {
        empty.remove();
      }
      threadOf(panel).appendChild(makeBubble(panel, entry));
    }
    showState(panel, entry);
  }

  function showOutboxStatus(panel) {
    var line = panel.querySelector("[data-outbox-status]");
    var key = outboxKey(panel);
    var waiting = (queues[key] || []).filter(function (entry) { return entry.state === "sending"; }).length;
    var stuck = !navigator.onLine || Boolean(retryTimers[key]);
    if (!line) {
      return;
    }
    if (!waiting || (!stuck && waiting < 2)) {
      line.hidden = true;
      line.textContent = "";
      return;
    }
    var text = waiting === 1 ? label(panel, "waiting-one") : label(panel, "waiting-many").replace("{n}", String(waiting));
    line.textContent = stuck ? text + " " + label(panel, "offline") : text;
    line.hidden = false;
  }

  function forget(panel, entry) {
    var key = outboxKey(panel);
    queues[key] = (queues[key] || []).filter(function (other) { return other.id !== entry.id; });
    store.remove(entry.id);
  }

  // The server has the message (send() only reports success with it): its own rendering replaces the pending one.
  function confirmed(panel, entry, html) {
    forget(panel, entry);
    var bubble = bubbleOf(panel, entry);
    var fresh = fromHtml(html).querySelector("[data-message-id]");
    fresh.classList.add("mine");
    var known = document.getElementById(fresh.id);
    if (known && known !== bubble) {
      if (bubble) {
        bubble.remove();
      }
      return;
    }
    if (bubble) {
      bubble.replaceWith(fresh);
    } else {
      addToThread(panel, fresh);
    }
  }

  function refusal(entry, request) {
    var panel = panelFor(entry.ticket);
    var form = panel.querySelector("[data-composer]");
    if (request.status === 413) {
      var limit = form ? parseInt(form.getAttribute("data-max-file-bytes"), 10) || 0 : 0;
      var name = entry.files.length ? entry.files[0].name : "";
      return label(panel, "too-large").replace("{name}", name).replace("{mb}", String(Math.round(limit / 1048576)));
    }
    var text = fromHtml(request.responseText || "").textContent.replace(/\s+/g, " ").trim();
    return text.length && text.length < 400 ? text : String(request.status);
  }

  function send(entry, panel) {
    return new Promise(function (resolve) {
      var form = new FormData();
      form.append("csrf_token", csrf());
      form.append("client_id", entry.id);
      if (entry.as === "code") {
        form.append("as", "code");
      }
      if (entry.body) {
        form.append("body", entry.body);
      }
      var size = 0;
      entry.files.forEach(function (file) {
        size += file.blob.size || 0;
        form.append(entry.field, file.blob, file.name);
      });
      var request = new XMLHttpRequest();
      request.open("POST", entry.url);
      request.setRequestHeader("X-CSRFToken", csrf());
      request.setRequestHeader("HX-Request", "true");
      request.timeout = entry.files.length ? 0 : TEXT_TIMEOUT_MS;
      var bubble = bubbleOf(panel, entry);
      var bar = bubble && bubble.querySelector("[data-progress]");
      if (bar && size > PROGRESS_FROM_BYTES) {
        bar.hidden = false;
        request.upload.onprogress = function (event) {
          if (event.lengthComputable) {
            bar.value = Math.round((event.loaded / event.total) * 100);
          }
        };
      }
      request.onload = function () {
        if (bar) {
          bar.hidden = true;
        }
        if (request.status >= 200 && request.status < 300 && /data-message-id=/.test(request.responseText)) {
          resolve({ ok: true, html: request.responseText });
        } else if (request.status >= 200 && request.status < 300) {
          // Answered, but not with the stored message (a sign-in page after a redirect): not sent.
          resolve({ error: label(panel, "failed") });
        } else if (RETRY_STATUSES.indexOf(request.status) >= 0) {
          resolve({ retry: true });
        } else {
          resolve({ error: refusal(entry, request) });
        }
      };
      request.onerror = request.ontimeout = request.onabort = function () {
        if (bar) {
          bar.hidden = true;
        }
        resolve({ retry: true });
      };
      request.send(form);
    });
  }

  function pump(key) {
    var queue = queues[key] || [];
    var entry = queue.filter(function (item) { return item.state === "sending"; })[0];
    var panel = entry && panelFor(entry.ticket);
    if (busy[key] || retryTimers[key] || !entry || !panel) {
      if (panel) {
        showOutboxStatus(panel);
      }
      return;
    }
    busy[key] = true;
    showOutboxStatus(panel);
    send(entry, panel).then(function (result) {
      busy[key] = false;
      if (result.ok) {
        backoff[key] = 0;
        confirmed(panel, entry, result.html);
      } else if (result.retry) {
        backoff[key] = Math.min(RETRY_MAX_MS, (backoff[key] || RETRY_FIRST_MS / 2) * 2);
        retryTimers[key] = window.setTimeout(function () {
          delete retryTimers[key];
          pump(key);
        }, backoff[key]);
      } else {
        entry.state = "failed";
        entry.error = result.error;
        store.put(entry);
        showState(panel, entry);
      }
      pump(key);
    });
  }

  // The connection is back (or may be): try now instead of waiting for the next timer.
  function pumpAll() {
    Object.keys(queues).forEach(function (key) {
      window.clearTimeout(retryTimers[key]);
      delete retryTimers[key];
      backoff[key] = 0;
      pump(key);
    });
  }

  window.addEventListener("online", pumpAll);
  window.addEventListener("offline", function () {
    document.querySelectorAll("[data-messenger]").forEach(showOutboxStatus);
  });

  function enqueue(panel, entry) {
    var key = outboxKey(panel);
    entry.id = newId();
    entry.key = key;
    entry.ticket = panel.getAttribute("data-ticket");
    entry.as = panel.getAttribute("data-as");
    entry.created = Date.now();
    entry.state = "sending";
    entry.error = "";
    (queues[key] = queues[key] || []).push(entry);
    store.put(entry);
    showPending(panel, entry);
    bubbleOf(panel, entry).scrollIntoView({ block: "end" });
    // Someone pressing Send is the best moment to try again what is waiting for the connection.
    window.clearTimeout(retryTimers[key]);
    delete retryTimers[key];
    pump(key);
  }

  // What the page was left with: messages written earlier (offline, or the tab closed) are shown and sent now.
  function loadOutbox(panel) {
    var key = outboxKey(panel);
    if (queues[key]) {
      return;
    }
    queues[key] = [];
    store.list(key).then(function (entries) {
      entries.forEach(function (entry) {
        var stored = threadOf(panel).querySelector('[data-client-id="' + entry.id + '"][data-state="sent"]');
        if (stored) {
          store.remove(entry.id);
          return;
        }
        entry.files = entry.files || [];
        queues[key].push(entry);
        showPending(panel, entry);
      });
      pump(key);
    });
  }

  function reshowPending(panel) {
    (queues[outboxKey(panel)] || []).forEach(function (entry) { showPending(panel, entry); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-messenger] [data-retry], [data-messenger] [data-edit]");
    if (!button) {
      return;
    }
    var panel = panelOf(button);
    var id = button.closest("[data-client-id]").getAttribute("data-client-id");
    var key = outboxKey(panel);
    var entry = (queues[key] || []).filter(function (item) { return item.id === id; })[0];
    if (!entry) {
      return;
    }
    if (button.hasAttribute("data-retry")) {
      entry.state = "sending";
      entry.error = "";
      store.put(entry);
      showState(panel, entry);
      pump(key);
      return;
    }
    // Back to the composer: the text returns to the field; files (often the reason for the refusal) are dropped.
    var input = panel.querySelector('[data-composer] textarea[name="body"]');
    if (!input) {
      return;
    }
    input.value = entry.body + (input.value ? "\n" + input.value : "");
    saveDraft(panel, input.value);
    forget(panel, entry);
    bubbleOf(panel, entry).remove();
    input.focus();
  });

  // Composer: drafts survive a reload, sending hands the text to the outbox.
  function draftKey(panel) {
    return "ticketwerk-draft|" + outboxKey(panel);
  }

  function saveDraft(panel, value) {
    try {
      if (value) {
        window.localStorage.setItem(draftKey(panel), value);
      } else {
        window.localStorage.removeItem(draftKey(panel));
      }
    } catch (error) {
      // Private mode or a full storage: the text stays in the field all the same.
    }
  }

  function restoreDraft(panel) {
    var input = panel.querySelector('[data-composer] textarea[name="body"]');
    var draft = null;
    try {
      draft = window.localStorage.getItem(draftKey(panel));
    } catch (error) {
      draft = null;
    }
    if (input && draft && !input.value) {
      input.value = draft;
    }
  }

  function composerError(form, text) {
    fill(form.querySelector("[data-composer-error]"), text);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-composer]")) {
      return;
    }
    event.preventDefault();
    var panel = panelOf(form);
    var input = form.querySelector('textarea[name="body"]');
    var picker = form.querySelector('input[type="file"][name="files"]');
    var files = picker ? Array.prototype.slice.call(picker.files) : [];
    composerError(form, "");
    if (!input.value.trim() && !files.length) {
      input.focus();
      return;
    }
    var most = parseInt(form.getAttribute("data-max-files"), 10) || 0;
    if (most && files.length > most) {
      composerError(form, label(panel, "too-many").replace("{limit}", String(most)).replace("{count}", String(files.length)));
      return;
    }
    var limit = parseInt(form.getAttribute("data-max-file-bytes"), 10) || 0;
    var large = files.filter(function (file) { return limit && file.size > limit; })[0];
    if (large) {
      composerError(form, label(panel, "too-large").replace("{name}", large.name).replace("{mb}", String(Math.round(limit / 1048576))));
      return;
    }
    enqueue(panel, {
      url: form.action, field: "files", body: input.value,
      files: files.map(function (file) { return { name: file.name, blob: file }; })
    });
    input.value = "";
    if (picker) {
      picker.value = "";
      form.querySelector("[data-file-names]").textContent = "";
    }
    saveDraft(panel, "");
  });

  // Read markers: the panel's read form (htmx, debounced) posts the newest message once the reader has seen it.
  function markRead(panel) {
    var form = panel.querySelector("[data-read-form]");
    var messages = threadOf(panel).querySelectorAll("[data-message-id]");
    var last = messages.length ? parseInt(messages[messages.length - 1].getAttribute("data-message-id"), 10) : 0;
    if (!form || last <= parseInt(panel.getAttribute("data-last-read") || "0", 10)) {
      return;
    }
    panel.setAttribute("data-last-read", String(last));
    form.querySelector('[name="message"]').value = String(last);
    form.dispatchEvent(new CustomEvent("messages-seen"));
  }

  function readWhenSeen(panel) {
    if (document.visibilityState === "visible") {
      markRead(panel);
    }
  }

  // Live messages.
  document.body.addEventListener("message-posted", function (event) {
    var data = event.detail || {};
    var panel = panelFor(data.ticket);
    if (!panel || document.getElementById("message-" + data.id)) {
      return;
    }
    var thread = threadOf(panel);
    var follow = nearBottom(panel);
    var fragment = fromHtml(data.html || "");
    var fresh = fragment.querySelector("[data-message-id]");
    if (!fresh) {
      return;
    }
    // Rendered once for every reader: whose message it is, each page knows for itself.
    var mine = data.author && data.author === panel.getAttribute("data-me");
    fresh.classList.toggle("mine", Boolean(mine));
    var pending = fresh.getAttribute("data-client-id") &&
      thread.querySelector('[data-client-id="' + fresh.getAttribute("data-client-id") + '"]');
    if (pending) {
      pending.replaceWith(fresh);
    } else {
      if (!mine && (!follow || document.visibilityState !== "visible") && !thread.querySelector("[data-unread-marker]")) {
        var marker = panel.querySelector("template[data-unread-marker-template]").content.firstElementChild;
        addToThread(panel, marker.cloneNode(true));
      }
      addToThread(panel, fresh);
    }
    hideTyping(panel, data.author);
    if (follow || mine) {
      fresh.scrollIntoView({ block: "end" });
    }
    if (follow && !mine) {
      readWhenSeen(panel);
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      document.querySelectorAll("[data-messenger]").forEach(markRead);
      pumpAll();
    }
  });

  // After a reconnect the thread is fetched again (messages may have been missed) and the outbox tried at once;
  // the composer slot re-checks itself on realtime-reconnected.
  document.body.addEventListener("realtime:connected", function () {
    document.querySelectorAll("[data-messenger]").forEach(function (panel) {
      if (panel.getAttribute("data-was-offline") === "yes") {
        threadOf(panel).dispatchEvent(new CustomEvent("messenger-reconnected"));
      }
      panel.removeAttribute("data-was-offline");
    });
    pumpAll();
  });

  document.body.addEventListener("realtime:disconnected", function () {
    document.querySelectorAll("[data-messenger]").forEach(function (panel) {
      panel.setAttribute("data-was-offline", "yes");
    });
  });

  // Messages an htmx form appended (assistant link, video session) may also have arrived over the socket.
  function dropDoubles(panel) {
    var seen = {};
    threadOf(panel).querySelectorAll("[data-message-id]").forEach(function (el) {
      var id = el.getAttribute("data-message-id");
      if (seen[id]) {
        el.remove();
      }
      seen[id] = true;
    });
  }

  // Typing indicator.
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
    var panel = panelOf(input);
    saveDraft(panel, input.value);
    var now = Date.now();
    var rt = realtime();
    if (!rt || !rt.connected() || now - lastTypingSent < TYPING_SEND_MS || !input.value.trim()) {
      return;
    }
    lastTypingSent = now;
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

  // Formatting toolbar.
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
    saveDraft(panelOf(button), input.value);
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.matches && input.matches('[data-messenger] input[type="file"][name="files"]')) {
      var names = Array.prototype.map.call(input.files, function (file) { return file.name; });
      var out = panelOf(input).querySelector("[data-file-names]");
      if (out) {
        out.textContent = names.join(", ");
      }
      composerError(input.form, "");
    }
  });

  // Voice messages: the recorder panel shows one state at a time (recording, done, denied), or is closed.
  function recordingType() {
    var types = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
    for (var i = 0; i < types.length; i += 1) {
      if (window.MediaRecorder.isTypeSupported && window.MediaRecorder.isTypeSupported(types[i])) {
        return types[i];
      }
    }
    return "";
  }

  function showVoice(panel, state) {
    var box = panel.querySelector("[data-voice-panel]");
    var status = box.querySelector("[data-voice-status]");
    box.hidden = !state;
    box.querySelector("[data-voice-stop]").hidden = state !== "recording";
    box.querySelector("[data-voice-preview]").hidden = state !== "done";
    box.querySelector("[data-voice-send]").hidden = state !== "done";
    status.textContent = state ? status.getAttribute("data-" + state) : status.textContent;
  }

  function resetVoice(panel) {
    var ticket = panel.getAttribute("data-ticket");
    var state = recorders[ticket];
    delete recorders[ticket];
    if (state) {
      state.stream.getTracks().forEach(function (track) { track.stop(); });
      if (state.recorder.state !== "inactive") {
        state.recorder.stop();
      }
    }
    panel.querySelector("[data-voice-preview]").removeAttribute("src");
    showVoice(panel, null);
  }

  function startRecording(panel) {
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
        stream.getTracks().forEach(function (track) { track.stop(); });
        if (recorders[ticket] === state) {  // not discarded meanwhile
          state.blob = new Blob(state.chunks, { type: recorder.mimeType || type || "audio/webm" });
          panel.querySelector("[data-voice-preview]").src = URL.createObjectURL(state.blob);
          showVoice(panel, "done");
        }
      });
      showVoice(panel, "recording");
      recorder.start(250);
    }).catch(function () {
      showVoice(panel, "denied");
    });
  }

  function sendRecording(panel) {
    var state = recorders[panel.getAttribute("data-ticket")];
    var form = panel.querySelector("[data-composer]");
    if (!state || !state.blob || !form) {
      return;
    }
    var extension = /ogg/.test(state.blob.type) ? "ogg" : /mp4/.test(state.blob.type) ? "m4a" : "webm";
    enqueue(panel, {
      url: form.getAttribute("data-voice-url"), field: "audio", body: "",
      files: [{ name: "voice." + extension, blob: state.blob }]
    });
    resetVoice(panel);
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest && event.target.closest("[data-messenger] button");
    var panel = target && panelOf(target);
    var state = panel && recorders[panel.getAttribute("data-ticket")];
    if (!target) {
      return;
    } else if (target.hasAttribute("data-voice-start")) {
      startRecording(panel);
    } else if (target.hasAttribute("data-voice-stop") && state && state.recorder.state !== "inactive") {
      state.recorder.stop();
    } else if (target.hasAttribute("data-voice-send")) {
      sendRecording(panel);
    } else if (target.hasAttribute("data-voice-discard")) {
      resetVoice(panel);
    }
  });

  // Set-up (first load, and whenever htmx swapped in a composer slot, thread entries or the whole thread).
  function setUpComposer(panel) {
    var start = panel.querySelector("[data-voice-start]");
    if (start && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder) {
      start.hidden = false;
    }
    restoreDraft(panel);
  }

  document.addEventListener("htmx:after:swap", function () {
    document.querySelectorAll("[data-messenger]").forEach(function (panel) {
      setUpComposer(panel);
      dropDoubles(panel);
      reshowPending(panel);
    });
  });

  document.querySelectorAll("[data-messenger]").forEach(function (panel) {
    setUpComposer(panel);
    loadOutbox(panel);
    // htmx sets up the read form on its next task (it loads first, so its timer runs before this one).
    window.setTimeout(function () { readWhenSeen(panel); }, 0);
  });
})();
