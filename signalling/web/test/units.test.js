// What the vectors do not pin down: refusals, counters and guards of the JavaScript package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity, EnrRecord, envelope, envelopeV2, frames, rlp, bytes } from '../dist/rendezvous.js';

const { utf8 } = bytes;

test('Identity: hex keys with 0x and whitespace; invalid scalars and lengths refused', () => {
  const k = '4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
  assert.equal(Identity.fromPrivateKeyHex(`  0x${k}\n`).privateKeyHex(), k);
  assert.throws(() => Identity.fromPrivateKeyHex('00'.repeat(32)));
  assert.throws(() => Identity.fromPrivateKeyHex('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141')); // n
  assert.throws(() => Identity.fromPrivateKeyHex(k.slice(2)));
  assert.throws(() => Identity.fromPrivateKeyHex(k.slice(0, 62) + 'zz'));
  const a = Identity.generate();
  const b = Identity.generate();
  assert.notEqual(a.nodeId, b.nodeId);
  assert.match(a.nodeId, /^[0-9a-f]{64}$/);
});

test('ENR: seq defaults to the unix time; reserved keys and oversize records refused', () => {
  const id = Identity.generate();
  const before = BigInt(Math.floor(Date.now() / 1000));
  const r = EnrRecord.fromText(id.enr());
  assert.ok(r.seq >= before && r.seq <= before + 2n);
  assert.equal(r.nodeId, id.nodeId);
  assert.throws(() => id.enr({ set: { id: 'v5' } }), /written from the signing key/);
  assert.throws(() => id.enr({ set: { big: 'x'.repeat(300) } }), (e) => e.code === 'too-large');
  assert.throws(() => id.enr({ ip: '300.1.1.1' }), /IPv4/);
  assert.throws(() => id.enr({ udp: 70000 }), /port/);
});

test('RLP: integers beyond 64 bits are not encoded', () => {
  assert.throws(() => rlp.encodeUint(1n << 64n), RangeError);
  assert.throws(() => rlp.encodeUint(-1), RangeError);
});

function sealedPair() {
  const alice = Identity.generate();
  const bob = Identity.generate();
  const e = envelope.seal(alice, bob.publicKey, { from: alice.nodeId, to: bob.nodeId, type: 'message', seq: 5n, ts: 1n }, utf8('hi'));
  return { alice, bob, e };
}

test('envelopes: JSON shapes refused with the C++ codes', () => {
  const { e } = sealedPair();
  const good = JSON.parse(frames.encodeFrame({ type: 'envelope', envelope: e })).envelope;
  const refused = (patch, code) =>
    assert.throws(() => envelope.fromJson({ ...good, ...patch }), (x) => x.code === code, JSON.stringify(patch));
  refused({ v: 2 }, 'unsupported-version');
  refused({ v: '1' }, 'malformed-envelope');
  refused({ type: 'hello' }, 'unknown-type');
  refused({ ct: good.ct + '=' }, 'malformed-envelope');
  refused({ ct: 'AAAA' }, 'malformed-envelope'); // shorter than a GCM tag
  refused({ from: good.from.slice(2) }, 'malformed-envelope');
  refused({ seq: -1 }, 'malformed-envelope');
  refused({ seq: 1.5 }, 'malformed-envelope');
  refused({ sig: undefined }, 'malformed-envelope');
  assert.deepEqual(envelope.fromJson(good).header, e.header);
});

test('envelopes: sender spoofing, tampering and the wrong recipient are caught', () => {
  const { alice, bob, e } = sealedPair();
  assert.throws(
    () => envelope.seal(alice, bob.publicKey, { from: bob.nodeId, to: bob.nodeId, type: 'message', seq: 1n, ts: 1n }, utf8('x')),
    (x) => x.code === 'sender-mismatch',
  );
  for (const field of ['epk', 'nonce', 'ct', 'sig']) {
    const bad = { ...e, [field]: Uint8Array.from(e[field]) };
    bad[field][bad[field].length - 1] ^= 1;
    assert.throws(() => {
      envelope.verify(bad);
      envelope.open(bad, bob);
    }, field);
  }
  assert.throws(() => envelope.verify({ ...e, header: { ...e.header, seq: 6n } }));
  assert.equal(bytes.fromUtf8(envelope.open(e, bob)), 'hi');
  assert.throws(() => envelope.open(e, alice), (x) => x.code === 'wrong-recipient');
});

test('ReplayGuard: replay and stale sequence', () => {
  const { e } = sealedPair();
  const g = new envelope.ReplayGuard();
  g.check(e);
  g.accept(e);
  assert.throws(() => g.check(e), (x) => x.code === 'replay');
  assert.throws(() => g.check({ ...e, header: { ...e.header, seq: 4n } }), (x) => x.code === 'stale-sequence');
  g.check({ ...e, header: { ...e.header, seq: 6n } });
});

test('SequenceCounter: from the clock, strictly increasing even when the clock stalls or steps back', () => {
  let now = 1764806400123;
  const c = new envelope.SequenceCounter(() => now);
  const a = c.next();
  assert.equal(a, 1764806400123000n);
  assert.equal(c.next(), a + 1n);
  now -= 5000;
  assert.equal(c.next(), a + 2n);
  now += 10000;
  assert.equal(c.next(), BigInt(now) * 1000n);
  assert.ok(c.next() < 2n ** 53n);
});

test('frames: not JSON, unknown types and bad fields are refused with the hub codes', () => {
  assert.throws(() => frames.decodeFrame('nope'), (x) => x.code === 'bad-frame');
  assert.throws(() => frames.decodeFrame('[]'), (x) => x.code === 'bad-frame');
  assert.throws(() => frames.decodeFrame('{"type":"hello"}'), (x) => x.code === 'unknown-frame-type');
  assert.throws(() => frames.decodeFrame('{"type":"ack","to":"00","seq":1,"status":"delivered"}'), (x) => x.code === 'bad-frame');
  assert.throws(() => frames.decodeFrame('{"type":"path-report","path":"p2p","local":"host","remote":"host"}'), (x) => x.code === 'bad-frame');
  assert.throws(() => frames.decodeFrame('{"type":"envelope","envelope":{"v":9}}'), (x) => x.code === 'unsupported-version');
});

// Envelope version 2 (docs/signalling.md, "Version 2: compact envelopes"): the worked example the C++
// side reproduces too (tests/signalling/envelope_v2_test.cpp), then refusals.
test('envelope v2: the worked example byte for byte, sender recovered, body opened; tampering refused', () => {
  const sender = Identity.fromPrivateKeyHex('4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318');
  const recipient = Identity.fromPrivateKeyHex('b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291');
  const e = envelopeV2.sealV2(sender, recipient.publicKey, 'message', 1764900000000000n, utf8('hello v2'), {
    random: () => bytes.fromHex('0001020304050607', 8),
  });
  const wire = envelopeV2.encodeV2(e);
  assert.equal(bytes.toHex(wire), '2ea448f24c6d18e5750006452acd90680000010203040506076981b0b855137079ec48e16ddde85e022f1433236649aae9c1292244097f999844f14ebfdcea688170e778fd42fc950a1016db516d8311f218dcb228f27cdf401f973780a6607821e22f00730f9559bfed7d68654350686a');
  const d = envelopeV2.decodeV2(wire);
  const who = envelopeV2.verifyV2(d);
  assert.equal(who.from, sender.nodeId);
  assert.equal(new TextDecoder().decode(envelopeV2.openV2(d, who.publicKey, recipient)), 'hello v2');
  assert.equal(envelopeV2.toJsonV2(d), bytes.base64UrlEncode(wire));
  assert.throws(() => envelopeV2.openV2(d, who.publicKey, sender), (x) => x.code === 'wrong-recipient');
  const bad = wire.slice();
  bad[30] ^= 1;  // inside the ciphertext: another signer (or none), and the tag fails for this pair
  const t = envelopeV2.decodeV2(bad);
  let recovered;
  try {
    recovered = envelopeV2.verifyV2(t);
  } catch (x) {
    assert.equal(x.code, 'bad-signature');
  }
  if (recovered) assert.notEqual(recovered.from, sender.nodeId);
  assert.throws(() => envelopeV2.decodeV2(wire.subarray(0, 40)), (x) => x.code === 'malformed-envelope');
  assert.throws(() => envelopeV2.decodeV2(Uint8Array.of(0x3e, ...wire.subarray(1))), (x) => x.code === 'unsupported-version');
});
