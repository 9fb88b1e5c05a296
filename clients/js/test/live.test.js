// The client against a real notifyd (started by js_test.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client, collect, disconnect, env, liveSkip, mint, MemoryStorage, next, opened, publish, recordingWebSocket, unique } from './helpers.js';
import { NotifydClient } from '../notifyd.js';

test('connects and receives a notification published over HTTP', { skip: liveSkip }, async () => {
  const bob = unique();
  const c = client(bob);
  const inbox = next(c, 'inbox');
  await c.connect();
  assert.equal(c.state, 'open');
  assert.deepEqual(await inbox, { unread: 0, unseen: 0 });
  const got = next(c, 'notification');
  const sent = await publish(bob, { title: 'Review requested' });
  const n = await got;
  assert.equal(n.id, sent.id);
  assert.equal(n.title, 'Review requested');
  assert.equal(n.target, undefined, 'recipients never see the target');
  assert.equal(c.lastId, sent.id);
  c.close();
  assert.equal(c.state, 'closed');
});

test('the token in the query string works too', { skip: liveSkip }, async () => {
  const bob = unique();
  const rec = recordingWebSocket();
  const c = client(bob, { tokenTransport: 'query', WebSocket: rec.WebSocket });
  await c.connect();
  assert.match(rec.urls[0], /[?&]token=/);
  const got = next(c, 'notification');
  const sent = await publish(bob);
  assert.equal((await got).id, sent.id);
  c.close();
});

test('inbox events and the inbox REST helpers', { skip: liveSkip }, async () => {
  const bob = unique();
  const c = client(bob);
  await c.connect();
  const counted = next(c, 'inbox', (i) => i.unread === 2);
  const a = await publish(bob, { title: 'A', category: 'test.a' });
  const b = await publish(bob, { title: 'B', category: 'test.b' });
  assert.deepEqual(await counted, { unread: 2, unseen: 2 });

  const page = await c.inbox({ limit: 10 });
  assert.deepEqual(page.notifications.map((n) => n.id), [b.id, a.id], 'newest first');
  assert.equal(page.unread, 2);
  assert.equal((await c.inbox({ category: 'test.a' })).notifications.length, 1);
  assert.deepEqual(await c.count(), { unread: 2, unseen: 2 });

  let pushed = next(c, 'inbox', (i) => i.unread === 1);
  assert.equal((await c.markRead([a.id])).unread, 1);
  await pushed;
  assert.deepEqual((await c.inbox({ unread: true })).notifications.map((n) => n.id), [b.id]);
  pushed = next(c, 'inbox', (i) => i.unread === 2);
  assert.equal((await c.markUnread(a.id)).unread, 2);
  await pushed;
  assert.equal((await c.markSeen(b.id)).unseen, 0);
  assert.equal((await c.markRead('all')).unread, 0);

  assert.deepEqual(await c.preferences(), { muted: [] });
  await c.setPreferences({ muted: ['test.*'] });
  assert.deepEqual((await c.preferences()).muted, ['test.*']);

  const err = await c.markRead([]).catch((e) => e);
  assert.equal(err.name, 'NotifydError');
  assert.equal(err.code, 'invalid');
  assert.equal(err.status, 400);
  assert.equal(err.field, 'ids');
  c.close();
});

test('after a cut connection it reconnects with since and gets what it missed, once', { skip: liveSkip }, async () => {
  const bob = unique();
  const rec = recordingWebSocket();
  const storage = new MemoryStorage();
  const c = client(bob, { WebSocket: rec.WebSocket, storage });
  const got = collect(c, 'notification');
  await c.connect();
  const first = next(c, 'notification');
  const a = await publish(bob, { title: 'A' });
  await first;
  assert.ok([...storage.m.values()].includes(a.id), 'the last id is stored');

  rec.closed = true; // the next sockets are refused until the gate opens
  const lost = next(c, 'state', (s) => s.state === 'closed');
  rec.last().close(); // the network drops the connection
  await lost;
  const b = await publish(bob, { title: 'B' });
  const cc = await publish(bob, { title: 'C' });
  const caughtUp = next(c, 'notification', (n) => n.id === cc.id);
  rec.closed = false;
  await caughtUp;
  const d = next(c, 'notification');
  const dd = await publish(bob, { title: 'D' });
  assert.equal((await d).id, dd.id);

  const resumed = rec.urls.filter((u) => !u.startsWith('refused:')).at(-1);
  assert.equal(new URL(resumed).searchParams.get('since'), a.id);
  assert.deepEqual(got.map((n) => n.id), [a.id, b.id, cc.id, dd.id], 'each once, in order');
  c.close();
});

test('a replay that overlaps what was received emits nothing twice', { skip: liveSkip }, async () => {
  const bob = unique();
  const rec = recordingWebSocket();
  const c = client(bob, { WebSocket: rec.WebSocket });
  const got = collect(c, 'notification');
  const frames = collect(c, 'frame');
  await c.connect();
  const ids = [];
  for (const title of ['A', 'B', 'C']) {
    const seen = next(c, 'notification');
    ids.push((await publish(bob, { title })).id);
    await seen;
  }
  // The next connection asks for everything after A: the server replays B
  // and C, which the client already has.
  rec.rewrite = (u) => {
    const url = new URL(u);
    url.searchParams.set('since', ids[0]);
    return url.toString();
  };
  const reopened = next(c, 'state', (s) => s.state === 'open');
  rec.last().close();
  await reopened;
  const d = next(c, 'notification');
  ids.push((await publish(bob, { title: 'D' })).id);
  await d;
  assert.deepEqual(got.map((n) => n.id), ids);
  const replayed = frames.filter((f) => f.action === 'notify' && (f.id === ids[1] || f.id === ids[2]));
  assert.equal(replayed.length, 4, 'the server did replay B and C (2 + 2 frames)');
  c.close();
});

test('an expired token is refreshed with getToken and the client resumes', { skip: liveSkip }, async () => {
  const bob = unique();
  const calls = [];
  const c = new NotifydClient({
    url: env.url.replace(/^http/, 'ws') + '/ws/chat',
    host: env.site,
    storage: new MemoryStorage(),
    getToken: async (o) => {
      calls.push(o);
      return mint(bob, { ttl: calls.length === 1 ? 2 : 3600 }); // the first dies in 2 s
    },
  });
  const got = collect(c, 'notification');
  await c.connect();
  const a = next(c, 'notification');
  const sent = await publish(bob, { title: 'A' });
  await a;
  // The gateway sends the logout frame at expiry; the client asks for a new
  // token and reconnects.
  await next(c, 'state', (s) => s.state === 'closed', 15000);
  await opened(c, 15000);
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[1], { refresh: true });
  const b = next(c, 'notification');
  const sentB = await publish(bob, { title: 'B' });
  await b;
  assert.deepEqual(got.map((n) => n.id), [sent.id, sentB.id]);
  c.close();
});

test('disconnected by an administrator (4003): stops and emits disconnected', { skip: liveSkip }, async () => {
  const bob = unique();
  const rec = recordingWebSocket();
  const c = client(bob, { WebSocket: rec.WebSocket, getToken: async () => mint(bob) });
  await c.connect();
  const gone = next(c, 'disconnected');
  await disconnect(bob);
  const d = await gone;
  assert.equal(d.code, 4003);
  assert.equal(c.state, 'closed');
  const refused = await c.typing('anything').catch((e) => e);
  assert.equal(refused.code, 'closed', 'a stopped client refuses commands at once');
  assert.equal(rec.urls.length, 1, 'no reconnect');
  c.close();
});
