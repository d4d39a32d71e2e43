// core.js: the web messenger's core (docs/messenger.md). Boots from its script tag, keeps the end
// user's session, talks to the SDK API (/sdk/v2) and its realtime stream, queues what is sent until the
// server has it, and draws the widget in a shadow root. How one message's content looks is render.js's
// (hgRenderContent); without it, a message shows its text. Everything here sits in one block, so only
// `window.Heliograph` leaves the bundle.
{
  const SCRIPT = document.currentScript;
  const DEFAULT_COLORS = { brand: "#65758e", conversation: "#0099ff", action: "#0099ff" };
  const defaultPrechat = () => [ // the prechat form when the integration enables it without fields
    { type: "text", name: "name", label: hgText("prechatCaptureNameLabel"), placeholder: hgText("prechatCaptureNamePlaceholder") },
    { type: "email", name: "email", label: hgText("prechatCaptureEmailLabel"), placeholder: hgText("prechatCaptureEmailPlaceholder") },
  ];
  const RETRY = { baseMs: 400, maxMs: 15000 }; // sends and reconnects: doubling delays with jitter
  const POLL = { // the stream's long-poll fallback (docs/messenger.md §4, "The fallback")
    seconds: 25, // each GET …/events waits this long for frames
    socketTries: 3, // WebSockets that close before `ready`, in a row, before the widget polls instead
    socketAgainMs: 5 * 60 * 1000, // while it polls, a WebSocket is tried again after this long
    closeCodes: { 400: 4400, 401: 4401, 403: 4403, 404: 4404, 409: 4409 }, // an HTTP refusal as the socket's close code
  };
  const TYPING_IDLE_MS = 3000; // a pause this long in the composer sends typing:stop
  const TYPING_SHOWN_MS = 10000; // the business's typing shows at most this long without news
  const SESSION_GRACE_MS = 1000; // after our session ended, how long another tab has to store the one that replaces it
  const listeners = new Map(); // event name -> Set of handlers (kept across init/destroy)
  let current = null; // the Messenger that init() made

  // ---- small helpers ----------------------------------------------------------------------------
  const DARK_LUMINANCE = 0.0212; // of #1f2933, the dark text on light colours
  function color(value, fallback) {
    const hex = String(value || "").trim().replace(/^#/, "");
    if (/^[0-9a-f]{6}$/i.test(hex)) return "#" + hex.toLowerCase();
    if (/^[0-9a-f]{3}$/i.test(hex)) return "#" + hex.toLowerCase().split("").map((c) => c + c).join("");
    return fallback;
  }

  function textOn(background) { // dark or white, whichever has the higher contrast ratio (WCAG) on that colour
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(background.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    const light = 0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05;
    return light / (DARK_LUMINANCE + 0.05) > 1.05 / light ? "#1f2933" : "#ffffff";
  }

  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function base64(text) {
    return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
  }

  function base64url(text) {
    return base64(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function backoff(attempt) {
    return Math.min(RETRY.maxMs, RETRY.baseMs * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random() / 2);
  }

  function time(value) { // an ISO timestamp or milliseconds since the epoch, as milliseconds
    return typeof value === "number" ? value : Date.parse(value);
  }

  function pixels(value, fallback) {
    const n = parseInt(value, 10);
    return Number.isFinite(n) && n >= 24 && n <= 200 ? n + "px" : fallback;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  function httpUrl(value) { // the URL if it is http(s), else null: the only links and images core.js draws itself
    return typeof value === "string" && /^https?:/i.test(value) ? value : null;
  }

  function svg(path) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    node.setAttribute("viewBox", "0 0 24 24");
    node.setAttribute("aria-hidden", "true");
    node.setAttribute("focusable", "false");
    const shape = document.createElementNS("http://www.w3.org/2000/svg", "path");
    shape.setAttribute("fill", "currentColor");
    shape.setAttribute("d", path);
    node.append(shape);
    return node;
  }

  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
    close: "M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z",
    send: "M2 21 23 12 2 3v7l15 2-15 2z",
    clip: "M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z",
    list: "M3 5h18v2H3zm0 6h18v2H3zm0 6h18v2H3z",
    pin: "M12 2a7 7 0 0 0-7 7c0 5.3 7 13 7 13s7-7.7 7-13a7 7 0 0 0-7-7zm0 9.5a2.5 2.5 0 1 1 0-5 2.5 2.5 0 0 1 0 5z",
  };

  class HgError extends Error {
    constructor(status, title, code) {
      super(title);
      this.status = status; // 0: no answer (offline, refused connection)
      this.code = code || "";
    }

    get retryable() {
      return this.status === 0 || this.status === 401 || this.status === 408 || this.status === 429 || this.status >= 500;
    }
  }

  const storage = {
    get(key) {
      try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (_) { return null; }
    },
    set(key, value) {
      try {
        if (value === null) localStorage.removeItem(key);
        else localStorage.setItem(key, JSON.stringify(value));
      } catch (_) { /* storage full or denied: the page keeps working without it */ }
    },
  };

  // The files of the send queue, in IndexedDB (localStorage holds only text; a File can be stored there), as
  // {id: clientMessageId, integrationId, file} under their clientMessageId, so that a file chosen offline is
  // sent at the next visit. Each call resolves with its request's result, or null when IndexedDB fails
  // (denied, full, absent): the files then live in memory only, as the queue's texts do without localStorage.
  const fileStore = {
    open() {
      this.db = this.db || new Promise((resolve, reject) => {
        const request = indexedDB.open("heliograph", 1);
        request.onupgradeneeded = () => request.result.createObjectStore("files");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      return this.db;
    },
    async run(mode, work) {
      try {
        const db = await this.open();
        return await new Promise((resolve, reject) => {
          const transaction = db.transaction("files", mode);
          const request = work(transaction.objectStore("files"));
          transaction.oncomplete = () => resolve(request.result);
          transaction.onerror = transaction.onabort = () => reject(transaction.error);
        });
      } catch (_) {
        return null;
      }
    },
    put(id, integrationId, file) { return this.run("readwrite", (files) => files.put({ id, integrationId, file }, id)); },
    remove(id) { return this.run("readwrite", (files) => files.delete(id)); },
    async of(integrationId) { // clientMessageId -> File, for one integration
      const kept = (await this.run("readonly", (files) => files.getAll())) || [];
      return new Map(kept.filter((entry) => entry.integrationId === integrationId).map((entry) => [entry.id, entry.file]));
    },
  };

  function emit(event, ...args) {
    for (const handler of Array.from(listeners.get(event) || [])) {
      try { handler(...args); } catch (error) { setTimeout(() => { throw error; }); }
    }
  }

  function scriptOptions(script) {
    if (!script) return {};
    const data = script.dataset;
    const options = { integrationId: data.integrationId };
    if (script.src) options.apiBase = script.src.replace(/\/messenger\.js(\?.*)?$/, "");
    if (data.apiBase) options.apiBase = data.apiBase;
    if (data.open === "true") options.open = true;
    if (data.displayStyle) options.displayStyle = data.displayStyle;
    return options;
  }

  // ---- the long-poll fallback -------------------------------------------------------------------
  // For a browser without WebSocket, or a network that will not carry one (docs/end-users.md §4, "Fallbacks"):
  // GET …/events in a loop. It wears a WebSocket's face (onmessage, onclose with the close code that an HTTP
  // refusal stands for, send, close), so the messenger drives both alike. `poll(seconds, signal)` asks for the
  // frames after the messenger's cursor and answers {frames, cursor}; `onanswer(cursor)` follows each answer.
  class LongPoll {
    constructor(poll) {
      this.poll = poll;
      this.controller = new AbortController();
      setTimeout(() => this.run());
    }

    send() {} // the server pings no long-poll: there is nothing to answer

    close() {
      this.closed = true;
      this.controller.abort();
    }

    async run() {
      for (let first = true; !this.closed; first = false) {
        let answer;
        try {
          answer = await this.poll(first ? 0 : POLL.seconds, this.controller.signal); // the first answers at once
          if (!answer || !Array.isArray(answer.frames)) throw new Error("Not a long-poll answer"); // a captive portal's page
        } catch (error) {
          if (!this.closed) this.onclose({ code: POLL.closeCodes[error.status] || 1006 });
          return;
        }
        if (first && !this.closed) this.onmessage({ data: JSON.stringify({ type: "ready", heartbeatMs: POLL.seconds * 1000 }) });
        for (const frame of answer.frames) {
          if (!this.closed) this.onmessage({ data: JSON.stringify(frame) });
        }
        if (!this.closed) this.onanswer(answer.cursor);
      }
    }
  }

  // ---- the messenger ----------------------------------------------------------------------------
  class Messenger {
    constructor(options) {
      const fromScript = scriptOptions(SCRIPT);
      this.options = { ...fromScript, ...options };
      if (!this.options.integrationId) throw new Error("Heliograph.init needs an integrationId");
      hgSetText(this.options.customText);
      this.menu = { imageUpload: true, fileUpload: true, shareLocation: false, ...(this.options.menuItems || {}) };
      this.apiBase = String(this.options.apiBase || location.origin).replace(/\/+$/, "");
      this.keys = { session: "heliograph.session." + this.options.integrationId,
                    queue: "heliograph.queue." + this.options.integrationId };
      this.session = storage.get(this.keys.session);
      this.queue = (storage.get(this.keys.queue) || []).filter((item) => item && item.clientMessageId);
      this.conversations = new Map(); // id -> {conversation, participant, messages: Map, businessLastRead}
      this.currentId = null;
      this.pending = new Map(); // clientMessageId -> {resolve, reject}
      this.answeredForms = new Set();
      this.cursor = null;
      this.unread = 0;
      this.opened = false;
      this.sendAttempts = 0;
      this.socketAttempts = 0;
      this.timers = new Set();
      this.onOnline = () => { this.sendAttempts = 0; this.flush(); if (!this.socket) this.reconnect(); };
      this.onVisible = () => { if (document.visibilityState === "visible" && this.opened) { this.setUnread(0); this.markRead(); } };
      this.onStorage = (event) => { // what the other tab wrote (this tab's own copy may not show it yet)
        if (event.key !== this.keys.session || !event.newValue || this.destroyed) return;
        let stored = null;
        try { stored = JSON.parse(event.newValue); } catch (_) { return; }
        if (stored && stored.sessionToken && stored.sessionToken !== (this.session && this.session.sessionToken)) {
          this.takeSession(stored);
        }
      };
      window.addEventListener("online", this.onOnline);
      window.addEventListener("storage", this.onStorage);
      document.addEventListener("visibilitychange", this.onVisible);
    }

    // -- start --
    async start() {
      this.build();
      await this.restoreFiles();
      this.config = await this.loadConfig();
      this.appId = this.config.app.id;
      this.theme();
      this.drawConversation(); // what a page closed before it was sent: pending, and sent below
      if (this.options.jwt && this.options.externalId) await this.login(this.options.externalId, this.options.jwt);
      else if (this.session) await this.syncAndConnect().catch((error) => this.onSyncError(error));
      this.showComposerOrPrechat();
      if (this.queue.length) this.flush();
      if (this.options.open) this.open();
      emit("ready");
    }

    async loadConfig() { // refused: the error stays; unreachable: said, and tried again until it answers
      const path = `/sdk/v2/integrations/${encodeURIComponent(this.options.integrationId)}/config`;
      for (let attempt = 0; ; attempt++) {
        try {
          const found = await this.call("GET", path);
          this.hideError();
          return found.config;
        } catch (error) {
          const [message, final] = await this.explainConfigError(error);
          if (final || this.destroyed) { this.refuse(message); throw error; }
          this.showError(new Error(message));
          await new Promise((resolve) => setTimeout(resolve, backoff(attempt)));
        }
      }
    }

    async explainConfigError(error) { // [what to show, whether trying again is pointless]
      if (error.status === 404) return ["This messenger is not set up: the integration does not exist or is not a web integration.", true];
      if (error.status === 403) return [`This website (${location.origin}) is not allowed to use this messenger.`, true];
      if (error.status !== 0 && !error.retryable) return [hgText("couldNotStart", { reason: error.message }), true];
      if (error.status !== 0) return [hgText("couldNotStartRetrying", { reason: error.message }), false];
      try { // a CORS refusal and a server that cannot be reached fail alike; an opaque request tells them apart
        await fetch(this.apiBase + "/health", { mode: "no-cors", cache: "no-store" });
      } catch (_) {
        return [hgText("couldNotConnect"), false];
      }
      return [`This website (${location.origin}) is not allowed to use this messenger: the integration's ` +
        "originWhitelist does not list it (or the integration does not exist).", true];
    }

    // -- HTTP --
    async call(method, path, body, { auth = true, bearer = null, form = null, signal = undefined } = {}) {
      const headers = {};
      const session = auth && !bearer ? this.session : null; // a refusal names the session it refused
      if (bearer) headers.authorization = "Bearer " + bearer;
      else if (auth && this.session) headers.authorization = "Basic " + base64(`${this.session.userId}:${this.session.sessionToken}`);
      let payload;
      if (form) payload = form;
      else if (body !== undefined) { headers["content-type"] = "application/json"; payload = JSON.stringify(body); }
      let response;
      try {
        response = await fetch(this.apiBase + path, { method, headers, body: payload, mode: "cors", credentials: "omit", signal });
      } catch (_) {
        throw new HgError(0, hgText("serverUnreachable"));
      }
      const text = await response.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch (_) { json = null; }
      if (!response.ok) {
        const first = json && Array.isArray(json.errors) && json.errors[0];
        const error = new HgError(response.status, (first && first.title) || `HTTP ${response.status}`, first && first.code);
        error.session = session;
        throw error;
      }
      return json;
    }

    sdk(method, path, body, options) {
      return this.call(method, `/sdk/v2/apps/${encodeURIComponent(this.appId)}${path}`, body, options);
    }

    userPath() {
      return `/appusers/${encodeURIComponent(this.session.userId)}`;
    }

    // -- session --
    setSession(session) {
      this.session = session;
      storage.set(this.keys.session, session);
    }

    forgetSession() {
      const stored = storage.get(this.keys.session);
      if (!stored || !this.session || stored.sessionToken === this.session.sessionToken) storage.set(this.keys.session, null);
      this.resetUser(null); // (another tab's newer session stays stored)
    }

    resetUser(session) { // another user's turn in this tab: nothing of the last one stays on screen
      this.session = session;
      this.closeSocket();
      this.cursor = null;
      this.conversations.clear();
      this.currentId = null;
      this.user = null;
      for (const item of this.queue) item.conversationId = null; // they go to the next user's conversation
      this.saveQueue();
      if (this.ui) { this.drawConversation(); this.showComposerOrPrechat(); }
    }

    // Our session ended on the server (4401, a 401). A login in another tab of this site ends the anonymous
    // session it hands over or merges, and stores its own: take that one; otherwise forget ours (a logout,
    // the user deleted). That tab's answer and our close cross: it may store its session a moment after we
    // hear of the end, so we wait SESSION_GRACE_MS for it (`onStorage` takes it) before forgetting ours.
    // `used`: the session a refused request was sent with; one this tab no longer has is no news.
    sessionEnded(used = this.session) {
      if (!used || used !== this.session || this.forgetting === used) return;
      const stored = storage.get(this.keys.session);
      if (stored && stored.sessionToken !== used.sessionToken) { this.takeSession(stored); return; }
      this.forgetting = used;
      this.closeSocket();
      this.later(() => {
        this.forgetting = null;
        if (this.session === used) this.forgetSession(); // not taken meanwhile
      }, SESSION_GRACE_MS);
    }

    // The tabs of a site share one session, the one stored: another tab stored a new one (it logged in, or
    // started the visitor's first conversation), so this tab becomes that user, with their history.
    takeSession(session) {
      this.resetUser(session);
      if (this.config) this.reconnect(); // (still starting: start() signs in with it)
    }

    async ensureSession(profile) {
      if (this.session) return this.session;
      if (!this.creating) {
        this.creating = (async () => {
          const body = { integrationId: this.options.integrationId, ...(profile || {}) };
          const created = await this.sdk("POST", "/appusers", body, { auth: false });
          if (this.session) return; // another tab's session was taken meanwhile: this tab goes on with it
          this.setSession({ userId: created.user.id, sessionToken: created.sessionToken });
          this.user = created.user;
          await this.syncAndConnect();
        })().finally(() => { this.creating = null; });
      }
      await this.creating;
      return this.session;
    }

    async syncAndConnect() {
      const session = this.session;
      const synced = await this.sdk("GET", this.userPath() + "/sync");
      if (session !== this.session || this.destroyed) return; // another session was taken meanwhile
      this.user = synced.user;
      for (const entry of synced.conversations || []) {
        const conv = this.conversation(entry.conversation.id, entry.conversation);
        conv.participant = entry.participant || null;
        conv.businessLastRead = entry.conversation.businessLastRead || conv.businessLastRead;
        conv.hasMore = !!entry.hasMore;
        for (const message of entry.messages || []) this.store(conv, message);
      }
      if (!this.currentId || !this.conversations.has(this.currentId)) this.currentId = this.latestConversationId();
      this.cursor = synced.cursor || null;
      this.resync = false;
      this.drawConversation();
      this.setUnread(this.opened ? 0 : this.unreadFromParticipants());
      if (this.opened) this.markRead();
      this.showComposerOrPrechat();
      this.connect();
    }

    onSyncError(error) {
      if (error.status === 401 || error.status === 404) { this.sessionEnded(error.session); return; }
      if (error.status === 403) { this.refuse(`This website (${location.origin}) is not allowed to use this messenger.`); return; }
      this.resync = true;
      this.later(() => this.reconnect(), backoff(this.socketAttempts++));
    }

    unreadFromParticipants() {
      let count = 0;
      for (const conv of this.conversations.values()) count += (conv.participant && conv.participant.unreadCount) || 0;
      return count;
    }

    latestConversationId() {
      let best = null;
      for (const conv of this.conversations.values()) {
        const at = conv.conversation.lastUpdatedAt || conv.conversation.createdAt || "";
        if (!best || at > best.at) best = { id: conv.conversation.id, at };
      }
      return best && best.id;
    }

    conversation(id, shown) {
      let conv = this.conversations.get(id);
      if (!conv) {
        conv = { conversation: shown || { id }, participant: null, messages: new Map(), businessLastRead: null };
        this.conversations.set(id, conv);
      } else if (shown) conv.conversation = shown;
      return conv;
    }

    async ensureConversation() {
      await this.ensureSession();
      if (this.currentId) return this.currentId;
      if (!this.starting) {
        this.starting = (async () => {
          const made = await this.sdk("POST", this.userPath() + "/conversations", {});
          this.conversation(made.conversation.id, made.conversation);
          this.currentId = made.conversation.id;
          this.drawConversation();
        })().finally(() => { this.starting = null; });
      }
      await this.starting;
      return this.currentId;
    }

    // -- the stream --
    connect() {
      if (!this.session || this.socket || this.refused || this.destroyed) return;
      const socket = (!this.polling && this.openSocket()) || this.openPoll();
      this.socket = socket;
      socket.onmessage = (event) => { if (this.socket === socket) this.onFrame(event.data); };
      socket.onclose = (event) => { if (this.socket === socket) this.onSocketClosed(event.code); };
    }

    openSocket() { // null when this browser has no WebSocket (or will not make one): the widget then polls
      const { userId, sessionToken } = this.session;
      const base = this.apiBase.replace(/^http/, "ws");
      const query = this.cursor ? "?cursor=" + encodeURIComponent(this.cursor) : "";
      const url = `${base}/sdk/v2/apps/${encodeURIComponent(this.appId)}/appusers/${encodeURIComponent(userId)}/stream${query}`;
      try {
        return new WebSocket(url, ["heliograph.v1", "auth." + base64url(`${userId}:${sessionToken}`)]);
      } catch (_) { // no WebSocket at all (ReferenceError), or one a policy forbids (SecurityError)
        this.polling = true;
        this.socketAgainAt = Infinity;
        return null;
      }
    }

    openPoll() {
      const poll = new LongPoll((seconds, signal) => {
        const query = (this.cursor ? `cursor=${encodeURIComponent(this.cursor)}&` : "") + `timeout=${seconds}`;
        return this.sdk("GET", `${this.userPath()}/events?${query}`, undefined, { signal });
      });
      poll.onanswer = (cursor) => { if (this.socket === poll) this.onPollAnswer(cursor); };
      return poll;
    }

    onPollAnswer(cursor) {
      if (cursor) this.cursor = cursor;
      this.watchdog();
      if (Date.now() < this.socketAgainAt) return;
      this.closeSocket(); // time to try a WebSocket again: one that fails sends the widget back to polling
      this.polling = false;
      this.socketFailures = POLL.socketTries - 1;
      this.connect();
    }

    chooseTransport(code) { // as a stream closes, before the close is handled: what the next attempt uses
      if (code >= 4000) return; // the server answered and refused: no transport's fault
      if (!this.polling) {
        this.socketFailures = this.connected ? 0 : (this.socketFailures || 0) + 1;
        if (this.socketFailures < POLL.socketTries) return;
        this.polling = true; // WebSockets never get through here (a proxy that refuses the upgrade): poll
        this.socketAgainAt = Date.now() + POLL.socketAgainMs;
        this.socketAttempts = 0;
      } else if (!this.connected && this.socketAgainAt !== Infinity) {
        this.polling = false; // no answer to a poll either: the server is out of reach, WebSocket or not
        this.socketFailures = POLL.socketTries - 1;
      }
    }

    closeSocket() {
      const socket = this.socket;
      this.socket = null;
      clearTimeout(this.silenceTimer);
      if (socket) socket.close(1000);
      if (this.connected) { this.connected = false; emit("disconnected"); }
    }

    onSocketClosed(code) {
      this.socket = null;
      this.chooseTransport(code);
      if (this.connected) { this.connected = false; emit("disconnected"); }
      if (code === 4403) { this.refuse(`This website (${location.origin}) is not allowed to use this messenger.`); return; }
      if (code === 4401 || code === 4404) { this.sessionEnded(); return; }
      if (code === 4400 || code === 4409) this.resync = true; // the cursor is no good: history again
      this.later(() => this.reconnect(), backoff(this.socketAttempts++));
    }

    reconnect() {
      if (this.socket || !this.session || this.refused || this.destroyed) return;
      if (this.resync || !this.cursor) this.syncAndConnect().catch((error) => this.onSyncError(error));
      else this.connect();
    }

    onFrame(data) {
      let frame;
      try { frame = JSON.parse(data); } catch (_) { return; }
      if (!frame || typeof frame !== "object") return;
      if (frame.cursor) this.cursor = frame.cursor;
      this.watchdog(frame.heartbeatMs);
      switch (frame.type) {
        case "ready":
          this.socketAttempts = 0;
          this.connected = true;
          emit("connected");
          this.sendAttempts = 0;
          this.flush();
          break;
        case "message": this.receive(frame.conversationId, frame.message, true); break;
        case "typing:start": case "typing:stop": this.onTyping(frame); break;
        case "conversation:read": this.onRead(frame); break;
        case "message:removed": this.onRemoved(frame.conversationId, frame.messageId); break;
        case "conversation:cleared": this.onRemoved(frame.conversationId, null); break;
        case "conversation:removed": this.onConversationRemoved(frame.conversationId); break;
        case "ping": this.socket && this.socket.send(JSON.stringify({ type: "pong" })); break;
        default: break; // a frame this version does not know: ignored, its cursor kept
      }
    }

    watchdog(heartbeatMs) { // a connection silent for two heartbeats is dead, whatever TCP says: drop it
      if (heartbeatMs) this.heartbeatMs = heartbeatMs;
      clearTimeout(this.silenceTimer);
      const socket = this.socket;
      this.silenceTimer = this.later(() => {
        if (this.socket !== socket || !socket) return;
        this.socket = null;
        socket.close(4000);
        this.onSocketClosed(1006);
      }, 2 * (this.heartbeatMs || 25000) + 5000);
    }

    onTyping(frame) {
      if (!frame.author || frame.author.type !== "business") return;
      const shown = frame.type === "typing:start" && frame.conversationId === this.currentId;
      this.showTyping(shown);
      emit(frame.type, { conversation: { id: frame.conversationId }, name: this.businessName() });
    }

    onRead(frame) {
      if (!frame.author || frame.author.type !== "business" || !frame.lastRead) return;
      const conv = this.conversation(frame.conversationId);
      conv.businessLastRead = frame.lastRead;
      if (frame.conversationId === this.currentId) this.drawSeen();
    }

    onRemoved(conversationId, messageId) { // one message removed (DeleteMessage), or all (null: cleared)
      const conv = this.conversations.get(conversationId);
      if (!conv) return;
      if (messageId === null) { conv.messages.clear(); conv.hasMore = false; } else if (!conv.messages.delete(messageId)) return;
      if (conversationId === this.currentId && this.ui) this.drawConversation();
    }

    onConversationRemoved(conversationId) { // no longer the user's (they left, or it was deleted)
      if (!this.conversations.delete(conversationId)) return;
      for (const item of this.queue) if (item.conversationId === conversationId) item.conversationId = null;
      this.saveQueue();
      if (this.currentId !== conversationId) return;
      this.currentId = this.latestConversationId();
      if (this.ui) { this.ui.list.hidden = true; this.drawConversation(); this.showComposerOrPrechat(); }
    }

    // -- messages in --
    store(conv, message) {
      if (!message || !message.id || conv.messages.has(message.id)) return false;
      conv.messages.set(message.id, message);
      if (message.content && message.content.type === "formResponse" && message.quotedMessage && message.quotedMessage.message) {
        this.answeredForms.add(message.quotedMessage.message.id);
      }
      return true;
    }

    receive(conversationId, message, live) {
      const conv = this.conversation(conversationId);
      if (!this.store(conv, message)) return;
      const shown = conversationId === this.currentId;
      if (shown) this.drawMessage(message);
      const fromBusiness = message.author && message.author.type === "business";
      if (!live || !fromBusiness) return;
      if (shown) this.showTyping(false);
      if (this.opened && shown && document.visibilityState !== "hidden") this.markRead();
      else this.setUnread(this.unread + 1);
      emit("message:received", message, { conversation: { id: conversationId } });
    }

    // -- messages out --
    saveQueue() { // a file is marked `file: true`; its bytes are in fileStore
      storage.set(this.keys.queue, this.queue.map((item) => ({ clientMessageId: item.clientMessageId,
        conversationId: item.conversationId, content: item.content, at: item.at, file: item.file ? true : undefined })));
    }

    async restoreFiles() { // a stored queue's files, back from fileStore; one whose bytes are not there is dropped
      const kept = await fileStore.of(this.options.integrationId);
      const stored = storage.get(this.keys.queue) || []; // read again: another tab may have queued a file meanwhile
      const queued = new Set([...this.queue, ...stored].map((item) => item && item.clientMessageId));
      for (const item of this.queue) if (item.file === true) item.file = kept.get(item.clientMessageId) || null;
      this.queue = this.queue.filter((item) => item.file !== null);
      for (const id of kept.keys()) if (!queued.has(id)) fileStore.remove(id); // left by a tab whose queue lost
      this.saveQueue();
    }

    enqueue(item) {
      item.clientMessageId = randomId();
      item.at = new Date().toISOString();
      const done = new Promise((resolve, reject) => this.pending.set(item.clientMessageId, { resolve, reject }));
      if (item.file) fileStore.put(item.clientMessageId, this.options.integrationId, item.file);
      this.queue.push(item);
      this.saveQueue();
      if (!item.conversationId || item.conversationId === this.currentId) this.drawPending(item);
      this.flush();
      return done;
    }

    sendContent(content, conversationId) {
      return this.enqueue({ content, conversationId: conversationId || this.currentId || null });
    }

    sendFile(file) {
      const type = file.type && file.type.startsWith("image/") ? "image" : "file";
      return this.enqueue({ file, content: { type, text: file.name, altText: file.name }, conversationId: this.currentId || null });
    }

    async flush() {
      if (this.flushing || this.destroyed || this.refused || !this.config) return;
      this.flushing = true;
      try {
        while (this.queue.length) {
          const item = this.queue[0];
          try {
            await this.deliver(item);
          } catch (error) {
            if (error instanceof HgError && error.retryable) {
              if (error.status === 401 && this.session) this.sessionEnded(error.session);
              this.setStatus(item.clientMessageId, hgText(navigator.onLine === false ? "messageWaiting" : "messageSending"));
              clearTimeout(this.flushTimer);
              this.flushTimer = this.later(() => this.flush(), backoff(this.sendAttempts++));
              return;
            }
            this.fail(item, error);
          }
          this.queue.shift();
          this.saveQueue();
          if (item.file) fileStore.remove(item.clientMessageId);
          this.sendAttempts = 0;
        }
      } finally {
        this.flushing = false;
      }
    }

    async deliver(item) {
      await this.ensureSession();
      let conversationId = item.conversationId; // kept: taking another session meanwhile clears the item's
      if (!conversationId) {
        conversationId = item.conversationId = await this.ensureConversation();
        this.saveQueue();
      }
      const path = `/conversations/${encodeURIComponent(conversationId)}`;
      let sent;
      if (item.file) {
        const form = new FormData();
        form.append("source", item.file, item.file.name);
        form.append("clientMessageId", item.clientMessageId);
        sent = await this.sdk("POST", path + "/files", undefined, { form });
      } else {
        sent = await this.sdk("POST", path + "/messages", { content: item.content, clientMessageId: item.clientMessageId });
      }
      const message = sent.messages ? sent.messages[sent.messages.length - 1] : sent.message;
      this.sent(item, message, conversationId);
    }

    sent(item, message, conversationId) {
      this.receive(conversationId, message, false); // drawn once: in place of the pending one, or skipped
      const waiting = this.pending.get(item.clientMessageId);
      this.pending.delete(item.clientMessageId);
      if (waiting) waiting.resolve(message);
      emit("message:sent", message, { conversation: { id: conversationId } });
    }

    fail(item, error) {
      const node = this.findMessage(item.clientMessageId);
      if (node) {
        node.classList.remove("hg-pending");
        node.classList.add("hg-failed");
      }
      this.setStatus(item.clientMessageId, hgText("messageNotDelivered", { reason: error.message }));
      const waiting = this.pending.get(item.clientMessageId);
      this.pending.delete(item.clientMessageId);
      if (waiting) waiting.reject(error);
    }

    // -- activities --
    activity(type) {
      if (!this.session || !this.currentId || this.refused) return Promise.resolve();
      return this.sdk("POST", `/conversations/${encodeURIComponent(this.currentId)}/activity`, { type }).catch(() => {});
    }

    markRead() {
      clearTimeout(this.readTimer);
      this.readTimer = this.later(() => {
        const conv = this.currentId && this.conversations.get(this.currentId);
        if (!conv || !this.opened) return;
        const last = Array.from(conv.messages.values()).filter((m) => m.author && m.author.type === "business")
          .map((m) => m.received).sort().pop();
        if (!last || (conv.readUpTo && conv.readUpTo >= last)) return;
        conv.readUpTo = last;
        this.activity("conversation:read");
      }, 300);
    }

    typed() {
      clearTimeout(this.typingTimer);
      const empty = !this.ui.input.value.trim();
      if (!empty && !this.typing && this.session && this.currentId) { this.typing = true; this.activity("typing:start"); }
      if (this.typing) this.typingTimer = this.later(() => this.stopTyping(), empty ? 0 : TYPING_IDLE_MS);
    }

    stopTyping() {
      clearTimeout(this.typingTimer);
      if (!this.typing) return;
      this.typing = false;
      this.activity("typing:stop");
    }

    // -- identity --
    async login(externalId, jwt) {
      const body = { integrationId: this.options.integrationId };
      if (this.session) Object.assign(body, { userId: this.session.userId, sessionToken: this.session.sessionToken });
      const done = await this.sdk("POST", "/login", body, { bearer: jwt, auth: false });
      if (externalId && done.user.externalId && done.user.externalId !== externalId) {
        throw new Error(`The JWT is for ${done.user.externalId}, not ${externalId}`);
      }
      this.closeSocket();
      this.conversations.clear();
      this.currentId = null;
      this.setSession({ userId: done.user.id, sessionToken: done.sessionToken });
      this.user = done.user;
      await this.syncAndConnect();
      return done.user;
    }

    async logout() {
      if (this.session) await this.sdk("POST", this.userPath() + "/logout", {}).catch(() => {});
      for (const item of this.queue) if (item.file) fileStore.remove(item.clientMessageId);
      this.queue = [];
      this.forgetSession();
    }

    // -- conversations --
    multiConversation() {
      return !!(this.config && this.config.app.settings && this.config.app.settings.multiConvoEnabled) &&
        this.config.integration.canUserCreateMoreConversations !== false;
    }

    async createConversation(fields) {
      await this.ensureSession();
      if (this.conversations.size && !this.multiConversation()) throw new Error("This messenger has one conversation per user");
      const made = await this.sdk("POST", this.userPath() + "/conversations", fields || {});
      this.conversation(made.conversation.id, made.conversation);
      this.showConversation(made.conversation.id);
      return made.conversation;
    }

    async loadConversation(id) {
      if (!this.conversations.has(id)) {
        await this.ensureSession();
        const page = await this.sdk("GET", `/conversations/${encodeURIComponent(id)}/messages`);
        const conv = this.conversation(id);
        for (const message of page.messages || []) this.store(conv, message);
      }
      this.showConversation(id);
      return this.conversations.get(id).conversation;
    }

    showConversation(id) {
      this.currentId = id;
      this.ui.list.hidden = true;
      this.drawConversation();
      this.showComposerOrPrechat();
      if (this.opened) { this.markRead(); this.ui.input.focus(); }
    }

    // -- the UI --
    build() {
      const host = el("div", { "data-heliograph-messenger": "" });
      const root = host.attachShadow({ mode: "open" });
      root.append(el("style", { text: STYLES }));
      const ui = { host, root };
      ui.badge = el("span", { class: "hg-badge", "aria-hidden": "true", hidden: true });
      ui.launcherIcon = el("span", { class: "hg-launcher-icon" }, svg(ICONS.chat));
      ui.launcherText = el("span", { class: "hg-launcher-text", text: hgText("launcherText") });
      ui.launcher = el("button", { type: "button", class: "hg-launcher", "aria-expanded": "false",
        "aria-label": hgText("openChat"), onclick: () => (this.opened ? this.close() : this.open()) },
      ui.launcherIcon, ui.launcherText, ui.badge);
      ui.icon = el("img", { class: "hg-business-icon", alt: "", hidden: true });
      ui.title = el("h2", { class: "hg-title", id: "hg-title", text: hgText("headerText") });
      ui.listButton = el("button", { type: "button", class: "hg-header-button", "aria-label": hgText("conversationListHeaderText"),
        hidden: true, onclick: () => this.toggleList() }, svg(ICONS.list));
      ui.closeButton = el("button", { type: "button", class: "hg-header-button hg-close", "aria-label": hgText("closeChat"),
        onclick: () => this.close() }, svg(ICONS.close));
      const header = el("header", { class: "hg-header" }, ui.icon, ui.title, ui.listButton, ui.closeButton);
      ui.error = el("div", { class: "hg-error", role: "alert", hidden: true });
      ui.intro = el("div", { class: "hg-intro" });
      ui.log = el("div", { class: "hg-log", role: "log", "aria-live": "polite", "aria-label": hgText("messagesLabel"), tabindex: "0" },
        ui.intro);
      ui.list = el("nav", { class: "hg-conversations", "aria-label": hgText("conversationListHeaderText"), hidden: true });
      ui.typing = el("div", { class: "hg-typing", "aria-live": "polite" });
      ui.prechat = el("form", { class: "hg-prechat", hidden: true, onsubmit: (event) => this.submitPrechat(event) });
      ui.input = el("textarea", { class: "hg-input", id: "hg-input", rows: "1", placeholder: hgText("inputPlaceholder"),
        oninput: () => { this.typed(); this.grow(); }, onkeydown: (event) => this.composerKey(event) });
      const menu = this.menu; // which of files, images and the location the composer offers
      const upload = hgText(menu.fileUpload ? "uploadDocument" : "uploadPhoto");
      ui.file = el("input", { type: "file", class: "hg-sr-only", id: "hg-file", tabindex: "-1", "aria-label": upload,
        accept: menu.fileUpload ? null : "image/*", "aria-hidden": "true", onchange: () => this.pickedFile() }); // the button stands for it
      ui.fileButton = el("button", { type: "button", class: "hg-icon-button hg-file-button", "aria-label": upload,
        hidden: !menu.fileUpload && !menu.imageUpload, onclick: () => ui.file.click() }, svg(ICONS.clip));
      ui.locationButton = el("button", { type: "button", class: "hg-icon-button", "aria-label": hgText("shareLocation"),
        hidden: !menu.shareLocation, onclick: () => this.locate() }, svg(ICONS.pin));
      ui.send = el("button", { type: "submit", class: "hg-icon-button hg-send", "aria-label": hgText("sendButtonText") }, svg(ICONS.send));
      ui.composer = el("form", { class: "hg-composer", onsubmit: (event) => { event.preventDefault(); this.submitText(); } },
        el("label", { for: "hg-input", class: "hg-sr-only", text: hgText("messageLabel") }), ui.file, ui.fileButton, ui.locationButton, ui.input, ui.send);
      ui.panel = el("section", { class: "hg-panel", role: "dialog", "aria-labelledby": "hg-title", hidden: true,
        onkeydown: (event) => { if (event.key === "Escape") { event.stopPropagation(); this.close(); } } },
      header, ui.error, ui.list, ui.log, ui.typing, ui.prechat, ui.composer);
      ui.box = el("div", { class: "hg-root" }, ui.panel, ui.launcher);
      root.append(ui.box);
      this.ui = ui;
      this.theme();
      (document.body || document.documentElement).append(host);
    }

    businessName() {
      return this.options.businessName || (this.config && this.config.integration.businessName) || "";
    }

    theme() {
      const integration = (this.config && this.config.integration) || {};
      const custom = this.options.customColors || {};
      const colors = {
        brand: color(custom.brandColor || integration.brandColor, DEFAULT_COLORS.brand),
        conversation: color(custom.conversationColor || integration.conversationColor, DEFAULT_COLORS.conversation),
        action: color(custom.actionColor || integration.actionColor, DEFAULT_COLORS.action),
      };
      const style = this.ui.box.style;
      for (const [name, value] of Object.entries(colors)) {
        style.setProperty(`--hg-${name}`, value);
        style.setProperty(`--hg-${name}-text`, textOn(value));
      }
      style.setProperty("--hg-button-width", pixels(integration.buttonWidth, "58px"));
      style.setProperty("--hg-button-height", pixels(integration.buttonHeight, "58px"));
      const background = httpUrl(integration.backgroundImageUrl);
      style.setProperty("--hg-background", background ? `url("${encodeURI(background)}")` : "none");
      const tab = (this.options.displayStyle || integration.displayStyle) === "tab";
      this.ui.box.classList.toggle("hg-tab", tab);
      this.ui.box.classList.toggle("hg-fixed-intro", !!integration.fixedIntroPane);
      const name = this.businessName();
      this.ui.title.textContent = name && !hgCustomized("headerText") ? name : hgText("headerText");
      this.ui.launcherText.textContent = this.named("launcherText", "launcherTextNamed", name);
      this.ui.launcher.setAttribute("aria-label", this.launcherLabel(this.unread));
      this.setImage(this.ui.icon, this.options.businessIconUrl || integration.businessIconUrl);
      this.drawLauncherIcon(this.options.buttonIconUrl || integration.buttonIconUrl);
      this.drawIntro(name, this.options.businessIconUrl || integration.businessIconUrl);
      this.ui.listButton.hidden = !this.multiConversation();
    }

    named(plain, named, name) { // the text naming the business, unless the page replaced only the plain one
      return name && (hgCustomized(named) || !hgCustomized(plain)) ? hgText(named, { name }) : hgText(plain);
    }

    setImage(img, url) {
      const ok = httpUrl(url);
      img.hidden = !ok;
      if (ok) img.src = ok;
    }

    drawLauncherIcon(url) {
      if (httpUrl(url)) this.ui.launcherIcon.replaceChildren(el("img", { src: url, alt: "" }));
    }

    drawIntro(name, iconUrl) {
      const intro = hgText("introductionText");
      const icon = httpUrl(iconUrl) ? el("img", { src: iconUrl, alt: "", class: "hg-intro-icon" }) : null;
      this.ui.intro.replaceChildren(icon || "", el("p", { class: "hg-intro-name", text: name || hgText("introductionTitle") }),
        el("p", { class: "hg-intro-text", text: intro }));
    }

    open() {
      if (!this.ui || this.opened) return;
      this.opened = true;
      this.ui.panel.hidden = false;
      this.ui.box.classList.add("hg-is-open");
      this.ui.launcher.setAttribute("aria-expanded", "true");
      this.setUnread(0);
      this.markRead();
      this.scrollDown();
      const target = this.ui.prechat.hidden ? this.ui.input : this.ui.prechat.querySelector("input, select");
      if (target && !target.disabled) target.focus();
      else this.ui.closeButton.focus();
      emit("widget:opened");
    }

    close() {
      if (!this.ui || !this.opened) return;
      this.opened = false;
      this.stopTyping();
      this.ui.panel.hidden = true;
      this.ui.box.classList.remove("hg-is-open");
      this.ui.launcher.setAttribute("aria-expanded", "false");
      this.ui.launcher.focus();
      emit("widget:closed");
    }

    setUnread(count) {
      if (count === this.unread && this.ui.badge.hidden === (count === 0)) return;
      this.unread = count;
      this.ui.badge.textContent = count > 99 ? "99+" : String(count);
      this.ui.badge.hidden = count === 0;
      this.ui.launcher.setAttribute("aria-label", this.launcherLabel(count));
      emit("unreadCount", count);
    }

    launcherLabel(unread) {
      const name = this.businessName();
      const label = this.named("openChat", "openChatNamed", name);
      if (!unread) return label;
      return unread === 1 ? hgText("unreadOne", { label }) : hgText("unreadMany", { label, count: unread });
    }

    refuse(message) {
      this.refused = true;
      this.closeSocket();
      clearTimeout(this.flushTimer);
      this.showError(new Error(message));
      this.ui.box.classList.add("hg-refused");
      this.ui.intro.hidden = true;
      for (const control of [this.ui.input, this.ui.send, this.ui.fileButton, this.ui.locationButton]) control.disabled = true;
      this.ui.prechat.hidden = true;
    }

    showTyping(shown) {
      clearTimeout(this.typingShownTimer);
      const name = this.businessName() || hgText("theBusiness");
      this.ui.typing.textContent = shown ? hgText("typing", { name }) : "";
      this.ui.typing.classList.toggle("hg-visible", shown);
      if (shown) this.typingShownTimer = this.later(() => this.showTyping(false), TYPING_SHOWN_MS);
    }

    // -- drawing messages --
    drawConversation() {
      const log = this.ui.log;
      log.replaceChildren();
      if (!this.ui.box.classList.contains("hg-fixed-intro")) log.append(this.ui.intro);
      else this.ui.panel.insertBefore(this.ui.intro, log);
      const conv = this.currentId && this.conversations.get(this.currentId);
      if (conv && conv.hasMore) {
        log.append(el("button", { type: "button", class: "hg-earlier", text: hgText("fetchHistory"),
          onclick: (event) => this.loadEarlier(conv, event.currentTarget) }));
      }
      const messages = conv ? Array.from(conv.messages.values()) : [];
      messages.sort((a, b) => (a.received < b.received ? -1 : a.received > b.received ? 1 : 0));
      for (const message of messages) this.drawMessage(message);
      for (const item of this.queue) {
        if (item.conversationId === this.currentId || !item.conversationId) this.drawPending(item);
      }
      this.showTyping(false);
      this.drawSeen();
    }

    async loadEarlier(conv, button) {
      const oldest = Array.from(conv.messages.values()).sort((a, b) => (a.received < b.received ? -1 : 1))[0];
      button.disabled = true;
      try {
        const query = oldest ? "?page%5Bbefore%5D=" + encodeURIComponent(oldest.id) : "";
        const page = await this.sdk("GET", `/conversations/${encodeURIComponent(conv.conversation.id)}/messages${query}`);
        for (const message of page.messages || []) this.store(conv, message);
        conv.hasMore = !!(page.meta && page.meta.hasMore);
        const fromBottom = this.ui.log.scrollHeight - this.ui.log.scrollTop;
        if (conv.conversation.id === this.currentId) this.drawConversation();
        this.ui.log.scrollTop = this.ui.log.scrollHeight - fromBottom; // the reader stays where they were
      } catch (error) {
        button.disabled = false;
        this.showError(error);
      }
    }

    messageNode(id, fromUser, name) { // its author in words too, for a screen reader: the side says it only to the eye
      return el("div", { class: `hg-message ${fromUser ? "hg-from-user" : "hg-from-business"}`, "data-message-id": id },
        el("span", { class: "hg-sr-only", text: `${fromUser ? hgText("you") : name || hgText("theBusiness")}: ` }));
    }

    findMessage(id) {
      return Array.from(this.ui.log.querySelectorAll(".hg-message")).find((node) => node.dataset.messageId === id) || null;
    }

    drawPending(item) {
      if (this.findMessage(item.clientMessageId)) return;
      const node = this.messageNode(item.clientMessageId, true);
      node.classList.add("hg-pending");
      node.dataset.received = item.at;
      node.append(this.content({ id: item.clientMessageId, content: item.content, author: { type: "user" }, received: item.at }),
        el("div", { class: "hg-status", text: hgText("messageSending") }));
      this.ui.log.append(node);
      this.afterDraw();
    }

    setStatus(clientMessageId, text) {
      const node = this.findMessage(clientMessageId);
      const status = node && node.querySelector(".hg-status");
      if (status) status.textContent = text;
    }

    drawMessage(message) {
      const fromUser = message.author && message.author.type === "user";
      const original = fromUser && message.source && message.source.originalMessageId;
      const pendingNode = original ? this.findMessage(original) : null;
      if (this.findMessage(message.id)) return;
      const name = fromUser ? "" : message.author.displayName || this.businessName();
      const node = this.messageNode(message.id, fromUser, name);
      node.dataset.received = message.received || "";
      node.dataset.author = name;
      node.append(this.content(message));
      if (pendingNode) pendingNode.replaceWith(node);
      else this.insertInOrder(node);
      const before = node.previousElementSibling;
      if (name && !(before && before.classList.contains("hg-from-business") && before.dataset.author === name)) {
        node.prepend(el("div", { class: "hg-author", "aria-hidden": "true", text: name })); // once per run of one author's messages
      }
      this.afterDraw();
    }

    insertInOrder(node) {
      const received = node.dataset.received;
      const later = Array.from(this.ui.log.querySelectorAll(".hg-message:not(.hg-pending)"))
        .find((other) => received && other.dataset.received > received);
      const firstPending = this.ui.log.querySelector(".hg-message.hg-pending");
      this.ui.log.insertBefore(node, later || firstPending || null);
    }

    content(message) { // render.js's content draws its own look; without render.js, core's bubble of text
      if (typeof hgRenderContent === "function") {
        try { return hgRenderContent(message, this.renderUi()); } catch (error) { setTimeout(() => { throw error; }); }
      }
      const content = message.content || {};
      const text = content.text || content.altText || (content.mediaUrl ? content.mediaUrl : `[${content.type || "message"}]`);
      return el("div", { class: "hg-bubble" }, el("span", { class: "hg-text", text }));
    }

    afterDraw() {
      const replies = Array.from(this.ui.log.querySelectorAll(".hg-replies"));
      const last = Array.from(this.ui.log.querySelectorAll(".hg-message")).pop();
      for (const node of replies) node.hidden = !(last && last.contains(node));
      this.drawSeen();
      this.scrollDown();
    }

    drawSeen() {
      for (const node of this.ui.log.querySelectorAll(".hg-seen")) node.remove();
      const conv = this.currentId && this.conversations.get(this.currentId);
      if (!conv || !conv.businessLastRead) return;
      const mine = Array.from(this.ui.log.querySelectorAll(".hg-from-user:not(.hg-pending):not(.hg-failed)")).pop();
      if (mine && mine.dataset.received && time(mine.dataset.received) <= time(conv.businessLastRead)) {
        mine.append(el("div", { class: "hg-seen", text: hgText("messageSeen") }));
      }
    }

    scrollDown() {
      this.ui.log.scrollTop = this.ui.log.scrollHeight;
    }

    renderUi() {
      const conversationId = this.currentId;
      const path = () => `/conversations/${encodeURIComponent(conversationId)}`;
      return {
        postback: (actionId) => this.sdk("POST", path() + "/postback", { actionId }),
        reply: (text, payload) => this.sendContent(payload ? { type: "text", text, payload } : { type: "text", text }, conversationId),
        shareLocation: () => this.shareLocation(conversationId),
        submitForm: async (formMessageId, fields) => {
          const sent = await this.sdk("POST", path() + "/form-responses", { quotedMessageId: formMessageId, fields });
          this.answeredForms.add(formMessageId);
          const message = sent.messages[sent.messages.length - 1];
          this.receive(conversationId, message, false);
          return message;
        },
        openUrl: (url, options) => this.openUrl(url, options || {}),
        isFormAnswered: (formMessageId) => this.answeredForms.has(formMessageId),
      };
    }

    locate() { // the composer's location button: one request at a time (disabled meanwhile)
      const button = this.ui.locationButton;
      button.disabled = true;
      this.shareLocation().then(() => this.hideError(), (error) => this.showError(error))
        .finally(() => { button.disabled = this.refused; });
    }

    shareLocation(conversationId) {
      return new Promise((resolve, reject) => {
        if (!navigator.geolocation) { reject(new Error(hgText("locationNotSupported"))); return; }
        navigator.geolocation.getCurrentPosition((position) => {
          const coordinates = { lat: position.coords.latitude, long: position.coords.longitude };
          resolve(this.sendContent({ type: "location", coordinates }, conversationId));
        }, (error) => reject(new Error(hgText(error.code === 1 ? "locationServicesDenied" : "locationSendingFailed"))));
      });
    }

    openUrl(url, { webview, size }) {
      if (!httpUrl(url)) return;
      if (!webview) { window.open(url, "_blank", "noopener"); return; }
      const frame = el("iframe", { src: url, title: hgText("webviewTitle"), class: "hg-webview-frame", referrerpolicy: "no-referrer",
        sandbox: "allow-scripts allow-forms allow-same-origin allow-popups" }); // it may not navigate the shop's page
      const overlay = el("div", { class: `hg-webview hg-webview-${size || "tall"}`, role: "dialog", "aria-label": hgText("webviewTitle") },
        el("button", { type: "button", class: "hg-header-button hg-webview-close", "aria-label": hgText("closeWebview"),
          onclick: () => overlay.remove() }, svg(ICONS.close)), frame);
      this.ui.panel.append(overlay);
    }

    // -- the composer --
    composerKey(event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submitText();
      }
    }

    grow() {
      const input = this.ui.input;
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 120) + "px";
    }

    submitText() {
      const text = this.ui.input.value.trim();
      if (!text || this.refused) return;
      this.ui.input.value = "";
      this.hideError(); // what went wrong before (a refused file, the location) is past
      this.grow();
      this.stopTyping();
      this.sendContent({ type: "text", text }).catch(() => {});
    }

    pickedFile() {
      const file = this.ui.file.files && this.ui.file.files[0];
      this.ui.file.value = "";
      if (!file || this.refused) return;
      if (!this.menu.fileUpload && !(file.type || "").startsWith("image/")) { this.showError(new Error(hgText("imagesOnly"))); return; }
      this.hideError();
      this.sendFile(file).catch(() => {});
    }

    // -- prechat capture and the conversation list --
    prechatFields() {
      const capture = this.config && (this.options.prechatCapture || this.config.integration.prechatCapture);
      if (!capture || !capture.enabled) return null;
      return Array.isArray(capture.fields) && capture.fields.length ? capture.fields : defaultPrechat();
    }

    showComposerOrPrechat() {
      if (!this.ui || this.refused) return;
      const fields = this.prechatFields();
      const needed = !!fields && !this.currentId && this.conversations.size === 0 && this.queue.length === 0;
      this.ui.prechat.hidden = !needed;
      this.ui.composer.hidden = needed;
      if (needed && !this.ui.prechat.childElementCount) this.drawPrechat(fields);
    }

    drawPrechat(fields) {
      const rows = fields.map((field, i) => {
        const id = `hg-prechat-${i}`;
        const control = field.type === "select" && Array.isArray(field.options)
          ? el("select", { id, name: field.name, required: true },
            ...field.options.map((option) => el("option", { value: option.name, text: option.label || option.name })))
          : el("input", { id, name: field.name, required: true, type: field.type === "email" ? "email" : "text",
            placeholder: field.placeholder || "", autocomplete: field.type === "email" ? "email" : field.name === "name" ? "name" : "off" });
        return el("div", { class: "hg-field" }, el("label", { for: id, text: field.label || field.name }), control);
      });
      this.ui.prechat.replaceChildren(el("p", { class: "hg-prechat-intro", text: hgText("prechatCaptureGreetingText") }),
        ...rows, el("button", { type: "submit", class: "hg-prechat-submit", text: hgText("prechatCaptureSubmit") }));
    }

    async submitPrechat(event) {
      event.preventDefault();
      const profile = {};
      const metadata = {};
      for (const control of this.ui.prechat.querySelectorAll("input, select")) {
        const value = control.value.trim();
        if (control.name === "name") profile.givenName = value;
        else if (control.name === "email") profile.email = value;
        else metadata[control.name] = value;
      }
      const button = this.ui.prechat.querySelector("button");
      button.disabled = true;
      try {
        const fields = { profile, ...(Object.keys(metadata).length ? { metadata } : {}) };
        if (this.session) await this.sdk("PUT", this.userPath(), fields);
        else await this.ensureSession(fields);
        await this.ensureConversation();
        this.showComposerOrPrechat();
        this.ui.input.focus();
      } catch (error) {
        this.showError(new Error(hgText("couldNotStartConversation", { reason: error.message })));
      } finally {
        button.disabled = false;
      }
    }

    toggleList() {
      const list = this.ui.list;
      if (!list.hidden) { list.hidden = true; return; }
      const conversations = Array.from(this.conversations.values())
        .sort((a, b) => ((b.conversation.lastUpdatedAt || "") > (a.conversation.lastUpdatedAt || "") ? 1 : -1));
      const items = conversations.map((conv, i) => {
        const last = Array.from(conv.messages.values()).pop();
        const label = conv.conversation.displayName || hgText("conversationNumbered", { number: conversations.length - i });
        return el("li", {}, el("button", { type: "button", class: "hg-conversation-item", "aria-current": conv.conversation.id === this.currentId ? "true" : false,
          "data-conversation-id": conv.conversation.id, onclick: () => this.showConversation(conv.conversation.id) },
        el("span", { class: "hg-conversation-name", text: label }),
        el("span", { class: "hg-conversation-last", text: (last && last.content && last.content.text) || "" })));
      });
      list.replaceChildren(el("button", { type: "button", class: "hg-new-conversation", text: hgText("newConversationButtonText"),
        onclick: () => this.createConversation().catch((error) => this.showError(error)) }), el("ul", {}, ...items));
      list.hidden = false;
      list.querySelector("button").focus();
    }

    showError(error) {
      this.ui.error.textContent = error.message;
      this.ui.error.hidden = false;
    }

    hideError() {
      this.ui.error.hidden = true;
    }

    // -- the rest --
    later(callback, ms) {
      const timer = setTimeout(() => { this.timers.delete(timer); if (!this.destroyed) callback(); }, ms);
      this.timers.add(timer);
      return timer;
    }

    destroy() {
      this.destroyed = true;
      for (const timer of this.timers) clearTimeout(timer);
      window.removeEventListener("online", this.onOnline);
      window.removeEventListener("storage", this.onStorage);
      document.removeEventListener("visibilitychange", this.onVisible);
      this.closeSocket();
      if (this.ui) this.ui.host.remove();
    }
  }

  // ---- the public API -----------------------------------------------------------------------------
  function started() {
    if (!current) throw new Error("Call Heliograph.init first");
    return current;
  }

  const Heliograph = {
    init(options) {
      if (current) current.destroy();
      try {
        current = new Messenger(options || {});
      } catch (error) {
        return Promise.reject(error);
      }
      return current.start();
    },
    login: (externalId, jwt) => started().login(externalId, jwt),
    logout: () => started().logout(),
    open: () => started().open(),
    close: () => started().close(),
    isOpened: () => !!current && current.opened,
    sendMessage(message, conversationId) {
      const content = typeof message === "string" ? { type: "text", text: message } : message;
      return started().sendContent(content, conversationId);
    },
    getConversations: () => Array.from(started().conversations.values(), (conv) => conv.conversation),
    getUser: () => (current && current.user) || null,
    createConversation: (fields) => started().createConversation(fields),
    loadConversation: (id) => started().loadConversation(id),
    getDisplayedConversation() {
      const shown = current && current.currentId && current.conversations.get(current.currentId);
      return shown ? shown.conversation : null;
    },
    on(event, handler) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(handler);
    },
    off(event, handler) {
      if (handler === undefined) listeners.delete(event);
      else if (listeners.has(event)) listeners.get(event).delete(handler);
    },
    destroy() {
      if (current) current.destroy();
      current = null;
    },
  };

  window.Heliograph = Heliograph;
  if (SCRIPT && SCRIPT.dataset.integrationId && SCRIPT.dataset.autoInit !== "false") {
    Heliograph.init().catch(() => {}); // the widget shows why it could not start
  }
}
