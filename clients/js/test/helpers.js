// Helpers of the tests that run against a real notifyd (js_test.go starts it
// and passes its address and secrets in the environment).
import { createHmac, randomUUID } from 'node:crypto';
import { NotifydClient } from '../notifyd.js';

export const env = {
  url: process.env.NOTIFYD_URL,
  secret: process.env.NOTIFYD_TEST_SECRET,
  publisher: process.env.NOTIFYD_TEST_PUBLISHER,
  site: process.env.NOTIFYD_TEST_SITE || 'http://app.example',
  pageOrigin: process.env.NOTIFYD_TEST_PAGE_ORIGIN,
};

/** Whether the server's address is known (the live tests need it). */
export const live = Boolean(env.url && env.secret && env.publisher);
export const liveSkip = live ? false : 'run through js_test.go (go test ./clients/js): NOTIFYD_URL is not set';

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** An HS256 JWT for sub, signed with the test secret. */
export function mint(sub, { principals = [], ttl = 3600, name } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub, iat: now, exp: now + ttl };
  if (principals.length) claims.principals = principals;
  if (name) claims.name = name;
  const head = b64url({ alg: 'HS256', typ: 'JWT' }) + '.' + b64url(claims);
  return head + '.' + createHmac('sha256', env.secret).update(head).digest('base64url');
}

/** A principal no other test uses. */
export const unique = (prefix = 'users:t') => prefix + '-' + randomUUID().slice(0, 8);

/** Publishes a notification to targets over HTTP; resolves with {id, timestamp}. */
export async function publish(targets, { title = 'Hello', message = 'body', source = 'users:publisher', category = 'test.js', host = env.site } = {}) {
  const resp = await fetch(env.url + '/api/chat/messages', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + env.publisher, 'Content-Type': 'application/json' },
    body: JSON.stringify({ host, action: 'notify', category, title, message, source: { id: source, title: 'Publisher' }, target: { principals: [].concat(targets) } }),
  });
  const body = await resp.json();
  if (resp.status !== 202) throw new Error(`publish: ${resp.status} ${JSON.stringify(body)}`);
  return body;
}

/** POST /api/admin/disconnect for principal. */
export async function disconnect(principal) {
  const resp = await fetch(env.url + '/api/admin/disconnect', {
    method: 'POST',
    headers: { Authorization: 'Bearer ' + env.publisher, 'Content-Type': 'application/json' },
    body: JSON.stringify({ principal }),
  });
  if (resp.status !== 200) throw new Error(`disconnect: ${resp.status} ${await resp.text()}`);
}

/** A Map-backed localStorage. */
export class MemoryStorage {
  constructor() { this.m = new Map(); }
  getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
  setItem(k, v) { this.m.set(k, String(v)); }
  removeItem(k) { this.m.delete(k); }
}

/**
 * A WebSocket constructor for tests: records every URL, exposes the live
 * socket (to cut it), can refuse new sockets while gate.closed (the
 * constructor throws, as a browser's does for a bad URL), and can rewrite
 * the URL of the next socket.
 */
export function recordingWebSocket() {
  const rec = { urls: [], sockets: [], closed: false, rewrite: null };
  rec.WebSocket = class extends WebSocket {
    constructor(url, protocols) {
      if (rec.closed) {
        rec.urls.push('refused:' + url);
        throw new SyntaxError('test gate closed');
      }
      if (rec.rewrite) {
        url = rec.rewrite(url);
        rec.rewrite = null;
      }
      rec.urls.push(url);
      super(url, protocols);
      rec.sockets.push(this);
    }
  };
  rec.last = () => rec.sockets[rec.sockets.length - 1];
  return rec;
}

/** A client of the test server acting for sub (closed by the caller). */
export function client(sub, opts = {}) {
  return new NotifydClient({ url: env.url, host: env.site, token: mint(sub, opts.claims), storage: new MemoryStorage(), ...opts });
}

/**
 * Resolves with the first event of that name whose detail satisfies pred;
 * rejects after ms (a safety net, not a synchronisation).
 */
export function next(c, event, pred = () => true, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${event} event within ${ms} ms`));
    }, ms);
    const off = c.on(event, (d) => {
      if (!pred(d)) return;
      clearTimeout(timer);
      off();
      resolve(d);
    });
  });
}

/** Collects the details of every event of that name. */
export function collect(c, event) {
  const got = [];
  c.on(event, (d) => got.push(d));
  return got;
}

/** Resolves when the client's state becomes open. */
export const opened = (c, ms) => (c.state === 'open' ? Promise.resolve() : next(c, 'state', (s) => s.state === 'open', ms));

/**
 * A fetch for tests: records every request of a server-sent events stream
 * (url and headers), can refuse new streams while closed (rejects, as a
 * network error does), and cut() fails the live stream as a dropped
 * connection would. Other requests go to the global fetch.
 */
export function recordingFetch() {
  const rec = { requests: [], closed: false, cut: () => { throw new Error('no stream yet'); } };
  rec.fetch = async (url, init = {}) => {
    if (!String(url).includes('/sse/chat')) return fetch(url, init);
    rec.requests.push({ url: String(url), headers: { ...(init.headers || {}) } });
    if (rec.closed) throw new TypeError('test gate closed');
    const resp = await fetch(url, init);
    if (!resp.body) return resp;
    const reader = resp.body.getReader();
    let ctl;
    const body = new ReadableStream({
      start(c) { ctl = c; },
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (done) c.close();
          else c.enqueue(value);
        } catch (err) {
          try { c.error(err); } catch { /* already cut */ }
        }
      },
      cancel(reason) { return reader.cancel(reason); },
    });
    rec.cut = () => {
      ctl.error(new TypeError('test cut'));
      reader.cancel().catch(() => {});
    };
    return new Response(body, { status: resp.status, headers: resp.headers });
  };
  return rec;
}

/** A WebSocket constructor that always throws, as if websockets were blocked. */
export class BlockedWebSocket {
  static tries = 0;
  constructor() {
    BlockedWebSocket.tries++;
    throw new SyntaxError('websockets are blocked here');
  }
}
