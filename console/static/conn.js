// conn.js: the console's one door to notifyd, over the wire protocol directly
// (README: "Websocket GET /ws/chat", "REST", "Spaces").
//
// The lead will swap this file for the browser client (clients/js/notifyd.js,
// NotifydClient) once it is merged: the UI uses only what is below, a subset
// of NotifydClient's API with the same names, arguments and results
// (constructor {url, token, host}; state; on(event, cb) with the events
// state {state, attempt}, disconnected {code}, notification, inbox, update,
// retract, gap, message, typing, reaction, activity, member; connect, close;
// subscribe, send, typing, react(id, emoji, {remove}), read; inbox, count,
// markRead, spaces (an array), messages). The swap is then
// `export { NotifydClient as Connection } from "/clients/js/notifyd.js"` or a
// copy of that file here; nothing else changes.
//
// The token lives in this object's memory only. It travels in the
// Authorization header of REST calls and in the websocket URL's ?token=
// (browsers cannot set headers on a websocket); nowhere else.

import { NotifydError, request } from "./http.js";

export { NotifydError };

const PING_EVERY_MS = 25000;
const COMMAND_TIMEOUT_MS = 10000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10000;

// Close codes after which reconnecting with the same token is pointless.
const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_REVOKED = 4003;

/**
 * Connection states, emitted as "state" ({state, attempt, code}): connecting
 * (attempt > 0: a reconnect), open, closed. A token the server refused
 * (4001) or revoked (4003) stops it for good and emits "disconnected".
 */
export class Connection {
  /**
   * @param {{token: string, url?: string, host?: string}} opts
   *   url: notifyd's base URL (default: this page's origin); host: the site
   *   (default: this page's origin, sent as ?host= on REST calls because
   *   browsers omit Origin on same-origin GETs).
   */
  constructor({ token, url = location.origin, host = location.origin }) {
    this._token = token;
    this._base = url.replace(/\/$/, "");
    this._host = host;
    this._handlers = new Map();
    this._pending = new Map();
    this._rid = 0;
    this._ws = null;
    this._since = "";
    this._attempt = 0;
    this._timer = 0;
    this._ping = 0;
    this._stopped = true;
    this._subscribed = new Set();
    this.state = "closed";
  }

  /** on registers cb for event; it returns a function that removes it. */
  on(event, cb) {
    if (!this._handlers.has(event)) this._handlers.set(event, new Set());
    this._handlers.get(event).add(cb);
    return () => this._handlers.get(event)?.delete(cb);
  }

  _emit(event, data) {
    for (const cb of this._handlers.get(event) || []) {
      try {
        cb(data);
      } catch (err) {
        console.error("notifyd console: handler of", event, err);
      }
    }
  }

  _setState(s, detail = {}) {
    this.state = s;
    this._emit("state", { state: s, ...detail });
  }

  /** connect opens the websocket and keeps it open until close(); it resolves once open. */
  connect() {
    this._stopped = false;
    const opened = new Promise((resolve, reject) => {
      const off = this.on("state", ({ state }) => {
        if (state === "open") resolve();
        else if (state === "closed" && this._stopped) reject(new NotifydError("connection closed"));
        else return;
        off();
      });
    });
    this._open();
    return opened;
  }

  /** close closes the websocket for good. */
  close() {
    this._stopped = true;
    clearTimeout(this._timer);
    clearInterval(this._ping);
    if (this._ws) this._ws.close(1000, "bye");
    this._ws = null;
    this._failPending(new NotifydError("connection closed"));
    this._setState("closed");
  }

  _open() {
    const u = new URL("/ws/chat", this._base);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("token", this._token);
    if (this._since) u.searchParams.set("since", this._since);
    this._setState("connecting", { attempt: this._attempt });
    const ws = new WebSocket(u.href);
    this._ws = ws;
    ws.onopen = () => {
      if (ws !== this._ws) return;
      this._attempt = 0;
      this._setState("open");
      this._ping = setInterval(() => ws.readyState === 1 && ws.send("PING"), PING_EVERY_MS);
      // A new socket knows no subscription: renew them.
      for (const space of this._subscribed) this._command({ action: "subscribe", space }).catch(() => {});
    };
    ws.onmessage = (e) => ws === this._ws && this._frame(e.data);
    ws.onclose = (e) => {
      if (ws !== this._ws) return;
      clearInterval(this._ping);
      this._ws = null;
      this._failPending(new NotifydError("connection lost"));
      if (this._stopped) return;
      if (e.code === CLOSE_UNAUTHORIZED || e.code === CLOSE_REVOKED) {
        this._stopped = true;
        this._setState("closed", { code: e.code });
        this._emit("disconnected", { code: e.code, reason: e.reason });
        return;
      }
      // Full jitter, growing from BACKOFF_MIN_MS to BACKOFF_MAX_MS.
      const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this._attempt++);
      this._setState("connecting", { code: e.code, attempt: this._attempt });
      this._timer = setTimeout(() => this._open(), Math.random() * cap);
    };
  }

  _frame(data) {
    if (data === "PONG") return;
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      return;
    }
    if (!m || typeof m !== "object") return;
    if (m.rid && this._pending.has(m.rid) && (m.action === "ok" || m.action === "error")) {
      const p = this._pending.get(m.rid);
      this._pending.delete(m.rid);
      clearTimeout(p.timer);
      if (m.action === "ok") p.resolve(m);
      else p.reject(new NotifydError(String(m.message || m.code), { code: String(m.code || "") }));
      return;
    }
    switch (m.action) {
      case "notify":
        if (typeof m.id === "string") this._since = m.id;
        this._emit("notification", m);
        break;
      case "inbox":
        this._emit("inbox", { unread: Number(m.unread) || 0, unseen: Number(m.unseen) || 0 });
        break;
      case "logout":
        this._emit("logout", m);
        break;
      case "message":
      case "typing":
      case "reaction":
      case "activity":
      case "member":
      case "update":
      case "retract":
      case "gap":
        this._emit(m.action, m);
        break;
    }
  }

  _failPending(err) {
    for (const p of this._pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this._pending.clear();
  }

  _command(cmd) {
    return new Promise((resolve, reject) => {
      const ws = this._ws;
      if (!ws || ws.readyState !== 1) {
        reject(new NotifydError("not connected"));
        return;
      }
      const rid = "c" + ++this._rid;
      const timer = setTimeout(() => {
        this._pending.delete(rid);
        reject(new NotifydError("no answer from the server", { code: "timeout" }));
      }, COMMAND_TIMEOUT_MS);
      this._pending.set(rid, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...cmd, rid }));
    });
  }

  /** subscribe: this connection gets the space's events (renewed on reconnect). */
  async subscribe(space) {
    this._subscribed.add(space);
    return this._command({ action: "subscribe", space });
  }

  /** send posts a message (a string: a chat message's body); it resolves to {id, timestamp}. */
  send(space, message) {
    const m = typeof message === "string" ? { kind: "chat", body: message } : { kind: "chat", ...message };
    return this._command({ action: "send", space, ...m });
  }

  typing(space) {
    return this._command({ action: "typing", space });
  }

  react(messageId, emoji, { remove = false } = {}) {
    return this._command({ action: "react", message: messageId, emoji, remove });
  }

  /** read moves the space's read cursor to until (a message id). */
  read(space, until) {
    return this._command({ action: "read", space, until });
  }

  _rest(method, path, body) {
    const u = new URL(path, this._base);
    u.searchParams.set("host", this._host);
    return request(method, u.href, { token: this._token, body });
  }

  /** inbox: {notifications:[...newest first, with read], unread, unseen, next}. */
  inbox({ limit = 50, before = "" } = {}) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before) q.set("before", before);
    return this._rest("GET", "/api/inbox?" + q);
  }

  count() {
    return this._rest("GET", "/api/inbox/count");
  }

  /** markRead marks ids (an array) read, or everything with "all"; it resolves to the counts. */
  markRead(ids) {
    return this._rest("POST", "/api/inbox/read", ids === "all" ? { all: true } : { ids });
  }

  /** spaces resolves to the caller's spaces, most recent activity first. */
  async spaces() {
    const data = await this._rest("GET", "/api/spaces");
    return (data && data.spaces) || [];
  }

  /** messages: {messages:[...newest first, with reactions], next}. */
  messages(space, { limit = 50, before = "" } = {}) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before) q.set("before", before);
    return this._rest("GET", "/api/spaces/" + encodeURIComponent(space) + "/messages?" + q);
  }
}
