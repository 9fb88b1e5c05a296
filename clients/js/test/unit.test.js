// The client against a scripted socket: what a real server cannot be made
// to do on demand (duplicates, silence, exact close codes, slow answers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotifydClient, NotifydError } from '../notifyd.js';
import { MemoryStorage, collect, next } from './helpers.js';

// FakeSocket is a WebSocket the test drives: open(), frame(text),
// serverClose(code); what the client sends is in sent.
class FakeSocket {
  static all = [];
  static onsend = null; // (socket, text) => void: an automatic server
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.all.push(this);
    queueMicrotask(() => this.open());
  }
  open() {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.onopen?.({});
  }
  send(text) {
    this.sent.push(text);
    if (text === 'PING') this.frame('PONG');
    else FakeSocket.onsend?.(this, text);
  }
  frame(text) {
    queueMicrotask(() => this.readyState === 1 && this.onmessage?.({ data: text }));
  }
  serverClose(code, reason = '') {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
  close() {
    this.readyState = 3;
  }
  commands() {
    return this.sent.filter((t) => t.startsWith('{')).map((t) => JSON.parse(t));
  }
}
const last = () => FakeSocket.all[FakeSocket.all.length - 1];

function fake(opts = {}) {
  FakeSocket.all = [];
  FakeSocket.onsend = null;
  return new NotifydClient({
    url: 'https://notify.example/base/',
    host: 'https://app.example',
    token: 'h.eyJzdWIiOiJ1c2Vyczpib2IifQ.s', // {"sub":"users:bob"}
    storage: new MemoryStorage(),
    WebSocket: FakeSocket,
    transport: 'websocket', // the tests of SSE and 'auto' script fetch instead
    backoff: { min: 4, max: 16 },
    ...opts,
  });
}

const notify = (id) => JSON.stringify({ action: 'notify', id, title: 't' + id });

test('urls: the base URL or the websocket URL, with host, since and device', async () => {
  const storage = new MemoryStorage();
  storage.setItem('notifyd:since:https://notify.example/base|https://app.example|users:bob', '01OLD');
  const c = fake({ storage, device: 'phone-1' });
  assert.equal(c.baseURL, 'https://notify.example/base');
  assert.equal(c.wsURL, 'wss://notify.example/base/ws/chat');
  assert.equal(new NotifydClient({ url: 'ws://h:1/ws/chat', token: 'x' }).baseURL, 'http://h:1');
  await c.connect();
  const u = new URL(last().url);
  assert.equal(u.pathname, '/base/ws/chat');
  assert.equal(u.searchParams.get('host'), 'https://app.example');
  assert.equal(u.searchParams.get('since'), '01OLD');
  assert.equal(u.searchParams.get('device'), 'phone-1');
  assert.equal(u.searchParams.get('token'), null, 'the token travels as the subprotocol by default');
  assert.deepEqual(last().protocols, ['accessToken', c._token]);
  c.close();
});

test('dedupe: an id already emitted is dropped, also across a reconnect', async () => {
  const c = fake();
  const got = collect(c, 'notification');
  await c.connect();
  last().frame(notify('01A'));
  last().frame(notify('01B'));
  last().frame(notify('01A'));
  await next(c, 'frame', (f) => f.id === '01A' && got.length === 2);
  const reopened = next(c, 'state', (s) => s.state === 'open');
  last().serverClose(1001, 'going away');
  await reopened;
  assert.equal(new URL(last().url).searchParams.get('since'), '01B');
  last().frame(notify('01B')); // the seam replayed
  last().frame(notify('01C'));
  await next(c, 'notification', (n) => n.id === '01C');
  assert.deepEqual(got.map((n) => n.id), ['01A', '01B', '01C']);
  c.close();
});

test('commands: rid correlation, error codes, timeout', async () => {
  const c = fake({ commandTimeout: 30 });
  FakeSocket.onsend = (s, text) => {
    const f = JSON.parse(text);
    if (f.space === 'silent') return;
    if (f.space === 'nope') s.frame(JSON.stringify({ action: 'error', rid: f.rid, code: 'not_found', message: 'no such space or message' }));
    else s.frame(JSON.stringify({ action: 'ok', rid: f.rid, id: 'M1', timestamp: 'T' }));
  };
  await c.connect();
  const ok = await c.send('s1', 'hello');
  assert.equal(ok.id, 'M1');
  assert.deepEqual({ ...last().commands()[0], rid: undefined }, { action: 'send', space: 's1', kind: 'chat', body: 'hello', rid: undefined });
  const err = await c.subscribe('nope').catch((e) => e);
  assert.ok(err instanceof NotifydError);
  assert.equal(err.code, 'not_found');
  assert.equal(c._subs.has('nope'), false, 'a refused subscription is not re-sent');
  const late = await c.typing('silent').catch((e) => e);
  assert.equal(late.code, 'timeout');
  const rids = last().commands().map((f) => f.rid);
  assert.equal(new Set(rids).size, rids.length, 'every command has its own rid');
  c.close();
});

test('commands wait for the connection; subscriptions are re-sent first after a reconnect', async () => {
  const c = fake();
  FakeSocket.onsend = (s, text) => {
    const f = JSON.parse(text);
    s.frame(JSON.stringify({ action: 'ok', rid: f.rid }));
  };
  const early = c.subscribe('s1'); // before connect: queued
  await c.connect();
  await early;
  const reopened = next(c, 'state', (s) => s.state === 'open');
  FakeSocket.onsend = null; // the next socket answers nothing until told
  last().serverClose(4000, 'slow consumer');
  const queued = c.read('s1', '01A'); // sent once the new socket is established
  await reopened;
  const s = last();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(s.commands().map((f) => f.action + ':' + f.space), ['subscribe:s1', 'read:s1']);
  for (const f of s.commands()) s.frame(JSON.stringify({ action: 'ok', rid: f.rid }));
  await queued;
  c.close();
});

test('a command sent and unanswered when the connection drops rejects with disconnected', async () => {
  const c = fake();
  await c.connect();
  const p = c.send('s1', { kind: 'post', title: 'T', body: 'B' });
  await new Promise((r) => setImmediate(r));
  assert.equal(last().commands()[0].kind, 'post');
  last().serverClose(1006);
  assert.equal((await p.catch((e) => e)).code, 'disconnected');
  c.close();
});

test('backoff: full jitter, doubling from min to max, reset once established', async () => {
  const c = fake({ random: () => 0.999, connectTimeout: 1000 });
  const open = FakeSocket.prototype.open;
  FakeSocket.prototype.open = function () {}; // sockets never open: every attempt fails
  const delays = [];
  c.on('state', (s) => s.state === 'closed' && delays.push(s.retryIn));
  try {
    for (let i = 0; i < 5; i++) {
      const attempt = next(c, 'state', (s) => s.state === 'connecting');
      if (i === 0) c.connect();
      await attempt;
      await new Promise((r) => setImmediate(r)); // the socket is created after getToken's await
      last().serverClose(1006);
    }
  } finally {
    FakeSocket.prototype.open = open;
  }
  await next(c, 'state', (s) => s.state === 'open'); // this attempt opens
  last().serverClose(1001);
  assert.deepEqual(delays, [3, 7, 15, 15, 15, 3]); // floor(0.999 * min(16, 4 * 2^n)), then from min again
  c.close();
});

test('logout frame: getToken({refresh: true}) and reconnect with the new token', async () => {
  let n = 0;
  const c = fake({ token: undefined, getToken: async (o) => `h.${Buffer.from(JSON.stringify({ sub: 'users:bob' })).toString('base64url')}.t${++n}${o.refresh ? 'r' : ''}` });
  await c.connect();
  assert.match(last().protocols[1], /t1$/);
  const reopened = next(c, 'state', (s) => s.state === 'open');
  last().frame(JSON.stringify({ action: 'logout', status: 'FORBIDDEN' }));
  await reopened;
  assert.match(last().protocols[1], /t2r$/);
  c.close();
});

test('4003: no reconnect, disconnected event, pending commands rejected', async () => {
  const c = fake();
  await c.connect();
  const p = c.typing('s1');
  const gone = next(c, 'disconnected');
  await new Promise((r) => setImmediate(r));
  last().serverClose(4003, 'disconnected by an administrator');
  assert.deepEqual(await gone, { code: 4003, reason: 'disconnected by an administrator' });
  assert.equal((await p.catch((e) => e)).code, 'disconnected');
  assert.equal(FakeSocket.all.length, 1);
  assert.equal(c.state, 'closed');
  c.close();
});

test('4001 with a fixed token: nothing to refresh, so disconnected', async () => {
  const c = fake();
  await c.connect();
  const gone = next(c, 'disconnected');
  last().serverClose(4001, 'unauthorized');
  assert.equal((await gone).code, 4001);
  c.close();
});

test('keep-alive: a PING unanswered for pongTimeout drops the connection and reconnects', async () => {
  const c = fake({ pingInterval: 5, pongTimeout: 5 });
  await c.connect();
  const first = last();
  first.send = (t) => first.sent.push(t); // the server goes silent
  const dropped = await next(c, 'state', (s) => s.state === 'closed');
  assert.equal(dropped.reason, 'no answer to PING');
  assert.ok(first.sent.filter((t) => t === 'PING').length >= 2);
  await next(c, 'state', (s) => s.state === 'open');
  assert.notEqual(last(), first);
  c.close();
});

test('events: gap, inbox, update, retract and spaces events; listener errors become error events', async () => {
  const c = fake();
  await c.connect();
  const events = ['gap', 'inbox', 'update', 'retract', 'message', 'typing', 'reaction', 'activity', 'member'];
  const seen = Object.fromEntries(events.map((e) => [e, collect(c, e)]));
  const errors = collect(c, 'error');
  c.on('typing', () => { throw new Error('app bug'); });
  for (const f of [
    { action: 'gap', status: 'warning', since: '01X' },
    { action: 'inbox', unread: 3, unseen: 1 },
    { action: 'update', id: '01A', title: 'new' },
    { action: 'retract', id: '01A' },
    { action: 'message', space: 's1', id: '01M', kind: 'chat', body: '<b>x</b>' },
    { action: 'message', space: 's1', id: '01M', kind: 'chat', body: 'dup' },
    { action: 'typing', space: 's1', principal: 'users:al' },
    { action: 'reaction', space: 's1', message: '01M', emoji: '👍', principal: 'users:al', count: 1 },
    { action: 'activity', space: 's2', id: '01N', sender: 'users:al', timestamp: 'T' },
    { action: 'member', space: 's1', principal: 'users:al', joined: true },
  ]) last().frame(JSON.stringify(f));
  await next(c, 'member');
  assert.deepEqual(seen.gap, [{ since: '01X' }]);
  assert.deepEqual(seen.inbox, [{ unread: 3, unseen: 1 }]);
  for (const e of events) assert.equal(seen[e].length, 1, e);
  assert.equal(seen.message[0].body, '<b>x</b>', 'bodies are passed as text, untouched');
  assert.equal(errors[0].message, 'app bug');
  c.close();
});

test('space catch-up after a reconnect: missed messages oldest first, once; a gap when too old', async () => {
  let page = [];
  const urls = [];
  const fetch = async (url) => {
    urls.push(url);
    return new Response(JSON.stringify({ messages: page, next: null }), { status: 200 });
  };
  const c = fake({ fetch });
  FakeSocket.onsend = (s, text) => {
    const f = JSON.parse(text);
    s.frame(JSON.stringify({ action: 'ok', rid: f.rid }));
  };
  const got = collect(c, 'message');
  const gaps = collect(c, 'gap');
  await c.connect();
  await c.subscribe('s1');
  last().frame(JSON.stringify({ action: 'message', space: 's1', id: '01M1', kind: 'chat', body: 'one' }));
  await next(c, 'message');
  assert.equal(c.lastId, '', 'a space message does not move since');

  const msg = (id) => ({ space: 's1', id, kind: 'chat', body: id });
  page = [msg('01M3'), msg('01M2'), msg('01M1'), msg('01M0')]; // newest first
  last().serverClose(1001);
  await next(c, 'message', (m) => m.id === '01M3');
  assert.deepEqual(got.map((m) => m.id), ['01M1', '01M2', '01M3']);
  assert.match(urls[0], /\/base\/api\/spaces\/s1\/messages\?host=.*&limit=50$/);

  page = [msg('01M9')]; // 01M3 is no longer among the newest
  last().serverClose(1001);
  assert.deepEqual(await next(c, 'gap'), { since: '01M3', space: 's1' });
  assert.equal(gaps.length, 1);
  c.close();
});

test('close() then connect() while getToken runs opens one socket, not two', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const c = fake({ token: undefined, getToken: async () => { await gate; return 'h.eyJzdWIiOiJ1c2Vyczpib2IifQ.s'; } });
  c.connect();
  c.close();
  const opened = c.connect();
  release();
  await opened;
  await new Promise((r) => setImmediate(r));
  assert.equal(FakeSocket.all.length, 1);
  c.close();
});

// streamFetch is a fetch that answers every request with a stream the test
// writes: push(text) sends bytes, end() closes it; requests are recorded.
function streamFetch(status = 200) {
  const f = { requests: [], streams: [] };
  f.fetch = async (url, init) => {
    f.requests.push({ url, headers: init.headers });
    let ctl;
    const body = new ReadableStream({ start(c) { ctl = c; } });
    const enc = new TextEncoder();
    f.streams.push({ push: (t) => ctl.enqueue(enc.encode(t)), end: () => ctl.close() });
    init.signal.addEventListener('abort', () => { try { ctl.error(new Error('aborted')); } catch { /* closed */ } });
    return new Response(body, { status });
  };
  f.last = () => f.streams[f.streams.length - 1];
  return f;
}

test('sse: events split anywhere, comments, multi-line data, the close event', async () => {
  const f = streamFetch();
  const c = fake({ transport: 'sse', fetch: f.fetch });
  const frames = collect(c, 'frame');
  await c.connect();
  assert.equal(new URL(f.requests[0].url).pathname, '/base/sse/chat');
  const s = f.last();
  const wire = 'retry: 3000\n\n:\n\nid: 01A\ndata: {"action":"notify",\r\ndata: "id":"01A"}\r\n\r\n' +
    'data: {"action":"inbox","unread":1,"unseen":1}\r\r' + 'data:{"action":"gap","since":""}\n\n';
  for (const ch of wire) s.push(ch); // one character per chunk: every split
  await next(c, 'gap');
  assert.deepEqual(frames.map((x) => x.action), ['notify', 'inbox', 'gap']);
  assert.equal(frames[0].id, '01A', 'data lines joined with a newline');
  const gone = next(c, 'disconnected');
  s.push('data: {"action":"close","code":4003,"reason":"revoked"}\n\n');
  assert.deepEqual(await gone, { code: 4003, reason: 'revoked' });
  assert.equal(c.state, 'closed');
  assert.equal(f.requests.length, 1, 'no reconnect after 4003');
});

test('sse: a silent stream is dropped after the heartbeat timeout and reopened with Last-Event-ID', async () => {
  const f = streamFetch();
  const c = fake({ transport: 'sse', fetch: f.fetch, sseHeartbeatTimeout: 30 });
  await c.connect();
  const got = next(c, 'notification');
  f.last().push('id: 01A\ndata: {"action":"notify","id":"01A"}\n\n');
  await got;
  const reopened = next(c, 'state', (s) => s.state === 'open');
  await reopened; // nothing more arrives: the watchdog ends the stream
  assert.equal(f.requests.length, 2);
  assert.equal(f.requests[1].headers['Last-Event-ID'], '01A');
  assert.match(f.requests[1].headers.Authorization, /^Bearer h\./);
  c.close();
});
