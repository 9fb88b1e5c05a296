// The server-sent events transport against a real notifyd (started by
// js_test.go): forced with transport 'sse', and 'auto' falling back to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockedWebSocket, client, collect, env, liveSkip, mint, MemoryStorage, next, publish, recordingFetch, recordingWebSocket, unique } from './helpers.js';
import { NotifydClient } from '../notifyd.js';

test('sse: receives a notification and the inbox count; send goes through REST', { skip: liveSkip }, async () => {
  const bob = unique();
  const rec = recordingFetch();
  const c = client(bob, { transport: 'sse', fetch: rec.fetch, WebSocket: BlockedWebSocket });
  const first = next(c, 'inbox');
  await c.connect();
  assert.equal(c.transport, 'sse');
  assert.deepEqual(await first, { unread: 0, unseen: 0 });
  const r = rec.requests[0];
  assert.equal(new URL(r.url).pathname, '/sse/chat');
  assert.equal(new URL(r.url).searchParams.get('token'), null, 'the token is not in the URL');
  assert.match(r.headers.Authorization, /^Bearer /);

  const got = next(c, 'notification');
  const counted = next(c, 'inbox', (i) => i.unread === 1);
  const sent = await publish(bob, { title: 'Over SSE' });
  const n = await got;
  assert.equal(n.id, sent.id);
  assert.equal(n.title, 'Over SSE');
  assert.deepEqual(await counted, { unread: 1, unseen: 1 });
  assert.equal(c.lastId, sent.id);

  const space = await c.createSpace({ title: 'SSE room' });
  const ok = await c.send(space.id, 'hello over REST');
  assert.equal(ok.action, 'ok');
  assert.match(ok.id, /^[0-9A-Z]{26}$/);
  assert.ok(ok.timestamp);
  assert.equal((await c.messages(space.id)).messages[0].body, 'hello over REST');
  for (const refused of [c.typing(space.id), c.subscribe(space.id), c.read(space.id, ok.id), c.react(ok.id, '👍')]) {
    assert.equal((await refused.catch((e) => e)).code, 'unsupported');
  }
  assert.deepEqual(await c.unsubscribe(space.id), { action: 'ok' });
  c.close();
  assert.equal(c.state, 'closed');
});

test('sse: after a cut stream it resumes with Last-Event-ID, nothing lost or twice', { skip: liveSkip }, async () => {
  const bob = unique();
  const rec = recordingFetch();
  const c = client(bob, { transport: 'sse', fetch: rec.fetch, backoff: { min: 10, max: 50 } });
  const got = collect(c, 'notification');
  await c.connect();
  const first = next(c, 'notification');
  const a = await publish(bob, { title: 'A' });
  await first;

  rec.closed = true; // the next streams are refused until the gate opens
  const lost = next(c, 'state', (s) => s.state === 'closed');
  rec.cut();
  await lost;
  const b = await publish(bob, { title: 'B' });
  const cc = await publish(bob, { title: 'C' });
  const caughtUp = next(c, 'notification', (n) => n.id === cc.id);
  rec.closed = false;
  await caughtUp;
  const d = next(c, 'notification');
  const dd = await publish(bob, { title: 'D' });
  assert.equal((await d).id, dd.id);

  const resumed = rec.requests.at(-1);
  assert.equal(resumed.headers['Last-Event-ID'], a.id);
  assert.deepEqual(got.map((n) => n.id), [a.id, b.id, cc.id, dd.id], 'each once, in order');
  c.close();
});

test("auto: falls back to SSE when websockets are blocked, and tries them again", { skip: liveSkip }, async () => {
  const bob = unique();
  const rec = recordingFetch();
  BlockedWebSocket.tries = 0;
  const c = client(bob, { fetch: rec.fetch, WebSocket: BlockedWebSocket, backoff: { min: 10, max: 50 } });
  c.on('error', () => {}); // each refused websocket is reported
  const open = next(c, 'state', (s) => s.state === 'open');
  await c.connect();
  assert.deepEqual(await open, { state: 'open', transport: 'sse' });
  assert.equal(BlockedWebSocket.tries, 2, 'two websocket failures, then SSE');
  assert.equal(c.transport, 'sse');
  const got = next(c, 'notification');
  const sent = await publish(bob, { title: 'Fallback' });
  assert.equal((await got).id, sent.id);

  // On SSE, every 5th connection tries the websocket again: three cuts
  // reconnect over SSE, the fourth tries the (blocked) websocket first.
  for (let i = 1; i <= 4; i++) {
    const reopened = next(c, 'state', (s) => s.state === 'open');
    rec.cut();
    await reopened;
    assert.equal(BlockedWebSocket.tries, i < 4 ? 2 : 3, 'cut ' + i);
    assert.equal(c.transport, 'sse');
  }
  c.close();
});

test('auto: back on the websocket once it gets through', { skip: liveSkip }, async () => {
  const bob = unique();
  const fetched = recordingFetch();
  const ws = recordingWebSocket();
  ws.closed = true;
  const c = client(bob, { fetch: fetched.fetch, WebSocket: ws.WebSocket, backoff: { min: 10, max: 50 }, retryWebSocketEvery: 2 });
  c.on('error', () => {});
  await c.connect();
  assert.equal(c.transport, 'sse');
  ws.closed = false;
  const back = next(c, 'state', (s) => s.state === 'open' && s.transport === 'websocket');
  fetched.cut(); // the 2nd connection since the fallback tries the websocket
  await back;
  assert.equal(c.transport, 'websocket');
  const got = next(c, 'notification');
  const sent = await publish(bob);
  assert.equal((await got).id, sent.id);
  c.close();
});

test('sse: a refused token asks getToken again', { skip: liveSkip }, async () => {
  const bob = unique();
  const calls = [];
  const c = new NotifydClient({
    url: env.url,
    host: env.site,
    transport: 'sse',
    storage: new MemoryStorage(),
    backoff: { min: 10, max: 50 },
    getToken: async (o) => {
      calls.push(o);
      return calls.length === 1 ? mint(bob).slice(0, -4) + 'AAAA' : mint(bob); // the first is forged
    },
  });
  await c.connect();
  assert.deepEqual(calls, [{ refresh: false }, { refresh: true }]);
  const got = next(c, 'notification');
  const sent = await publish(bob);
  assert.equal((await got).id, sent.id);
  c.close();
});
