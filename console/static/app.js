// app.js: the console's screens. It talks to notifyd only through the
// browser client (notifyd.js: clients/js, served by the Go handler; a user's
// connection) and admin.js (a publisher's calls), and builds every node with
// dom.js: server and user text is only ever set as text.
//
// The token is kept in memory; "Keep me signed in on this tab" also keeps it
// in sessionStorage (this tab only, gone when the tab closes). Never
// localStorage, never a cookie, never a URL but the websocket's.

import { NotifydClient } from "./notifyd.js";
import { Admin } from "./admin.js";
import { h, svg, clear, safeURL, initials, hue, when } from "./dom.js";

const STORAGE_KEY = "notifyd.console.token";
const root = document.getElementById("app");
const toasts = document.getElementById("toasts");

// ---------------------------------------------------------------- helpers

/** toast shows a short message; kind is error, ok or info. */
function toast(text, kind = "error") {
  const el = h("div", { class: "toast toast-" + kind, role: kind === "error" ? "alert" : "status" },
    h("span", { class: "toast-dot" }), h("span", { class: "toast-text", text }));
  toasts.append(el);
  setTimeout(() => el.classList.add("toast-out"), 4500);
  setTimeout(() => el.remove(), 5000);
}

function icon(name) {
  const paths = {
    bell: "M12 3a6 6 0 0 0-6 6v3.5L4.5 15v1h15v-1L18 12.5V9a6 6 0 0 0-6-6zm-2.2 15a2.2 2.2 0 0 0 4.4 0z",
    hash: "M9 3 7.5 21M16.5 3 15 21M4 8.5h17M3 15.5h17",
    send: "M3 11.5 21 3l-6.5 18-3.2-7.3z",
    check: "m5 12.5 4.5 4.5L19 7.5",
  };
  const stroke = name === "hash" || name === "check";
  return svg("svg", { class: "icon icon-" + name, viewBox: "0 0 24 24", "aria-hidden": "true" },
    svg("path", stroke
      ? { d: paths[name], fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round" }
      : { d: paths[name], fill: "currentColor" }));
}

function avatar(name, id, extra = "") {
  const el = h("span", { class: "avatar " + extra, "aria-hidden": "true", text: initials(name) });
  // CSSOM, not a style attribute: the CSP forbids inline styles.
  el.style.setProperty("--h", String(hue(id || name)));
  return el;
}

/** claims decodes a JWT's payload for display only (the server verifies it). */
function claims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
    const c = JSON.parse(json);
    return c && typeof c === "object" ? c : null;
  } catch {
    return null;
  }
}

/** expiry describes a JWT's exp claim (Unix seconds) for the sign-in hint. */
function expiry(exp) {
  if (typeof exp !== "number") return "";
  const min = Math.round((exp * 1000 - Date.now()) / 60e3);
  if (min <= 0) return ", expired";
  return min < 120 ? ", expires in " + min + " min" : ", expires in " + Math.round(min / 60) + " h";
}

const isJWT = (t) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(t);
const shortName = (principal) => String(principal || "").replace(/^[a-z]+:/i, "");

function brand() {
  return h("div", { class: "brand" },
    h("img", { src: "icon.svg", alt: "", width: "28", height: "28" }),
    h("span", { class: "brand-name", text: "notifyd" }),
    h("span", { class: "brand-sub", text: "console" }));
}

function brandNote() {
  return h("p", { class: "footnote", text: "The token stays in this tab's memory and is sent only to this server." });
}

// ---------------------------------------------------------------- sign in

function showSignIn(message) {
  let current = null;
  const input = h("textarea", {
    id: "token", rows: "4", spellcheck: "false", autocomplete: "off", autocapitalize: "off",
    placeholder: "eyJhbGciOi…  or a publisher token", "aria-label": "Token",
  });
  const hint = h("p", { class: "hint", id: "token-hint", text: "User tokens are JWTs; publisher tokens open the admin view." });
  const remember = h("input", { type: "checkbox", id: "remember" });
  const button = h("button", { class: "btn primary wide", id: "signin", type: "submit", text: "Sign in" });
  input.addEventListener("input", () => {
    const t = input.value.trim();
    if (!t) hint.textContent = "User tokens are JWTs; publisher tokens open the admin view.";
    else if (isJWT(t)) {
      const c = claims(t);
      hint.textContent = c && c.sub ? "User token for " + c.sub + expiry(c.exp) : "User token";
    } else hint.textContent = "Publisher token: the admin view";
  });
  const form = h("form", {
    class: "signin-card",
    on: {
      submit: async (e) => {
        e.preventDefault();
        const t = input.value.trim();
        if (!t || current) return;
        button.disabled = true;
        button.textContent = "Signing in…";
        current = signIn(t, remember.checked).finally(() => {
          current = null;
          button.disabled = false;
          button.textContent = "Sign in";
        });
      },
    },
  },
  brand(),
  h("h1", { text: "Sign in to the console" }),
  h("p", { class: "muted", text: "Paste a user token to watch your notifications and spaces live, or a publisher token to publish and watch the gateway." }),
  h("label", { class: "label", for: "token", text: "Token" }),
  input, hint,
  h("label", { class: "check" }, remember, h("span", { text: "Keep me signed in on this tab (sessionStorage)" })),
  button,
  brandNote());
  clear(root).append(h("main", { class: "signin" }, form));
  root.dataset.view = "signin";
  if (message) toast(message);
  input.focus();
}

async function signIn(token, remember) {
  try {
    if (isJWT(token)) {
      const view = new UserView(token, claims(token) || {});
      await view.start();
    } else {
      const admin = new Admin({ token });
      await admin.check();
      new AdminView(admin).start();
    }
    if (remember) sessionStorage.setItem(STORAGE_KEY, token);
  } catch (err) {
    sessionStorage.removeItem(STORAGE_KEY);
    toast(err.status === 401 ? "This token was refused: it is invalid, expired or revoked." : String(err.message || err));
  }
}

function signOut(message) {
  sessionStorage.removeItem(STORAGE_KEY);
  showSignIn(message);
}

// ---------------------------------------------------------------- user view

const STATE_LABEL = { connecting: "Connecting…", reconnecting: "Reconnecting…", open: "Live", closed: "Offline" };
const STATUSES = new Set(["info", "success", "warning", "error", "danger"]);
const QUICK_REACTIONS = ["👍", "🎉", "❤️", "👀"];

class UserView {
  constructor(token, c) {
    this.me = { id: String(c.sub || ""), name: String(c.name || shortName(c.sub) || "you") };
    // This origin is notifyd and the site. storage null: the catch-up cursor
    // stays in memory like the token (a reload reads the inbox again).
    this.conn = new NotifydClient({ url: location.origin, token, storage: null });
    this.unread = 0;
    this.notifications = []; // newest first
    this.spaces = []; // most recent activity first
    this.selected = ""; // "" is the feed, else a space id
    this.messages = new Map(); // space id -> messages, oldest first
    this.typing = new Map(); // space id -> Map(principal -> timer)
    this.lastTyping = 0;
    this.names = new Map(); // principal -> display name, from messages seen
  }

  async start() {
    // One REST call first: a refused token stays on the sign-in screen.
    const inbox = await this.conn.inbox({ limit: 50 });
    this.notifications = (inbox.notifications || []).filter((n) => n && typeof n.id === "string");
    this.unread = Number(inbox.unread) || 0;
    this.mount();
    this.wire();
    this.conn.connect().catch(() => {});
    this.loadSpaces();
  }

  mount() {
    this.stateEl = h("span", { class: "conn-state", id: "conn-state", dataset: { state: "closed" } },
      h("span", { class: "conn-dot" }), h("span", { class: "conn-label", text: "Offline" }));
    this.badge = h("span", { class: "badge", id: "unread-badge", dataset: { count: "0" } });
    this.navCount = h("span", { class: "nav-count", id: "nav-unread" });
    this.spaceList = h("ul", { class: "space-list", id: "space-list" });
    this.spaceCount = h("span", { class: "section-count" });
    this.main = h("main", { class: "content", id: "content" });
    this.feedNav = h("button", { class: "nav-item active", type: "button", dataset: { view: "feed" }, on: { click: () => this.select("") } },
      icon("bell"), h("span", { class: "nav-label", text: "Notifications" }), this.navCount);
    const header = h("header", { class: "topbar" },
      brand(),
      h("div", { class: "topbar-spacer" }),
      this.stateEl,
      h("button", { class: "bell", type: "button", title: "Unread notifications", on: { click: () => this.select("") } }, icon("bell"), this.badge),
      h("div", { class: "me" }, avatar(this.me.name, this.me.id),
        h("div", { class: "me-text" }, h("div", { class: "me-name", text: this.me.name }), h("div", { class: "me-id", text: this.me.id }))),
      h("button", { class: "btn ghost", id: "signout", type: "button", text: "Sign out", on: { click: () => { this.conn.close(); signOut(); } } }));
    const sidebar = h("aside", { class: "sidebar" },
      h("nav", { class: "nav" }, this.feedNav),
      h("div", { class: "section-title" }, h("span", { text: "Spaces" }), this.spaceCount),
      this.spaceList);
    clear(root).append(header, h("div", { class: "shell" }, sidebar, this.main));
    root.dataset.view = "user";
    this.renderBadge();
    this.renderSpaces();
    this.renderMain();
  }

  wire() {
    const c = this.conn;
    c.on("state", ({ state, attempt }) => {
      // A reconnect is "connecting" with attempt > 0.
      this.shownState = state === "connecting" && attempt > 0 ? "reconnecting" : state;
      this.stateEl.dataset.state = this.shownState;
      this.stateEl.dataset.transport = c.transport;
      this.stateEl.lastChild.textContent = (STATE_LABEL[this.shownState] || state) + (state === "open" && c.transport === "sse" ? " (SSE)" : "");
      if (this.selected === "" && this.feedState) this.feedState.textContent = this.feedSubtitle();
      // What arrived between the first REST read and the socket: read again, merge.
      if (state === "open" && !this.synced) {
        this.synced = true;
        this.reloadFeed();
      } else if (state === "open") {
        // Back after a cut: notifications replay from since; spaces are read again.
        this.loadSpaces();
        if (this.selected) this.openSpace(this.selected);
      }
    });
    c.on("disconnected", ({ code }) => {
      signOut(code === 4003
        ? "An administrator disconnected you: sign in with a new token."
        : "The server ended the session (token expired or refused): sign in with a fresh token.");
    });
    c.on("inbox", ({ unread }) => {
      this.unread = unread;
      this.renderBadge();
    });
    c.on("notification", (n) => {
      if (typeof n.id !== "string" || this.notifications.some((x) => x.id === n.id)) return;
      this.notifications.unshift({ ...n, read: false });
      if (this.notifications.length > 200) this.notifications.length = 200;
      this.renderFeed();
    });
    c.on("update", (m) => {
      if (typeof m.space === "string") return this.onSpaceUpdate(m);
      const i = this.notifications.findIndex((x) => x.id === m.id);
      if (i >= 0) {
        this.notifications[i] = { ...this.notifications[i], ...m };
        this.renderFeed();
      }
    });
    c.on("retract", (m) => {
      if (typeof m.space === "string") {
        const list = this.messages.get(m.space);
        if (list) this.messages.set(m.space, list.filter((x) => x.id !== m.id));
        if (this.selected === m.space) this.renderMessages();
        return;
      }
      this.notifications = this.notifications.filter((x) => x.id !== m.id);
      this.renderFeed();
    });
    c.on("gap", (g) => {
      if (!g || !g.space) this.reloadFeed();
      else if (this.selected === g.space) this.openSpace(g.space);
    });
    c.on("message", (m) => this.onMessage(m));
    c.on("activity", (a) => this.bumpSpace(a.space, { unread: 1, timestamp: a.timestamp }));
    c.on("typing", (t) => this.onTyping(t));
    c.on("reaction", (r) => this.onReaction(r));
    c.on("member", (m) => {
      if (m.principal === this.me.id && (!m.joined || m.deleted)) {
        this.spaces = this.spaces.filter((s) => s.id !== m.space);
        if (this.selected === m.space) this.select("");
        this.renderSpaces();
      } else if (m.principal === this.me.id && m.joined) this.loadSpaces();
    });
  }

  async reloadFeed() {
    try {
      const inbox = await this.conn.inbox({ limit: 50 });
      const known = new Set((inbox.notifications || []).map((n) => n.id));
      // Keep live arrivals the page may not list yet; newest first by id (ULIDs sort by time).
      const live = this.notifications.filter((n) => !known.has(n.id) && !n.read);
      this.notifications = live.concat(inbox.notifications || []).sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      this.unread = Number(inbox.unread) || 0;
      this.renderBadge();
      this.renderFeed();
    } catch (err) {
      toast("Could not reload notifications: " + err.message);
    }
  }

  async loadSpaces() {
    try {
      this.spaces = (await this.conn.spaces()).filter((s) => s && typeof s.id === "string");
      this.renderSpaces();
    } catch (err) {
      if (err.status !== 404) toast("Could not load spaces: " + err.message);
    }
  }

  // ------------------------------------------------ header and sidebar

  renderBadge() {
    const n = this.unread;
    const label = n > 99 ? "99+" : String(n);
    this.badge.textContent = n ? label : "";
    this.badge.dataset.count = String(n);
    this.badge.hidden = n === 0;
    this.navCount.textContent = n ? label : "";
    document.title = (n ? "(" + label + ") " : "") + "notifyd console";
    if (this.selected === "" && this.feedState) this.feedState.textContent = this.feedSubtitle();
    if (this.markAll) this.markAll.disabled = n === 0;
  }

  renderSpaces() {
    this.spaceCount.textContent = this.spaces.length ? String(this.spaces.length) : "";
    clear(this.spaceList);
    if (!this.spaces.length) {
      this.spaceList.append(h("li", { class: "space-empty", text: "No spaces yet. Spaces you are a member of appear here." }));
      return;
    }
    for (const s of this.spaces) {
      const last = s.last_message && typeof s.last_message === "object" ? s.last_message : null;
      const preview = last ? (last.sender && last.sender.title ? last.sender.title + ": " : "") + (last.body || last.title || "") : (s.kind === "direct" ? "Direct message" : "No messages yet");
      const unread = Number(s.unread) || 0;
      this.spaceList.append(h("li", {},
        h("button", {
          class: "space-item" + (this.selected === s.id ? " active" : "") + (unread ? " has-unread" : ""),
          type: "button", dataset: { space: s.id }, on: { click: () => this.select(s.id) },
        },
        avatar(s.title || s.id, s.id, "square"),
        h("span", { class: "space-text" },
          h("span", { class: "space-title", text: s.title || s.id }),
          h("span", { class: "space-preview", text: preview })),
        unread ? h("span", { class: "pill", text: unread > 99 ? "99+" : String(unread), title: unread + " unread" }) : null)));
    }
  }

  select(id) {
    this.selected = id;
    this.feedNav.classList.toggle("active", id === "");
    this.renderSpaces();
    this.renderMain();
    if (id) this.openSpace(id);
  }

  renderMain() {
    this.feedState = null;
    this.markAll = null;
    if (this.selected === "") this.renderFeedView();
    else this.renderSpaceView();
  }

  // ------------------------------------------------ notifications

  feedSubtitle() {
    const live = this.conn.state === "open" ? "live" : (STATE_LABEL[this.shownState] || "offline").toLowerCase();
    return (this.unread ? this.unread + " unread" : "All caught up") + " · " + live;
  }

  renderFeedView() {
    this.feedState = h("p", { class: "muted", id: "feed-state", text: this.feedSubtitle() });
    this.markAll = h("button", {
      class: "btn", type: "button", id: "mark-all", disabled: this.unread === 0,
      on: { click: () => this.markRead("all") },
    }, icon("check"), h("span", { text: "Mark all read" }));
    this.feedList = h("ol", { class: "notif-list", id: "feed" });
    clear(this.main).append(h("section", { class: "view" },
      h("div", { class: "view-head" }, h("div", {}, h("h1", { text: "Notifications" }), this.feedState), this.markAll),
      h("div", { class: "view-body" }, this.feedList)));
    this.renderFeed();
  }

  renderFeed() {
    if (this.selected !== "" || !this.feedList) return;
    clear(this.feedList);
    if (!this.notifications.length) {
      this.feedList.append(h("li", { class: "empty" },
        h("div", { class: "empty-icon" }, icon("bell")),
        h("p", { class: "empty-title", text: "No notifications yet" }),
        h("p", { class: "muted", text: "New notifications for you arrive here live." })));
      return;
    }
    for (const n of this.notifications) this.feedList.append(this.notificationItem(n));
  }

  notificationItem(n) {
    const status = STATUSES.has(n.status) ? n.status : "info";
    const source = n.source && typeof n.source === "object" ? n.source : {};
    const who = String(source.title || shortName(source.id) || "notifyd");
    const link = safeURL(n.url, n.host || location.origin);
    return h("li", {
      class: "notification status-" + status + (n.read ? "" : " unread"),
      dataset: { id: n.id },
    },
    avatar(who, source.id || who),
    h("div", { class: "notif-main" },
      h("div", { class: "notif-top" },
        h("span", { class: "notif-title", text: String(n.title || "(no title)") }),
        h("time", { class: "notif-time", datetime: n.timestamp, title: String(n.timestamp || ""), text: when(n.timestamp) })),
      n.message ? h("p", { class: "notif-text", text: String(n.message) }) : null,
      h("div", { class: "notif-meta" },
        h("span", { class: "notif-source", text: who }),
        n.category ? h("span", { class: "tag", text: String(n.category) }) : null,
        link ? h("a", { href: link, target: "_blank", rel: "noopener noreferrer", class: "link", text: "Open" }) : null)),
    h("div", { class: "notif-actions" },
      n.read
        ? h("span", { class: "read-mark", title: "Read" }, icon("check"), h("span", { text: "Read" }))
        : h("button", { class: "btn small mark-read", type: "button", text: "Mark read", on: { click: () => this.markRead([n.id]) } })));
  }

  async markRead(ids) {
    try {
      const counts = await this.conn.markRead(ids);
      for (const n of this.notifications) if (ids === "all" || ids.includes(n.id)) n.read = true;
      if (counts && typeof counts.unread === "number") this.unread = counts.unread;
      this.renderBadge();
      this.renderFeed();
    } catch (err) {
      toast("Could not mark as read: " + err.message);
    }
  }

  // ------------------------------------------------ spaces

  space(id) {
    return this.spaces.find((s) => s.id === id);
  }

  bumpSpace(id, { unread = 0, timestamp = "", last = null } = {}) {
    const i = this.spaces.findIndex((s) => s.id === id);
    if (i < 0) return this.loadSpaces(); // a space we did not know: a new one
    const [s] = this.spaces.splice(i, 1);
    if (unread && this.selected !== id) s.unread = (Number(s.unread) || 0) + unread;
    if (last) s.last_message = last;
    if (timestamp) s.activity = timestamp;
    this.spaces.unshift(s);
    this.renderSpaces();
  }

  renderSpaceView() {
    const s = this.space(this.selected) || { id: this.selected, title: this.selected };
    this.messageList = h("div", { class: "messages", id: "messages", role: "log", "aria-live": "polite" },
      h("p", { class: "muted center", text: "Loading messages…" }));
    this.typingEl = h("div", { class: "typing", id: "typing", "aria-live": "polite" });
    const input = h("textarea", { rows: "1", id: "composer-input", placeholder: "Message " + (s.title || ""), "aria-label": "Message" });
    const send = h("button", { class: "btn primary", id: "send", type: "submit", title: "Send (Enter)" }, icon("send"), h("span", { text: "Send" }));
    const form = h("form", {
      class: "composer", id: "composer",
      on: {
        submit: (e) => {
          e.preventDefault();
          this.sendMessage(s.id, input);
        },
      },
    }, input, send);
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    input.addEventListener("input", () => {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 160) + "px";
      const now = Date.now();
      if (input.value && now - this.lastTyping > 2000) {
        this.lastTyping = now;
        this.conn.typing(s.id).catch(() => {});
      }
    });
    const meta = [s.kind === "direct" ? "Direct message" : "Space", s.members_count ? s.members_count + " members" : ""].filter(Boolean).join(" · ");
    clear(this.main).append(h("section", { class: "view space-view" },
      h("div", { class: "view-head" },
        h("div", { class: "space-head" }, avatar(s.title || s.id, s.id, "square large"),
          h("div", {}, h("h1", { text: s.title || s.id }), h("p", { class: "muted", text: meta })))),
      this.messageList, this.typingEl, form));
    this.composerInput = input;
    this.renderTyping();
  }

  async openSpace(id) {
    const s = this.space(id);
    if (s) s.unread = 0;
    this.renderSpaces();
    try {
      await this.conn.subscribe(id).catch((err) => {
        // Over server-sent events (websockets blocked) a space is read, not followed.
        if (this.conn.state === "open" && err.code !== "unsupported") throw err;
      });
      const data = await this.conn.messages(id, { limit: 50 });
      const list = (data.messages || []).filter((m) => m && typeof m.id === "string").reverse();
      for (const m of list) if (m.sender && m.sender.title) this.names.set(m.sender.id, String(m.sender.title));
      for (const m of list) m.mine = new Set((m.reactions || []).filter((r) => (r.principals || []).includes(this.me.id)).map((r) => r.emoji));
      this.messages.set(id, list);
      if (this.selected === id) {
        this.renderMessages(true);
        this.composerInput.focus();
      }
      const newest = list[list.length - 1];
      if (newest) this.conn.read(id, newest.id).catch(() => {});
    } catch (err) {
      toast("Could not open the space: " + err.message);
    }
  }

  renderMessages(toBottom = false) {
    const el = this.messageList;
    if (!el) return;
    const atBottom = toBottom || el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    const list = this.messages.get(this.selected) || [];
    clear(el);
    if (!list.length) {
      el.append(h("div", { class: "empty" },
        h("div", { class: "empty-icon" }, icon("hash")),
        h("p", { class: "empty-title", text: "No messages yet" }),
        h("p", { class: "muted", text: "Say hello: messages reach every member live." })));
    }
    let prev = null;
    for (const m of list) {
      el.append(this.messageItem(m, prev));
      prev = m;
    }
    if (atBottom) el.scrollTop = el.scrollHeight;
  }

  messageItem(m, prev) {
    const sender = m.sender && typeof m.sender === "object" ? m.sender : {};
    const name = String(sender.title || shortName(sender.id) || "someone");
    const grouped = prev && prev.sender && prev.sender.id === sender.id && Date.parse(m.timestamp) - Date.parse(prev.timestamp) < 5 * 60e3;
    const reactions = h("div", { class: "reactions" });
    for (const r of m.reactions || []) {
      if (!r || !(r.count > 0)) continue;
      const mine = m.mine && m.mine.has(r.emoji);
      reactions.append(h("button", {
        class: "reaction" + (mine ? " mine" : ""), type: "button", title: mine ? "Remove your reaction" : "React",
        on: { click: () => this.react(m, r.emoji, mine) },
      }, h("span", { text: r.emoji }), h("span", { class: "reaction-count", text: String(r.count) })));
    }
    const quick = h("div", { class: "quick-react", role: "toolbar", "aria-label": "React" },
      QUICK_REACTIONS.map((e) => h("button", { type: "button", text: e, title: "React " + e, on: { click: () => this.react(m, e, m.mine && m.mine.has(e)) } })));
    return h("div", { class: "message" + (grouped ? " grouped" : "") + (sender.id === this.me.id ? " own" : ""), dataset: { id: m.id } },
      grouped ? h("span", { class: "avatar-gap" }) : avatar(name, sender.id || name),
      h("div", { class: "msg-main" },
        grouped ? null : h("div", { class: "msg-head" },
          h("span", { class: "msg-sender", text: name }),
          h("time", { class: "msg-time", datetime: m.timestamp, title: String(m.timestamp || ""), text: when(m.timestamp) })),
        m.title ? h("p", { class: "msg-title", text: String(m.title) }) : null,
        h("p", { class: "msg-body", text: String(m.body || "") }),
        (m.attachments || []).map((a) => {
          const u = safeURL(a && a.url);
          return u ? h("a", { class: "attachment link", href: u, target: "_blank", rel: "noopener noreferrer", text: String(a.name || a.title || u) }) : null;
        }),
        reactions.childElementCount ? reactions : null),
      quick);
  }

  async sendMessage(space, input) {
    const body = input.value.trim();
    if (!body) return;
    input.value = "";
    input.style.height = "auto";
    try {
      const ok = await this.conn.send(space, body);
      // The sending connection gets only the ok: add the message here.
      this.onMessage({ space, id: ok.id, kind: "chat", body, sender: { id: this.me.id, title: this.me.name }, timestamp: ok.timestamp || new Date().toISOString() });
    } catch (err) {
      input.value = body;
      toast(err.code === "rate_limited" ? "Slow down: too many messages at once." : "Message not sent: " + err.message);
    }
  }

  onMessage(m) {
    if (!m.space || typeof m.id !== "string") return;
    this.clearTyping(m.space, m.sender && m.sender.id);
    if (m.sender && m.sender.title) this.names.set(m.sender.id, String(m.sender.title));
    const list = this.messages.get(m.space);
    if (list && !list.some((x) => x.id === m.id)) {
      list.push({ ...m, mine: new Set() });
      if (this.selected === m.space) this.renderMessages();
    }
    const mine = m.sender && m.sender.id === this.me.id;
    this.bumpSpace(m.space, { unread: mine ? 0 : 1, timestamp: m.timestamp, last: { body: m.body, title: m.title, sender: m.sender } });
    if (this.selected === m.space && !mine) this.conn.read(m.space, m.id).catch(() => {});
  }

  onSpaceUpdate(m) {
    const list = this.messages.get(m.space);
    const i = list ? list.findIndex((x) => x.id === m.id) : -1;
    if (i < 0) return;
    list[i] = { ...list[i], ...m, reactions: list[i].reactions, mine: list[i].mine };
    if (this.selected === m.space) this.renderMessages();
  }

  async react(m, emoji, remove) {
    try {
      const ok = await this.conn.react(m.id, emoji, { remove });
      this.applyReaction(m, emoji, this.me.id, remove, ok.count);
    } catch (err) {
      toast("Reaction not saved: " + err.message);
    }
  }

  onReaction(r) {
    const m = (this.messages.get(r.space) || []).find((x) => x.id === r.message);
    if (m) this.applyReaction(m, r.emoji, r.principal, r.remove, r.count);
  }

  applyReaction(m, emoji, principal, remove, count) {
    m.reactions = m.reactions || [];
    m.mine = m.mine || new Set();
    let r = m.reactions.find((x) => x.emoji === emoji);
    if (!r) m.reactions.push((r = { emoji, count: 0 }));
    if (typeof count === "number") r.count = count;
    if (principal === this.me.id) remove ? m.mine.delete(emoji) : m.mine.add(emoji);
    m.reactions = m.reactions.filter((x) => x.count > 0);
    if (this.selected === m.space) this.renderMessages();
  }

  // ------------------------------------------------ typing

  onTyping(t) {
    if (!t.space || t.principal === this.me.id) return;
    if (!this.typing.has(t.space)) this.typing.set(t.space, new Map());
    const who = this.typing.get(t.space);
    clearTimeout(who.get(t.principal));
    who.set(t.principal, setTimeout(() => this.clearTyping(t.space, t.principal), 4000));
    this.renderTyping();
  }

  clearTyping(space, principal) {
    const who = this.typing.get(space);
    if (!who || !who.has(principal)) return;
    clearTimeout(who.get(principal));
    who.delete(principal);
    this.renderTyping();
  }

  renderTyping() {
    if (!this.typingEl || !this.selected) return;
    const names = [...(this.typing.get(this.selected) || new Map()).keys()].map((p) => this.names.get(p) || shortName(p));
    clear(this.typingEl);
    if (!names.length) return;
    const text = names.length === 1 ? names[0] + " is typing" : names.length === 2 ? names.join(" and ") + " are typing" : "Several people are typing";
    this.typingEl.append(h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), h("span", { text }));
  }
}

// ---------------------------------------------------------------- admin view

const METRICS = ["notifyd_ws_connections", "notifyd_ws_delivered_total", "notifyd_ws_dropped_total"];
const POLL_MS = 2000;
const SPARK_POINTS = 60;

class AdminView {
  constructor(admin) {
    this.admin = admin;
    this.timer = 0;
    this.prev = null; // last metrics sample and its time
    this.rates = [];
    this.recent = [];
  }

  start() {
    this.mount();
    this.poll();
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = 0;
    this.stopped = true;
  }

  tile(key, label, hint) {
    const value = h("span", { class: "stat-value", text: "…" });
    const sub = h("span", { class: "stat-sub", text: hint });
    this.tiles[key] = { value, sub };
    return h("div", { class: "stat", dataset: { stat: key } }, h("span", { class: "stat-label", text: label }), value, sub);
  }

  mount() {
    this.tiles = {};
    const field = (label, control) => h("label", { class: "field" }, h("span", { class: "label", text: label }), control);
    const target = h("input", { id: "pub-target", required: true, placeholder: "users:bob or role:reviewer", autocomplete: "off", spellcheck: "false" });
    const title = h("input", { id: "pub-title", required: true, value: "Hello from the console", maxlength: "200" });
    const message = h("textarea", { id: "pub-message", rows: "3", text: "This is a test notification." });
    const category = h("input", { id: "pub-category", required: true, value: "console.test", spellcheck: "false" });
    const site = h("input", { id: "pub-site", required: true, value: this.admin.host, spellcheck: "false", autocomplete: "off" });
    const status = h("select", { id: "pub-status" }, ["info", "success", "warning", "error"].map((s) => h("option", { value: s, text: s })));
    const button = h("button", { class: "btn primary", id: "publish", type: "submit" }, icon("send"), h("span", { text: "Publish" }));
    this.recentList = h("ol", { class: "recent", id: "recent" });
    const form = h("form", {
      class: "card", id: "publish-form",
      on: {
        submit: async (e) => {
          e.preventDefault();
          button.disabled = true;
          try {
            const ok = await this.admin.publish({
              site: site.value.trim(),
              target: target.value.trim(), title: title.value.trim(), message: message.value,
              category: category.value.trim(), status: status.value,
            });
            toast("Published to " + target.value.trim(), "ok");
            this.recent.unshift({ id: ok.id, timestamp: ok.timestamp, target: target.value.trim(), title: title.value.trim(), status: status.value });
            this.recent.length = Math.min(this.recent.length, 8);
            this.renderRecent();
          } catch (err) {
            toast(err.status === 401 ? "The publisher token was refused." : "Not published: " + err.message);
          } finally {
            button.disabled = false;
          }
        },
      },
    },
    h("div", { class: "card-head" }, h("h2", { text: "Publish a test notification" }),
      h("p", { class: "muted", text: "Through POST /api/chat/messages with your publisher token." })),
    h("div", { class: "row" }, field("Target principal", target), field("Site", site)),
    h("div", { class: "row" }, field("Category", category), field("Status", status)),
    field("Title", title),
    field("Message", message),
    h("div", { class: "form-foot" }, button),
    h("div", { class: "card-sub" }, h("h3", { text: "Recently published" }), this.recentList));

    this.spark = svg("svg", { class: "spark", viewBox: "0 0 300 60", preserveAspectRatio: "none", "aria-hidden": "true" });
    this.sparkNote = h("span", { class: "muted", text: "" });
    this.source = h("p", { class: "muted small", id: "metrics-source", text: "" });
    const gateway = h("section", { class: "card" },
      h("div", { class: "card-head" }, h("h2", { text: "Gateway" }),
        h("p", { class: "muted", text: "Live figures of the gateway serving this page, every 2 s." })),
      h("div", { class: "stats" },
        this.tile("sessions", "Sessions", "/monitor"),
        this.tile("connections", "Websockets", "open now"),
        this.tile("delivered", "Delivered", "since start"),
        this.tile("dropped", "Dropped", "since start")),
      h("div", { class: "spark-box" }, h("div", { class: "spark-head" }, h("span", { class: "label", text: "Deliveries per second" }), this.sparkNote), this.spark),
      this.source);

    const header = h("header", { class: "topbar" },
      brand(),
      h("div", { class: "topbar-spacer" }),
      h("span", { class: "chip", text: "Publisher" }),
      h("button", { class: "btn ghost", id: "signout", type: "button", text: "Sign out", on: { click: () => { this.stop(); signOut(); } } }));
    clear(root).append(header, h("main", { class: "admin" },
      h("div", { class: "admin-head" }, h("h1", { text: "Admin" }), h("p", { class: "muted", text: "Publish to anyone on this site and watch the gateway deliver it." })),
      h("div", { class: "admin-grid" }, form, gateway)));
    root.dataset.view = "admin";
    this.renderRecent();
    target.focus();
  }

  renderRecent() {
    clear(this.recentList);
    if (!this.recent.length) {
      this.recentList.append(h("li", { class: "muted", text: "Nothing published from this tab yet." }));
      return;
    }
    for (const r of this.recent) {
      this.recentList.append(h("li", { class: "recent-item status-" + (STATUSES.has(r.status) ? r.status : "info") },
        h("span", { class: "recent-title", text: r.title }),
        h("span", { class: "tag", text: r.target }),
        h("time", { class: "muted", datetime: r.timestamp, text: when(r.timestamp) }),
        h("code", { class: "recent-id", text: String(r.id || "") })));
    }
  }

  async poll() {
    const [sessions, metrics] = await Promise.all([this.admin.monitor(), this.admin.metrics(METRICS)]);
    if (this.stopped) return;
    const now = Date.now();
    const show = (k, v, sub) => {
      this.tiles[k].value.textContent = v === null || v === undefined ? "n/a" : Number(v).toLocaleString();
      if (sub !== undefined) this.tiles[k].sub.textContent = sub;
    };
    show("sessions", sessions);
    if (metrics) {
      const d = metrics.notifyd_ws_delivered_total;
      let rate = null;
      if (this.prev && typeof d === "number") rate = Math.max(0, (d - this.prev.d) / ((now - this.prev.t) / 1000));
      if (typeof d === "number") this.prev = { d, t: now };
      show("connections", metrics.notifyd_ws_connections);
      show("delivered", d, rate === null ? "since start" : rate.toFixed(1) + " /s now");
      show("dropped", metrics.notifyd_ws_dropped_total);
      if (rate !== null) this.rates.push(rate);
      if (this.rates.length > SPARK_POINTS) this.rates.shift();
      this.source.textContent = "Source: /monitor and /metrics on this origin.";
    } else {
      for (const k of ["connections", "delivered", "dropped"]) show(k, null, "/metrics not reachable");
      this.source.textContent = "/metrics is not reachable from this page (with NOTIFYD_ADMIN_ADDR it lives on the admin listener): n/a.";
    }
    this.renderSpark();
    this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  renderSpark() {
    clear(this.spark);
    const r = this.rates;
    const max = Math.max(1, ...r);
    this.sparkNote.textContent = r.length ? "peak " + Math.max(...r).toFixed(1) + " /s" : "collecting…";
    // One bar per sample, newest at the right edge; zero is a hairline.
    const w = 300 / SPARK_POINTS;
    r.forEach((v, i) => {
      const hgt = Math.max(1.5, (v / max) * 56);
      this.spark.append(svg("rect", {
        class: v > 0 ? "spark-bar" : "spark-zero",
        x: (300 - (r.length - i) * w + 0.5).toFixed(2), y: (60 - hgt).toFixed(2),
        width: (w - 1).toFixed(2), height: hgt.toFixed(2), rx: "1",
      }));
    });
    this.spark.append(svg("line", { x1: "0", y1: "59.5", x2: "300", y2: "59.5", class: "spark-base" }));
  }
}

// ---------------------------------------------------------------- start

const saved = sessionStorage.getItem(STORAGE_KEY);
if (saved) {
  showSignIn();
  signIn(saved, true);
} else {
  showSignIn();
}
