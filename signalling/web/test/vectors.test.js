// The interop vectors (tests/vectors/interop.json), made by the C++ code and checked there by
// interop_vectors_test: the JavaScript must produce and read every form byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Identity,
  EnrRecord,
  envelope,
  frames,
  rlp,
  bytes,
  crypto,
  rdvSigHeader,
  apiRequestDigest,
  registerDigest,
  unregisterDigest,
  REGISTER_TAG,
  UNREGISTER_TAG,
} from '../dist/rendezvous.js';

const V = JSON.parse(readFileSync(fileURLToPath(new URL('../../../tests/vectors/interop.json', import.meta.url)), 'utf8'));
const { fromHex, toHex, utf8 } = bytes;

function sortedJson(text) {
  const sort = (v) =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort(v[k])])) : v;
  return JSON.stringify(sort(JSON.parse(text)));
}

test('keys: public keys and node ids', () => {
  for (const k of V.keys) {
    const id = Identity.fromPrivateKeyHex(k.secret);
    assert.equal(toHex(id.publicKey), k.public_compressed);
    assert.equal(id.nodeId, k.node_id);
    assert.equal(crypto.nodeIdOf(fromHex(k.public_uncompressed)), k.node_id);
    assert.equal(id.privateKeyHex(), k.secret);
  }
});

test('keccak256', () => {
  for (const c of V.keccak256) assert.equal(toHex(crypto.keccak256(fromHex(c.input))), c.hash);
});

test('signatures: RFC 6979, low-S, r||s and r||s||v identical to libsecp256k1', () => {
  for (const c of V.signatures) {
    const id = Identity.fromPrivateKeyHex(c.secret);
    const digest = fromHex(c.digest);
    assert.equal(toHex(id.sign(digest)), c.signature);
    assert.equal(toHex(id.signRecoverable(digest)), c.recoverable);
    assert.equal(crypto.nodeIdOf(crypto.recoverPublicKey(fromHex(c.recoverable), digest)), id.nodeId);
    assert.ok(crypto.verify(fromHex(c.signature), digest, id.publicKey));
  }
});

test('ecdh: raw x coordinate', () => {
  for (const c of V.ecdh) assert.equal(toHex(Identity.fromPrivateKeyHex(c.secret).ecdh(fromHex(c.peer_public))), c.x);
});

test('rlp: strings, integers, lists encode as the C++ does', () => {
  for (const c of V.rlp.strings) {
    assert.equal(toHex(rlp.encodeString(fromHex(c.bytes))), c.encoded);
    const item = rlp.decodeItem(fromHex(c.encoded));
    assert.equal(item.isList, false);
    assert.equal(toHex(item.payload), c.bytes);
  }
  for (const c of V.rlp.uints) {
    assert.equal(toHex(rlp.encodeUint(BigInt(c.value))), c.encoded);
    assert.equal(rlp.decodeUint(rlp.decodeItem(fromHex(c.encoded))), BigInt(c.value));
  }
  for (const c of V.rlp.lists) {
    const payload = bytes.concat(...c.items.map((i) => rlp.encodeString(fromHex(i))));
    assert.equal(toHex(rlp.encodeList(payload)), c.encoded);
    const items = rlp.decodeListItems(rlp.decodeItem(fromHex(c.encoded)).payload);
    assert.deepEqual(items.map((i) => toHex(i.payload)), c.items);
  }
  assert.equal(V.rlp.nested.valid, true);
  rlp.decodeItem(fromHex(V.rlp.nested.encoded));
});

test('rlp: the encodings the C++ refuses are refused for the same reason', () => {
  for (const c of V.rlp.invalid) {
    assert.throws(() => rlp.decodeItem(fromHex(c.encoded)), (e) => e.code === c.error, `${c.encoded} -> ${c.error}`);
  }
  for (const c of V.rlp.invalid_uints) {
    assert.throws(() => rlp.decodeUint(rlp.decodeItem(fromHex(c.encoded))), (e) => e.code === c.error, c.encoded);
  }
});

test('base64url: unpadded, strict', () => {
  for (const c of V.base64url.valid) {
    assert.equal(bytes.base64UrlEncode(fromHex(c.bytes)), c.text);
    assert.equal(toHex(bytes.base64UrlDecode(c.text)), c.bytes);
  }
  for (const c of V.base64url.checked) {
    let ok = true;
    try {
      bytes.base64UrlDecode(c.text);
    } catch {
      ok = false;
    }
    assert.equal(ok, c.valid, c.text);
  }
});

function setFields(fields) {
  const out = { ...fields };
  if (fields.set) {
    out.set = Object.fromEntries(Object.entries(fields.set).map(([k, v]) => [k, v.startsWith('0x') ? fromHex(v) : v]));
  }
  return out;
}

test('enr: records built in JS are the C++ records, text and bytes', () => {
  for (const c of V.enr.valid) {
    const id = Identity.fromPrivateKeyHex(c.secret);
    const text = id.enr({ ...setFields(c.fields), seq: BigInt(c.seq) });
    assert.equal(text, c.text);
    const r = EnrRecord.fromText(c.text);
    assert.equal(r.nodeId, c.node_id);
    assert.equal(toHex(r.encoded), c.rlp);
    assert.equal(toHex(r.content()), c.content);
    assert.equal(r.seq, BigInt(c.seq));
    if (c.fields.ip) assert.equal(r.ip, c.fields.ip);
    if (c.fields.udp !== undefined) assert.equal(r.udp, c.fields.udp);
  }
});

test('enr: texts the C++ refuses are refused for the same reason', () => {
  for (const c of V.enr.invalid) {
    assert.throws(() => EnrRecord.fromText(c.text), (e) => e.code === c.error, `${c.text.slice(0, 30)} -> ${c.error}`);
  }
});

test('RDV-Sig: the Authorization header for a fixed key, node and time', () => {
  const c = V.rdv_sig;
  assert.equal(toHex(apiRequestDigest(c.domain, c.node_id, c.unix_time)), c.digest);
  assert.equal(rdvSigHeader(Identity.fromPrivateKeyHex(c.secret), c.node_id, c.unix_time), c.authorization);
});

test('registration proof: digest over (tag, namespace, keccak256(record RLP), ttl, time) and signature', () => {
  assert.ok(V.registration.length > 0);
  for (const c of V.registration) {
    assert.equal(c.tag, REGISTER_TAG);
    const id = Identity.fromPrivateKeyHex(c.secret);
    const record = EnrRecord.fromText(c.enr);
    assert.equal(record.nodeId, id.nodeId);
    assert.equal(toHex(crypto.keccak256(record.encoded)), c.record_hash);
    const digest = registerDigest(c.namespace, record.encoded, c.ttl, c.time);
    assert.equal(toHex(digest), c.digest);
    assert.equal(toHex(id.sign(digest)), c.signature);
    assert.notEqual(toHex(registerDigest(c.namespace, record.encoded, c.ttl, c.time - 1)), c.digest);
  }
});

test('unregister-v2: digest over (tag, namespace, node id, seq, time) and signature', () => {
  const c = V.unregister;
  assert.equal(c.tag, UNREGISTER_TAG);
  const id = Identity.fromPrivateKeyHex(c.secret);
  assert.equal(id.nodeId, c.node_id);
  const digest = unregisterDigest(c.namespace, id.nodeId, c.seq, c.time);
  assert.equal(toHex(digest), c.digest);
  assert.equal(toHex(id.sign(digest)), c.signature);
  assert.throws(() => unregisterDigest(c.namespace, id.nodeId, c.seq, 1.5), RangeError);
});

test('envelopes: sealed with the same randomness, JS and C++ give the same bytes', () => {
  for (const c of V.envelopes) {
    const sender = Identity.fromPrivateKeyHex(c.sender_secret);
    const recipient = Identity.fromPrivateKeyHex(c.recipient_secret);
    let random = fromHex(c.random);
    const draw = (n) => {
      const out = random.slice(0, n);
      random = random.slice(n);
      return out;
    };
    const header = { from: sender.nodeId, to: recipient.nodeId, type: c.type, seq: BigInt(c.seq), ts: BigInt(c.ts) };
    const e = envelope.seal(sender, recipient.publicKey, header, utf8(c.body), draw);
    assert.equal(toHex(envelope.encodeHeader(header)), c.header);
    assert.equal(toHex(envelope.signingDigest(e)), c.digest);
    assert.equal(toHex(envelope.encodeBinary(e)), c.binary);
    assert.equal(frames.encodeFrame({ type: 'envelope', envelope: e }), c.frame);
    assert.equal(sortedJson(JSON.stringify(envelope.toJson(e), (k, v) => (typeof v === 'bigint' ? Number(v) : v))), sortedJson(c.json));
  }
});

test('envelopes: C++-sealed ones decode, verify and open in JS', () => {
  for (const c of V.envelopes) {
    const recipient = Identity.fromPrivateKeyHex(c.recipient_secret);
    const f = frames.decodeFrame(c.frame);
    assert.equal(f.type, 'envelope');
    const key = envelope.verify(f.envelope);
    assert.equal(toHex(key), toHex(Identity.fromPrivateKeyHex(c.sender_secret).publicKey));
    assert.equal(bytes.fromUtf8(envelope.open(f.envelope, recipient)), c.body);
    const b = envelope.decodeBinary(fromHex(c.binary));
    assert.equal(toHex(envelope.encodeBinary(b)), c.binary);
    // Tampering anywhere is caught: a flipped ciphertext bit breaks the signature.
    const bad = { ...f.envelope, ct: Uint8Array.from(f.envelope.ct) };
    bad.ct[0] ^= 1;
    assert.throws(() => envelope.verify(bad), (e) => e.code === 'bad-signature' || e.code === 'sender-mismatch');
    // The wrong recipient cannot open it.
    assert.throws(() => envelope.open(f.envelope, Identity.generate()), (e) => e.code === 'wrong-recipient');
  }
});

test('hub auth: digest and the auth frame for a fixed challenge', () => {
  const c = V.hub_auth;
  const ch = frames.decodeFrame(c.challenge_frame);
  assert.equal(ch.hub, c.hub_id);
  assert.equal(toHex(ch.nonce), c.nonce);
  const client = Identity.fromPrivateKeyHex(c.client_secret);
  assert.equal(toHex(frames.authDigest(c.hub_id, ch.nonce, client.nodeId)), c.digest);
  const auth = frames.answerChallenge(client, ch.hub, ch.nonce);
  assert.equal(sortedJson(frames.encodeFrame(auth)), sortedJson(c.auth_frame));
  assert.ok(frames.checkChallengeResponse(c.hub_id, ch.nonce, client.nodeId, auth.sig));
  assert.ok(!frames.checkChallengeResponse(client.nodeId, ch.nonce, client.nodeId, auth.sig));
});

test('frames: every C++ frame decodes, and re-encodes to the same JSON', () => {
  for (const text of V.frames) {
    const f = frames.decodeFrame(text);
    assert.equal(sortedJson(frames.encodeFrame(f)), sortedJson(text));
  }
});
