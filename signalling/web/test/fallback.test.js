// The data-channel connection's hub fallback without a browser (fake channel and session): numbering,
// acknowledgements, what moves to the hub when the path breaks, and in-order, once-only delivery
// across the two paths. The Chromium test (chromium_fallback.test.js) cuts a real path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../dist/rendezvous.js';

function fakes() {
  const posted = [];
  const session = { peerId: 'ab'.repeat(32), closed: false, post: (type, fields) => posted.push({ type, ...fields }), dtlsClosed: () => false };
  const channel = { sent: [], readyState: 'open', send(d) { this.sent.push(d); } };
  const ack = { sent: [], readyState: 'open', send(d) { this.sent.push(d); } };
  const conn = new Connection(session, channel, { path: 'direct', local: 'host', remote: 'host' });
  return { posted, session, channel, ack, conn };
}

test('fallback: unacknowledged messages and later ones go through the hub, numbered', () => {
  const { posted, channel, ack, conn } = fakes();
  conn.attachAckChannel(ack);
  for (let i = 0; i < 5; i++) conn.send(`m${i}`);
  assert.deepEqual(channel.sent, ['m0', 'm1', 'm2', 'm3', 'm4']);
  ack.onmessage({ data: JSON.stringify({ upto: 3 }) }); // the peer delivered 1..3
  let fellBack = false;
  conn.onfallback = () => (fellBack = true);
  conn.fallback('test');
  assert.ok(fellBack);
  assert.equal(conn.path, 'hub');
  conn.send('m5');
  conn.send(new Uint8Array([1, 2, 255]));
  assert.deepEqual(posted, [
    { type: 'message', seq: 4, data: 'm3' },
    { type: 'message', seq: 5, data: 'm4' },
    { type: 'message', seq: 6, data: 'm5' },
    { type: 'message', seq: 7, data: 'AQL_', binary: true },
  ]);
  assert.equal(channel.sent.length, 5); // nothing more on the dead channel
});

test('fallback: delivery is in order and once across the channel and the hub', () => {
  const { ack, conn } = fakes();
  conn.attachAckChannel(ack);
  const got = [];
  conn.onmessage = (e) => got.push(e.data);
  conn.receive({ data: 'a' }); // message 1 on the channel
  conn.receiveFromHub({ seq: 3, data: 'c' }); // early: held
  conn.receiveFromHub({ seq: 1, data: 'a' }); // repeat: dropped
  conn.receive({ data: 'b' }); // message 2 on the channel, releases 3
  conn.receiveFromHub({ seq: 2, data: 'b' }); // repeat
  conn.receiveFromHub({ seq: 4, data: 'AQI', binary: true });
  conn.receiveFromHub({ seq: 'x', data: 'bad' });
  conn.receiveFromHub({ seq: 5, data: '!!', binary: true }); // not base64url: dropped
  assert.deepEqual(got.slice(0, 3), ['a', 'b', 'c']);
  assert.deepEqual(new Uint8Array(got[3]), new Uint8Array([1, 2]));
  assert.equal(got.length, 4);
  // Acknowledgements carry the count delivered in order: at attach, then after each channel message.
  assert.deepEqual(ack.sent.map((s) => JSON.parse(s).upto), [0, 1, 3]);
});

test('fallback: without the peer\'s ack channel a broken path closes the connection', () => {
  const { posted, conn } = fakes();
  let closed = false;
  conn.onclose = () => (closed = true);
  conn.send('x');
  conn.fallback('test');
  assert.ok(closed);
  assert.equal(conn.path, 'direct');
  assert.deepEqual(posted, []);
});
