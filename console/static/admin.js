// admin.js: what the admin view needs with a publisher token. These calls are
// the operator's, not a user's, so they are not part of the browser client
// (notifyd.js) that app.js uses for a user.

import { NotifydError, request } from "./http.js";

export class Admin {
  /** @param {{token: string, base?: string, host?: string}} opts */
  constructor({ token, base = location.origin, host = location.origin }) {
    this._token = token;
    this._base = base.replace(/\/$/, "");
    this.host = host;
  }

  async _fetch(path, init = {}) {
    try {
      return await fetch(new URL(path, this._base).href, {
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
        ...init,
      });
    } catch {
      throw new NotifydError("the server cannot be reached");
    }
  }

  /** check resolves when the server accepts the publisher token. */
  async check() {
    const u = new URL("/api/webhooks", this._base);
    u.searchParams.set("host", this.host);
    try {
      await request("GET", u.href, { token: this._token });
    } catch (err) {
      // 404: webhooks (spaces) are off; the token is checked at the first publish.
      if (err.status !== 404) throw err;
    }
  }

  /** publish sends a notification to site (default: this page's); it resolves to {id, timestamp}. */
  async publish({ site = this.host, target, title, message, category, status }) {
    const body = {
      host: site,
      action: "notify",
      category,
      status,
      title,
      message,
      source: { id: "system:console", title: "notifyd console" },
      target: { principals: [target] },
    };
    return request("POST", new URL("/api/chat/messages", this._base).href, { token: this._token, body });
  }

  /** monitor resolves to the number of sessions, or null. */
  async monitor() {
    try {
      const resp = await this._fetch("/monitor");
      if (!resp.ok) return null;
      const data = await resp.json();
      return typeof data.sessions_count === "number" ? data.sessions_count : null;
    } catch {
      return null;
    }
  }

  /**
   * metrics resolves to {name: value} for the names asked (summed over
   * labels), or null when /metrics is not reachable from here (it moves to
   * the admin listener with NOTIFYD_ADMIN_ADDR).
   */
  async metrics(names) {
    let text;
    try {
      const resp = await this._fetch("/metrics");
      if (!resp.ok) return null;
      text = await resp.text();
    } catch {
      return null;
    }
    return parseMetrics(text, names);
  }
}

/** parseMetrics reads Prometheus text: the sum of each asked metric's samples. */
export function parseMetrics(text, names) {
  const want = new Set(names);
  const out = {};
  for (const line of text.split("\n")) {
    if (!line || line[0] === "#") continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || !want.has(m[1])) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) out[m[1]] = (out[m[1]] || 0) + v;
  }
  return out;
}
