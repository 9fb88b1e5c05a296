// @notifyd/client: the browser (and Node) client of notifyd.
//
// One dependency-free ES module. A NotifydClient keeps one websocket to
// GET /ws/chat (or, where websockets are blocked, a server-sent events
// stream from GET /sse/chat) open for ever: it reconnects with full-jitter backoff, resumes
// with ?since=<last id> (kept in localStorage-like storage per server and
// user), asks getToken() again when the gateway refuses the token, drops the
// duplicates a replay may overlap with, and keeps the connection alive with
// PING/PONG. It emits events (on(event, cb) returns an unsubscribe function),
// runs the spaces commands as promises, and wraps the inbox and spaces REST
// routes.
//
// Security: this module never turns received text into markup. Render
// bodies, titles and names with textContent, never as markup: a sender's
// text is untrusted.

/** Close codes of the gateway (package protocol of notifyd). */
export const CloseCodes = Object.freeze({
  GOING_AWAY: 1001,
  UNSUPPORTED_DATA: 1003,
  TOO_BIG: 1009,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  SLOW_CONSUMER: 4000,
  UNAUTHORIZED: 4001,
  REVOKED: 4003,
});

/** Connection states, in the order a connection goes through them. */
export const States = Object.freeze({ CONNECTING: 'connecting', OPEN: 'open', CLOSED: 'closed' });

const DEFAULTS = {
  backoff: { min: 250, max: 10000 },
  pingInterval: 25000, // a PING text frame this often
  pongTimeout: 10000, // no frame at all this long after a PING: the connection is dead
  connectTimeout: 15000, // a socket not established (first frame) by then is dropped
  commandTimeout: 10000, // a command not answered by then rejects with code "timeout"
  dedupe: 1000, // ids remembered to drop duplicates
  ackDelay: 1000, // with a device, acks are coalesced over this delay
  catchUpLimit: 50, // messages read per space to catch up after a reconnect
  transport: 'auto', // 'websocket', 'sse', or 'auto': websocket, SSE when it keeps failing
  fallbackAfter: 2, // 'auto': websocket failures in a row (no frame received) before SSE
  retryWebSocketEvery: 5, // 'auto', on SSE: every this many connections try the websocket again
  sseHeartbeatTimeout: 60000, // nothing at all on a stream this long (2 heartbeats): reconnect
};

const WS_PATH = '/ws/chat';
const SSE_PATH = '/sse/chat';

/**
 * The error of a refused command or REST call. code is the protocol's
 * ("forbidden", "not_found", "invalid", "rate_limited", "unavailable"), or
 * the client's own ("timeout", "disconnected", "closed", "unauthorized",
 * "unsupported": a command a server-sent events stream cannot carry).
 */
export class NotifydError extends Error {
  constructor(code, message, extra = {}) {
    super(message || code);
    this.name = 'NotifydError';
    this.code = code;
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.field !== undefined) this.field = extra.field;
    if (extra.rid !== undefined) this.rid = extra.rid;
  }
}

// httpCode maps a REST status to the protocol's error codes.
function httpCode(status) {
  if (status === 400 || status === 413 || status === 422) return 'invalid';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  return 'unavailable';
}

// Recent is a bounded set of recent ids, least recently seen dropped first.
class Recent {
  constructor(cap) {
    this.cap = Math.max(1, cap);
    this.ids = new Map();
  }
  // seen records id and reports whether it was already there.
  seen(id) {
    if (this.ids.has(id)) {
      this.ids.delete(id);
      this.ids.set(id, true);
      return true;
    }
    this.ids.set(id, true);
    if (this.ids.size > this.cap) this.ids.delete(this.ids.keys().next().value);
    return false;
  }
}

// tokenSubject reads the sub claim of a JWT without verifying it (the key of
// the stored cursor only: the server verifies).
function tokenSubject(token) {
  try {
    const part = String(token).split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(
      Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''),
    );
    const sub = JSON.parse(json).sub;
    return typeof sub === 'string' ? sub : '';
  } catch {
    return '';
  }
}

function defaultStorage() {
  try {
    return globalThis.localStorage || null; // may throw in sandboxed frames
  } catch {
    return null;
  }
}

/**
 * SSEStream reads GET /sse/chat with fetch and looks, to the client, like a
 * receive-only WebSocket: readyState, onopen, onmessage({data}) once per
 * event (the data lines joined), onclose({code, reason}) when the stream
 * fails, close(). fetch rather than EventSource: it can send the token in a
 * header, and it runs in Node too. A refused token (401) closes with 4001, a
 * busy server (429, 503) with 1013, anything else, and a stream silent for
 * idle ms (the server sends a comment every 30 s), with 1006.
 */
class SSEStream {
  constructor(fetchFn, url, headers, idle) {
    // Immutable after construction.
    this.sse = true;
    this.url = url;
    this._idle = idle;
    this._abort = new AbortController();
    // Owned by the stream's reader.
    this.readyState = 0;
    this.onopen = this.onmessage = this.onerror = this.onclose = null;
    this._buf = '';
    this._data = null; // data lines of the event being read
    this._watchdog = null;
    this._read(fetchFn, headers);
  }

  async _read(fetchFn, headers) {
    let resp;
    try {
      resp = await fetchFn(this.url, { headers, signal: this._abort.signal, cache: 'no-store' });
    } catch {
      return this._end(1006, 'stream not opened');
    }
    if (this.readyState === 3) return;
    if (resp.status !== 200 || !resp.body) {
      if (resp.body) resp.body.cancel().catch(() => {});
      const code = resp.status === 401 ? 4001 : resp.status === 429 || resp.status === 503 ? 1013 : 1006;
      return this._end(code, 'HTTP ' + resp.status);
    }
    this.readyState = 1;
    this._alive();
    if (this.onopen) this.onopen({});
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.readyState === 3) return;
        if (done) return this._end(1006, 'stream ended');
        this._alive();
        this._feed(dec.decode(value, { stream: true }));
      }
    } catch {
      this._end(1006, 'stream lost');
    }
  }

  // _feed splits text into lines (\r\n, \n or \r) and reads each; a \r at
  // the end waits for the next chunk, which may start with its \n.
  _feed(text) {
    this._buf += text;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this._buf);
      if (!m || (m[0] === '\r' && m.index === this._buf.length - 1)) return;
      const line = this._buf.slice(0, m.index);
      this._buf = this._buf.slice(m.index + m[0].length);
      this._line(line);
      if (this.readyState !== 1) return; // a listener closed it
    }
  }

  // _line reads one line of the event stream format: an empty line ends
  // the event; comments (":") only prove the stream alive; id and retry are
  // not needed (the frame carries its id, the client has its own backoff).
  _line(line) {
    if (line === '') {
      const data = this._data;
      this._data = null;
      if (data !== null && this.onmessage) this.onmessage({ data });
      return;
    }
    if (line[0] === ':') return;
    const i = line.indexOf(':');
    if ((i < 0 ? line : line.slice(0, i)) !== 'data') return;
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value[0] === ' ') value = value.slice(1);
    this._data = this._data === null ? value : this._data + '\n' + value;
  }

  _alive() {
    clearTimeout(this._watchdog);
    this._watchdog = setTimeout(() => this._end(1006, 'no heartbeat'), this._idle);
  }

  _end(code, reason) {
    if (this.readyState === 3) return;
    this.close();
    if (this.onclose) this.onclose({ code, reason });
  }

  /** Ends the stream; onclose is not called. */
  close() {
    this.readyState = 3;
    clearTimeout(this._watchdog);
    this._abort.abort();
  }
}

// Actions whose frames are messages with an id to remember and dedupe.
const NOTIFY = 'notify';
const MESSAGE = 'message';

/**
 * A notifyd client. See README.md for the events and methods.
 */
export class NotifydClient {
  constructor(options = {}) {
    if (!options.url) throw new TypeError('NotifydClient: url is required');
    if (!options.token && typeof options.getToken !== 'function') {
      throw new TypeError('NotifydClient: token or getToken is required');
    }
    const u = new URL(options.url, globalThis.location ? globalThis.location.href : undefined);
    let path = u.pathname.replace(/\/+$/, '');
    if (path.endsWith(WS_PATH)) path = path.slice(0, -WS_PATH.length);
    const secure = u.protocol === 'https:' || u.protocol === 'wss:';
    // Immutable after construction.
    this.baseURL = (secure ? 'https://' : 'http://') + u.host + path;
    this.wsURL = (secure ? 'wss://' : 'ws://') + u.host + path + WS_PATH;
    this.sseURL = this.baseURL + SSE_PATH;
    this.host = options.host || (globalThis.location && globalThis.location.origin !== 'null' ? globalThis.location.origin : undefined);
    this.device = options.device;
    this._opts = {
      ...DEFAULTS,
      ...options,
      backoff: { ...DEFAULTS.backoff, ...(options.backoff || {}) },
    };
    this._storage = options.storage === undefined ? defaultStorage() : options.storage;
    this._WebSocket = options.WebSocket || globalThis.WebSocket;
    this._fetch = options.fetch || (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
    this._random = options.random || Math.random;
    this._tokenTransport = options.tokenTransport === 'query' ? 'query' : 'protocol';
    if (!['auto', 'websocket', 'sse'].includes(this._opts.transport)) {
      throw new TypeError("NotifydClient: transport is 'auto', 'websocket' or 'sse'");
    }
    // A cross-origin page sends a stream's token and cursor in the URL: the
    // server answers no CORS preflight on /sse/chat.
    const page = globalThis.location && globalThis.location.origin;
    this._sseInURL = this._tokenTransport === 'query' || Boolean(page && page !== 'null' && page !== new URL(this.baseURL).origin);

    // State of the connection loop.
    this._listeners = new Map(); // event -> Set of callbacks
    this._token = options.token || null;
    this._refresh = false; // the next connect asks getToken({refresh: true})
    this._running = false; // connect() called and neither close() nor a final close since
    this._stopped = false; // close() or a final close: commands are refused until connect()
    this._gen = 0; // counts stops: an attempt started before a stop is abandoned
    this._ws = null; // the live socket, if any
    this._established = false; // the live socket got its first accepted frame
    this._attempt = 0; // failed attempts since the last established connection
    this._wsFailures = 0; // websockets in a row that ended before any frame
    this._fallback = false; // 'auto' gave up on websockets for now: SSE
    this._sseOpens = 0; // connections opened since the fallback
    this._timers = new Set();
    this._retryTimer = null;
    this._pingTimer = null;
    this._pongTimer = null;
    this._connectTimer = null;
    this._ackTimer = null;
    this._acked = '';
    this._lastId = ''; // loaded from storage at the first connect
    this._sinceKey = null; // the storage key _lastId belongs to
    this._recent = new Recent(this._opts.dedupe);
    this.state = States.CLOSED;
    this._waiters = []; // connect() promises waiting for the first open

    // Commands.
    this._rid = 0;
    this._queue = []; // commands waiting for an established connection
    this._pending = new Map(); // rid -> command sent, waiting for its answer
    this._subs = new Set(); // spaces subscribed, re-sent after every reconnect
    this._spaceLast = new Map(); // space -> id of the last message received
  }

  // ---- events ----

  /**
   * Calls cb(detail) for every event of that name; returns a function that
   * removes it. Events: notification, inbox, update, retract, gap, state,
   * error, disconnected, message, typing, reaction, activity, member, frame.
   */
  on(event, cb) {
    if (typeof cb !== 'function') throw new TypeError('on: callback must be a function');
    let set = this._listeners.get(event);
    if (!set) this._listeners.set(event, (set = new Set()));
    set.add(cb);
    return () => this.off(event, cb);
  }

  /** Removes a callback added with on. */
  off(event, cb) {
    const set = this._listeners.get(event);
    if (set) set.delete(cb);
  }

  /** Like on, for the next event only. */
  once(event, cb) {
    const off = this.on(event, (d) => {
      off();
      cb(d);
    });
    return off;
  }

  _emit(event, detail) {
    const set = this._listeners.get(event);
    if (!set) return;
    for (const cb of [...set]) {
      try {
        cb(detail);
      } catch (err) {
        if (event === 'error') setTimeout(() => { throw err; }, 0); // surface it, never loop
        else this._emit('error', err);
      }
    }
  }

  // ---- connection ----

  /** The id of the last message received (the next ?since=). */
  get lastId() {
    return this._lastId;
  }

  /** 'websocket' or 'sse': the transport of the current (or next) connection. */
  get transport() {
    if (this._ws) return this._ws.sse ? 'sse' : 'websocket';
    return this._useSSE(false) ? 'sse' : 'websocket';
  }

  // _useSSE says whether the next connection is a stream; count: it is
  // being opened (with 'auto' on SSE, every retryWebSocketEvery-th
  // connection tries the websocket again).
  _useSSE(count) {
    if (this._opts.transport !== 'auto') return this._opts.transport === 'sse';
    if (!this._fallback) return false;
    const n = count ? ++this._sseOpens : this._sseOpens + 1;
    return n % this._opts.retryWebSocketEvery !== 0;
  }

  // _wsFailed counts a websocket that ended before any frame: after
  // fallbackAfter in a row, 'auto' switches to SSE.
  _wsFailed(ws) {
    if (ws.sse || ws.heard) return;
    this._wsFailures++;
    if (this._opts.transport === 'auto' && this._wsFailures >= this._opts.fallbackAfter && !this._fallback) {
      this._fallback = true;
      this._sseOpens = 0;
    }
  }

  /**
   * Starts the connection loop (idempotent). The promise resolves when a
   * connection is first established and rejects if the client is closed or
   * disconnected for good before that.
   */
  connect() {
    const p = new Promise((resolve, reject) => {
      if (this._running && this.state === States.OPEN) return resolve();
      this._waiters.push({ resolve, reject });
    });
    if (!this._running) {
      this._running = true;
      this._stopped = false;
      this._open();
    }
    p.catch(() => {}); // a caller that does not await connect() gets no unhandled rejection
    return p;
  }

  /** Closes the connection and stops reconnecting. Pending commands reject with code "closed". */
  close() {
    const was = this.state;
    this._stop(new NotifydError('closed', 'client closed'));
    if (was !== States.CLOSED) this._setState(States.CLOSED, { code: 1000, reason: 'client closed' });
  }

  _stop(err) {
    this._gen++;
    this._running = false;
    this._stopped = true;
    this._clearConnTimers();
    this._clearTimer(this._retryTimer);
    this._retryTimer = null;
    this._flushAck();
    if (this._ws) {
      const ws = this._ws;
      this._detach();
      try {
        ws.close(1000);
      } catch { /* already closing */ }
    }
    for (const w of this._waiters.splice(0)) w.reject(err);
    for (const c of this._queue.splice(0)) this._settle(c, err);
    for (const c of [...this._pending.values()]) this._settle(c, err);
  }

  _setState(state, detail = {}) {
    if (this.state === state && state !== States.CLOSED) return;
    this.state = state;
    this._emit('state', { state, ...detail });
  }

  _timer(fn, ms) {
    const t = setTimeout(() => {
      this._timers.delete(t);
      fn();
    }, ms);
    this._timers.add(t);
    return t;
  }

  _clearTimer(t) {
    if (t) {
      clearTimeout(t);
      this._timers.delete(t);
    }
  }

  _clearConnTimers() {
    for (const k of ['_pingTimer', '_pongTimer', '_connectTimer']) {
      this._clearTimer(this[k]);
      this[k] = null;
    }
  }

  _storageKey() {
    return 'notifyd:since:' + this.baseURL + '|' + (this.host || '') + '|' + tokenSubject(this._token);
  }

  async _currentToken() {
    if (typeof this._opts.getToken === 'function' && (this._refresh || !this._token)) {
      this._token = await this._opts.getToken({ refresh: this._refresh });
      this._refresh = false;
    }
    if (!this._token) throw new NotifydError('unauthorized', 'getToken returned no token');
    return this._token;
  }

  async _open() {
    this._retryTimer = null;
    if (!this._running) return;
    const gen = this._gen; // a close() (and connect()) while getToken runs abandons this attempt
    this._setState(States.CONNECTING, { attempt: this._attempt });
    let token;
    try {
      token = await this._currentToken();
    } catch (err) {
      if (gen !== this._gen) return;
      this._emit('error', err);
      return this._retry();
    }
    if (!this._running || gen !== this._gen) return;
    const key = this._storageKey();
    if (this._sinceKey !== key) {
      // First connect, or another user: start from that user's stored cursor.
      this._sinceKey = key;
      this._lastId = '';
      try {
        this._lastId = (this._storage && this._storage.getItem(key)) || '';
      } catch { /* storage refused */ }
    }
    const sse = this._useSSE(true);
    const inURL = sse ? this._sseInURL : this._tokenTransport === 'query';
    const q = new URLSearchParams();
    if (inURL) q.set('token', token);
    if (this.host) q.set('host', this.host);
    if (this._lastId && (inURL || !sse)) q.set('since', this._lastId);
    if (this.device) q.set('device', this.device);
    const url = (sse ? this.sseURL : this.wsURL) + (q.toString() ? '?' + q : '');
    let ws;
    try {
      if (sse) {
        const headers = { Accept: 'text/event-stream' };
        if (!inURL) headers.Authorization = 'Bearer ' + token;
        if (!inURL && this._lastId) headers['Last-Event-ID'] = this._lastId;
        if (!this._fetch) throw new TypeError('NotifydClient: no fetch for SSE (pass options.fetch)');
        ws = new SSEStream(this._fetch, url, headers, this._opts.sseHeartbeatTimeout);
      } else {
        ws = inURL ? new this._WebSocket(url) : new this._WebSocket(url, ['accessToken', token]);
      }
    } catch (err) {
      if (!sse) this._wsFailed({});
      this._emit('error', err);
      return this._retry();
    }
    this._ws = ws;
    this._established = false;
    ws.onopen = () => {
      // PONG answers only an accepted connection: the first frame that is
      // not the logout frame establishes it. A stream is established by its
      // 200 (a refusal after that comes as its close event).
      if (!ws.sse) this._sendRaw('PING');
      else if (ws === this._ws) this._establish();
    };
    ws.onmessage = (e) => this._onFrame(ws, e.data);
    ws.onerror = () => { /* the close event follows */ };
    ws.onclose = (e) => this._onClose(ws, e.code, e.reason);
    this._connectTimer = this._timer(() => this._drop(ws, 'connect timeout'), this._opts.connectTimeout);
  }

  _detach() {
    const ws = this._ws;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    this._ws = null;
    this._established = false;
    this._clearConnTimers();
  }

  // _drop abandons ws (dead, or not established in time) and reconnects.
  _drop(ws, reason) {
    if (ws !== this._ws) return;
    this._wsFailed(ws);
    this._detach();
    try {
      ws.close(1000);
    } catch { /* ignore */ }
    this._lost(1006, reason);
  }

  _onClose(ws, code, reason) {
    if (ws !== this._ws) return;
    this._wsFailed(ws);
    this._detach();
    this._lost(code, reason);
  }

  // _lost handles the end of a connection with the close code.
  _lost(code, reason) {
    this._flushAck();
    const err = new NotifydError('disconnected', 'connection lost before the answer');
    for (const c of [...this._pending.values()]) this._settle(c, err);
    if (code === CloseCodes.REVOKED || (code === CloseCodes.UNAUTHORIZED && typeof this._opts.getToken !== 'function')) {
      this._refresh = true; // a later connect() needs a new token
      this._stop(new NotifydError(code === CloseCodes.REVOKED ? 'revoked' : 'unauthorized', reason || 'disconnected'));
      this._setState(States.CLOSED, { code, reason });
      this._emit('disconnected', { code, reason });
      return;
    }
    if (code === CloseCodes.UNAUTHORIZED) this._refresh = true;
    const retryIn = this._retry();
    this._setState(States.CLOSED, { code, reason, retryIn });
  }

  // _retry schedules the next connection attempt and returns its delay:
  // full jitter, uniform in [0, min(max, min * 2^attempt)).
  _retry() {
    if (!this._running || this._retryTimer) return undefined;
    const { min, max } = this._opts.backoff;
    const cap = Math.min(max, min * 2 ** Math.min(this._attempt, 30));
    const delay = Math.floor(this._random() * cap);
    this._attempt++;
    this._retryTimer = this._timer(() => this._open(), delay);
    return delay;
  }

  _sendRaw(text) {
    const ws = this._ws;
    if (!ws || ws.sse || ws.readyState !== 1) return false;
    try {
      ws.send(text);
      return true;
    } catch {
      return false;
    }
  }

  _schedulePing() {
    this._clearTimer(this._pingTimer);
    this._pingTimer = this._timer(() => {
      const ws = this._ws;
      this._sendRaw('PING');
      if (!this._pongTimer) this._pongTimer = this._timer(() => this._drop(ws, 'no answer to PING'), this._opts.pongTimeout);
      this._schedulePing();
    }, this._opts.pingInterval);
  }

  _establish() {
    const sse = Boolean(this._ws && this._ws.sse);
    this._established = true;
    this._attempt = 0;
    this._clearTimer(this._connectTimer);
    this._connectTimer = null;
    if (!sse) this._schedulePing(); // a stream has the server's heartbeats
    this._setState(States.OPEN, { transport: sse ? 'sse' : 'websocket' });
    for (const w of this._waiters.splice(0)) w.resolve();
    // Subscriptions first (a stream cannot carry them: they wait for the
    // next websocket), then the commands that waited, in their order.
    const queuedSubs = new Set(this._queue.filter((c) => c.frame.action === 'subscribe').map((c) => c.frame.space));
    for (const space of sse ? [] : this._subs) {
      if (queuedSubs.has(space)) continue;
      this._command({ action: 'subscribe', space }, {})
        .then(() => this._catchUp(space))
        .catch((err) => {
          if (err.code === 'disconnected' || err.code === 'closed') return; // re-sent on the next connection
          if (err.code === 'not_found' || err.code === 'forbidden') this._subs.delete(space);
          err.space = space;
          this._emit('error', err);
        });
    }
    for (const c of this._queue.splice(0)) this._transmit(c);
  }

  _onFrame(ws, data) {
    if (ws !== this._ws) return;
    if (!ws.heard && !ws.sse) {
      this._wsFailures = 0; // websockets get through: back from SSE
      this._fallback = false;
    }
    ws.heard = true;
    // Any frame proves the connection alive.
    this._clearTimer(this._pongTimer);
    this._pongTimer = null;
    if (typeof data !== 'string') return; // the gateway sends text only
    if (data === 'PONG') {
      if (!this._established) this._establish();
      return;
    }
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      this._emit('error', new NotifydError('invalid', 'unreadable frame'));
      return;
    }
    if (!f || typeof f !== 'object') return;
    if (f.action === 'logout') {
      // Token refused or expired: a muted socket gets nothing more. Close
      // it, ask getToken again, reconnect.
      this._detach();
      try {
        ws.close(1000);
      } catch { /* ignore */ }
      this._lost(CloseCodes.UNAUTHORIZED, 'logout');
      return;
    }
    if (f.action === 'close' && ws.sse) {
      // The server ends the stream: handled as the websocket's close code.
      this._detach();
      ws.close();
      this._lost(Number(f.code) || 1006, typeof f.reason === 'string' ? f.reason : '');
      return;
    }
    if (!this._established) this._establish();
    this._emit('frame', f);
    switch (f.action) {
      case NOTIFY:
        if (typeof f.id === 'string' && f.id) {
          if (this._recent.seen(f.id)) return; // a replay overlapped
          this._remember(f.id);
        }
        this._emit('notification', f);
        return;
      case MESSAGE:
        // Space messages do not move since (the gateway's replay is the
        // inbox's, where a space message id is answered with a gap): a
        // reconnect catches up each subscribed space over REST instead.
        if (typeof f.id === 'string' && f.id) {
          if (this._recent.seen(f.id)) return;
          if (f.space) this._spaceLast.set(f.space, f.id);
        }
        this._emit('message', f);
        return;
      case 'ok':
      case 'error':
        this._answer(f);
        return;
      case 'inbox':
        this._emit('inbox', { unread: f.unread, unseen: f.unseen });
        return;
      case 'gap':
        this._emit('gap', { since: f.since });
        return;
      case 'update':
      case 'retract':
      case 'typing':
      case 'reaction':
      case 'activity':
      case 'member':
        if (f.action === 'member' && f.space && !f.joined && this._subs.has(f.space) && this._isMe(f.principal)) {
          this._subs.delete(f.space); // removed: nothing to re-send
        }
        this._emit(f.action, f);
        return;
      default:
      // Unknown actions are ignored (see the frame event).
    }
  }

  // _catchUp emits, oldest first, the messages of space stored after the
  // last one received (what a disconnection missed), once subscribed again
  // so that nothing falls between the two; duplicates are dropped. When the
  // last one is not among the newest catchUpLimit, it emits gap {since,
  // space}: reload the space with messages().
  async _catchUp(space) {
    const last = this._spaceLast.get(space);
    if (!last) return;
    const page = await this.messages(space, { limit: this._opts.catchUpLimit });
    const list = (page && page.messages) || [];
    const at = list.findIndex((m) => m.id === last);
    if (at < 0) {
      this._emit('gap', { since: last, space });
      return;
    }
    let cur = last;
    for (const m of list.slice(0, at).reverse()) {
      if (this._recent.seen(m.id)) continue;
      if (this._spaceLast.get(space) === cur) this._spaceLast.set(space, (cur = m.id)); // unless a live one came meanwhile
      this._emit('message', { action: 'message', ...m, space: m.space || space });
    }
  }

  _isMe(principal) {
    return principal && principal === tokenSubject(this._token);
  }

  _remember(id) {
    this._lastId = id;
    try {
      if (this._storage && this._sinceKey) this._storage.setItem(this._sinceKey, id);
    } catch { /* storage full or refused: memory still has it */ }
    if (this.device && !this._ackTimer) this._ackTimer = this._timer(() => this._flushAck(), this._opts.ackDelay);
  }

  _flushAck() {
    this._clearTimer(this._ackTimer);
    this._ackTimer = null;
    if (!this.device || !this._lastId || this._lastId === this._acked) return;
    if (this._sendRaw(JSON.stringify({ action: 'ack', id: this._lastId }))) this._acked = this._lastId;
  }

  // ---- commands (spaces) ----

  _command(frame, opts = {}) {
    return new Promise((resolve, reject) => {
      if (this._stopped) {
        reject(new NotifydError('closed', 'the client is closed: call connect() first'));
        return;
      }
      const rid = 'r' + ++this._rid;
      const c = { frame: { ...frame, rid }, rid, resolve, reject, timer: null };
      const timeout = opts.timeout ?? this._opts.commandTimeout;
      c.timer = this._timer(() => {
        const i = this._queue.indexOf(c);
        if (i >= 0) this._queue.splice(i, 1);
        this._settle(c, new NotifydError('timeout', `no answer to ${frame.action} within ${timeout} ms`, { rid }));
      }, timeout);
      if (this._ws && this._established) this._transmit(c);
      else this._queue.push(c);
    });
  }

  _transmit(c) {
    if (this._ws && this._ws.sse) return this._transmitREST(c);
    this._pending.set(c.rid, c);
    if (!this._sendRaw(JSON.stringify(c.frame))) {
      this._pending.delete(c.rid);
      this._queue.push(c); // the socket just went: wait for the next one
    }
  }

  // _transmitREST runs a command on a stream, which cannot carry it: send
  // goes through POST /api/spaces/{id}/messages and resolves as its ok would
  // ({action, rid, id, timestamp}); anything else rejects with unsupported.
  async _transmitREST(c) {
    const { action, rid, space, ...body } = c.frame;
    if (action !== 'send') {
      this._settle(c, new NotifydError('unsupported', `${action} needs a websocket (this connection is server-sent events)`, { rid }));
      return;
    }
    try {
      const m = await this.request('POST', '/api/spaces/' + encodeURIComponent(space) + '/messages', { body });
      if (m && typeof m.id === 'string') this._recent.seen(m.id); // the sender's own message, were it pushed
      this._settle(c, null, { action: 'ok', rid, id: m && m.id, timestamp: m && m.timestamp });
    } catch (err) {
      err.rid = rid;
      this._settle(c, err);
    }
  }

  _settle(c, err, value) {
    this._clearTimer(c.timer);
    this._pending.delete(c.rid);
    if (err) c.reject(err);
    else c.resolve(value);
  }

  _answer(f) {
    const c = this._pending.get(f.rid);
    if (!c) return; // timed out, or not ours
    if (f.action === 'ok') this._settle(c, null, f);
    else this._settle(c, new NotifydError(f.code || 'invalid', f.message, { rid: f.rid }));
  }

  /** Gets this space's events on this connection and after every reconnect. */
  async subscribe(space) {
    this._subs.add(space);
    try {
      return await this._command({ action: 'subscribe', space });
    } catch (err) {
      // Kept when it may work later (unsupported: on a stream, subscribed
      // once a websocket is back).
      if (!['timeout', 'disconnected', 'unavailable', 'unsupported'].includes(err.code)) this._subs.delete(space);
      throw err;
    }
  }

  /** Stops this space's events. */
  async unsubscribe(space) {
    this._subs.delete(space);
    const queued = this._queue.some((c) => c.frame.action === 'subscribe' && c.frame.space === space);
    // The next connection will not subscribe; a stream has no subscriptions.
    if ((!this._established || this._ws.sse) && !queued) return { action: 'ok' };
    return this._command({ action: 'unsubscribe', space });
  }

  /**
   * Sends a message: send(space, 'text') or send(space, {kind, body, title,
   * thread, attachments, task}). Resolves with {id, timestamp}.
   */
  send(space, message) {
    const m = typeof message === 'string' ? { body: message } : { ...(message || {}) };
    const frame = { action: 'send', space, kind: m.kind || 'chat' };
    for (const k of ['body', 'title', 'thread', 'attachments', 'task']) if (m[k] !== undefined) frame[k] = m[k];
    return this._command(frame);
  }

  /** Tells the space's other subscribers that this user is typing. */
  typing(space) {
    return this._command({ action: 'typing', space });
  }

  /** Adds (or with {remove: true} removes) a reaction; resolves with {count}. */
  react(messageId, emoji, { remove = false } = {}) {
    const frame = { action: 'react', message: messageId, emoji };
    if (remove) frame.remove = true;
    return this._command(frame);
  }

  /** Changes the body of one of the user's messages. */
  edit(messageId, body) {
    return this._command({ action: 'edit', message: messageId, body });
  }

  /** Deletes a message (own messages; moderators any). */
  delete(messageId) {
    return this._command({ action: 'delete', message: messageId });
  }

  /** Alias of delete. */
  deleteMessage(messageId) {
    return this.delete(messageId);
  }

  /** Moves the space's read cursor to until (a message id). */
  read(space, until) {
    return this._command({ action: 'read', space, until });
  }

  // ---- REST ----

  /**
   * Calls a REST route: method, path (from the base URL), query object, JSON
   * body. Resolves with the decoded answer (null for 204); rejects with a
   * NotifydError carrying status, code and the server's message. A 401 asks
   * getToken({refresh: true}) once and retries.
   */
  async request(method, path, { query, body } = {}) {
    if (!this._fetch) throw new TypeError('NotifydClient: no fetch (pass options.fetch)');
    const q = new URLSearchParams();
    if (this.host) q.set('host', this.host);
    for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    const url = this.baseURL + path + (q.toString() ? '?' + q : '');
    for (let tries = 0; ; tries++) {
      const token = await this._currentToken();
      const headers = { Authorization: 'Bearer ' + token };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const resp = await this._fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      if (resp.status === 401 && tries === 0 && typeof this._opts.getToken === 'function') {
        this._refresh = true;
        continue;
      }
      const text = await resp.text();
      let data = null;
      if (text) {
        try {
          data = JSON.parse(text);
        } catch {
          data = null;
        }
      }
      if (!resp.ok) {
        const msg = (data && data.message) || resp.statusText || 'HTTP ' + resp.status;
        throw new NotifydError(httpCode(resp.status), msg, { status: resp.status, field: data && data.field });
      }
      return data;
    }
  }

  /** GET /api/inbox: {notifications, unread, unseen, next, gap}. */
  inbox({ limit, before, after, unread, category } = {}) {
    return this.request('GET', '/api/inbox', { query: { limit, before, after, unread: unread === undefined ? undefined : String(!!unread), category } });
  }

  /** GET /api/inbox/count: {unread, unseen}. */
  count() {
    return this.request('GET', '/api/inbox/count');
  }

  /** Marks ids (or 'all') read; resolves with the new counts. */
  markRead(ids) {
    return this.request('POST', '/api/inbox/read', { body: ids === 'all' ? { all: true } : { ids: [].concat(ids) } });
  }

  /** Marks ids unread; resolves with the new counts. */
  markUnread(ids) {
    return this.request('POST', '/api/inbox/unread', { body: { ids: [].concat(ids) } });
  }

  /** Marks everything up to until (an id) seen; resolves with the new counts. */
  markSeen(until) {
    return this.request('POST', '/api/inbox/seen', { body: { until } });
  }

  /** GET /api/inbox/preferences: {muted}. */
  preferences() {
    return this.request('GET', '/api/inbox/preferences');
  }

  /** PUT /api/inbox/preferences. */
  setPreferences({ muted = [] } = {}) {
    return this.request('PUT', '/api/inbox/preferences', { body: { muted } });
  }

  /** GET /api/chat/notifications (PyAMS's history; reload it after a gap). */
  notifications({ since, limit } = {}) {
    return this.request('GET', '/api/chat/notifications', { query: { since, limit } });
  }

  /** GET /api/spaces: the caller's spaces, most recent activity first. */
  async spaces() {
    const a = await this.request('GET', '/api/spaces');
    return (a && a.spaces) || [];
  }

  /** GET /api/spaces/{id}: the space with its members. */
  space(id) {
    return this.request('GET', '/api/spaces/' + encodeURIComponent(id));
  }

  /** POST /api/spaces: a new group space; the caller is a moderator. */
  createSpace({ title, members = [], kind = 'group' } = {}) {
    return this.request('POST', '/api/spaces', { body: { title, members, kind } });
  }

  /** PATCH /api/spaces/{id}: renames (moderators). */
  renameSpace(id, title) {
    return this.request('PATCH', '/api/spaces/' + encodeURIComponent(id), { body: { title } });
  }

  /** DELETE /api/spaces/{id} (moderators). */
  deleteSpace(id) {
    return this.request('DELETE', '/api/spaces/' + encodeURIComponent(id));
  }

  /** POST /api/spaces/direct/{principal}: the direct space with that user. */
  direct(principal) {
    return this.request('POST', '/api/spaces/direct/' + encodeURIComponent(principal));
  }

  /** GET /api/spaces/{id}/messages: {messages (newest first), next}. */
  messages(space, { before, limit, thread } = {}) {
    return this.request('GET', '/api/spaces/' + encodeURIComponent(space) + '/messages', { query: { before, limit, thread } });
  }

  /** GET /api/spaces/{id}/members. */
  async members(space) {
    const a = await this.request('GET', '/api/spaces/' + encodeURIComponent(space) + '/members');
    return (a && a.members) || [];
  }

  /** POST /api/spaces/{id}/members (moderators). */
  addMember(space, principal, { moderator = false } = {}) {
    return this.request('POST', '/api/spaces/' + encodeURIComponent(space) + '/members', { body: { principal, moderator } });
  }

  /** DELETE /api/spaces/{id}/members/{principal}: moderators, or anyone for itself (leave). */
  removeMember(space, principal) {
    return this.request('DELETE', '/api/spaces/' + encodeURIComponent(space) + '/members/' + encodeURIComponent(principal));
  }
}

export default NotifydClient;
