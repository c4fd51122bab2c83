// Signed, end-to-end-encrypted signalling envelopes, byte for byte as signalling/envelope does
// (docs/signalling.md §1): ECDH with a fresh ephemeral key, HKDF-SHA256, AES-256-GCM over the body
// with the 82-byte header as additional data, and a recoverable signature by the sender over
// keccak256("rdv-signal-envelope-v1" || header || epk || nonce || ct).
import { base64UrlDecode, base64UrlEncode, be64, concat, fromHex, readBe64, toHex, utf8 } from './bytes.js';
import * as c from './crypto.js';

export const ENVELOPE_VERSION = 1;
export const HEADER_SIZE = 82;
export const MAX_CIPHERTEXT_SIZE = 256 * 1024;
export const TYPES = ['offer', 'answer', 'candidate', 'end-of-candidates', 'bye', 'message'];

const SIGNATURE_DOMAIN = utf8('rdv-signal-envelope-v1');
const HKDF_SALT = utf8('rdv-signal-hkdf-salt-v1');
const HKDF_INFO = utf8('rdv-signal-hkdf-info-v1');

export class EnvelopeError extends Error {
  /** @param {string} code one of docs/signalling.md's envelope error codes */
  constructor(code, message = code) {
    super(message);
    this.code = code;
  }
}

/**
 * @typedef {{ from: string, to: string, type: string, seq: bigint, ts: bigint }} EnvelopeHeader
 *   from/to: 64-hex node ids; type: one of TYPES; seq, ts: uint64 (ts in unix milliseconds)
 * @typedef {{ header: EnvelopeHeader, epk: Uint8Array, nonce: Uint8Array, ct: Uint8Array, sig: Uint8Array }} Envelope
 */

function typeByte(type) {
  const i = TYPES.indexOf(type);
  if (i < 0) throw new EnvelopeError('unknown-type', `unknown envelope type ${type}`);
  return i + 1;
}

/** version || type || from || to || seq (BE) || ts (BE). @param {EnvelopeHeader} h */
export function encodeHeader(h) {
  return concat(Uint8Array.of(ENVELOPE_VERSION, typeByte(h.type)), fromHex(h.from, 32), fromHex(h.to, 32), be64(h.seq), be64(h.ts));
}

function hkdfInfo(h, epk) {
  return concat(HKDF_INFO, fromHex(h.from, 32), fromHex(h.to, 32), Uint8Array.of(typeByte(h.type)), be64(h.seq), epk);
}

/** @param {Envelope} e */
export function signingDigest(e) {
  return c.keccak256(concat(SIGNATURE_DOMAIN, encodeHeader(e.header), e.epk, e.nonce, e.ct));
}

/**
 * Seals `body` to `recipientPublicKey`. `random(n)` gives n random bytes (the ephemeral secret is
 * drawn first, 32 bytes, again while not a valid scalar; then the 12-byte nonce), injectable for
 * test vectors.
 * @param {import('./identity.js').Identity} sender
 * @param {Uint8Array} recipientPublicKey 33 or 65 bytes
 * @param {EnvelopeHeader} header header.from must be the sender's node id
 * @param {Uint8Array} body
 * @returns {Envelope}
 */
export function seal(sender, recipientPublicKey, header, body, random = c.randomBytes) {
  if (header.from !== sender.nodeId) throw new EnvelopeError('sender-mismatch', 'header.from is not the sender');
  typeByte(header.type);
  if (body.length > MAX_CIPHERTEXT_SIZE - 16) throw new EnvelopeError('body-too-large');
  let eph;
  for (let attempt = 0; attempt < 8 && !eph; attempt++) {
    const s = random(32);
    if (c.isValidSecret(s)) eph = s;
  }
  if (!eph) throw new EnvelopeError('random-failed');
  const epk = c.publicKeyOf(eph, true);
  const nonce = random(12);
  const h = { ...header, seq: BigInt(header.seq), ts: BigInt(header.ts) };
  const key = c.hkdfSha256(c.ecdhX(eph, recipientPublicKey), HKDF_SALT, hkdfInfo(h, epk));
  const ct = c.aesGcmSeal(key, nonce, encodeHeader(h), body);
  key.fill(0);
  eph.fill(0);
  const e = { header: h, epk, nonce, ct, sig: new Uint8Array(65) };
  e.sig = sender.signRecoverable(signingDigest(e));
  return e;
}

/**
 * Checks shape and that the signature recovers to header.from. Returns the sender's compressed
 * public key.
 * @param {Envelope} e @returns {Uint8Array}
 */
export function verify(e) {
  typeByte(e.header.type);
  if (e.ct.length < 16) throw new EnvelopeError('malformed-envelope', 'ciphertext shorter than a tag');
  if (e.ct.length > MAX_CIPHERTEXT_SIZE) throw new EnvelopeError('body-too-large');
  if (e.epk.length !== 33 || (e.epk[0] !== 2 && e.epk[0] !== 3)) throw new EnvelopeError('bad-ephemeral-key');
  let key;
  try {
    key = c.recoverPublicKey(e.sig, signingDigest(e));
  } catch {
    throw new EnvelopeError('bad-signature');
  }
  if (c.nodeIdOf(key) !== e.header.from) throw new EnvelopeError('sender-mismatch');
  return key;
}

/**
 * Decrypts a verified envelope addressed to `recipient`.
 * @param {Envelope} e @param {import('./identity.js').Identity} recipient @returns {Uint8Array}
 */
export function open(e, recipient) {
  if (recipient.nodeId !== e.header.to) throw new EnvelopeError('wrong-recipient');
  let shared;
  try {
    shared = recipient.ecdh(e.epk);
  } catch {
    throw new EnvelopeError('bad-ephemeral-key');
  }
  const key = c.hkdfSha256(shared, HKDF_SALT, hkdfInfo(e.header, e.epk));
  try {
    return c.aesGcmOpen(key, e.nonce, encodeHeader(e.header), e.ct);
  } catch {
    throw new EnvelopeError('decrypt-failed');
  } finally {
    key.fill(0);
  }
}

/** header (82) || epk (33) || nonce (12) || sig (65) || ct: the mailbox's binary form. */
export function encodeBinary(e) {
  return concat(encodeHeader(e.header), e.epk, e.nonce, e.sig, e.ct);
}

/** @param {Uint8Array} b @returns {Envelope} */
export function decodeBinary(b) {
  if (b.length < HEADER_SIZE) throw new EnvelopeError('malformed-envelope');
  if (b[0] !== ENVELOPE_VERSION) throw new EnvelopeError('unsupported-version');
  if (b[1] < 1 || b[1] > TYPES.length) throw new EnvelopeError('unknown-type');
  if (b.length < 192 + 16) throw new EnvelopeError('malformed-envelope');
  if (b.length - 192 > MAX_CIPHERTEXT_SIZE) throw new EnvelopeError('body-too-large');
  return {
    header: {
      type: TYPES[b[1] - 1],
      from: toHex(b.subarray(2, 34)),
      to: toHex(b.subarray(34, 66)),
      seq: readBe64(b.subarray(66, 74)),
      ts: readBe64(b.subarray(74, 82)),
    },
    epk: b.slice(82, 115),
    nonce: b.slice(115, 127),
    sig: b.slice(127, 192),
    ct: b.slice(192),
  };
}

/** The JSON object the WebSocket frames carry (keys in the C++ output's order). */
export function toJson(e) {
  return {
    ct: base64UrlEncode(e.ct),
    epk: toHex(e.epk),
    from: e.header.from,
    nonce: toHex(e.nonce),
    seq: e.header.seq,
    sig: toHex(e.sig),
    to: e.header.to,
    ts: e.header.ts,
    type: e.header.type,
    v: ENVELOPE_VERSION,
  };
}

function hexField(j, name, n) {
  const v = j[name];
  if (typeof v !== 'string' || v.length !== 2 * n) throw new EnvelopeError('malformed-envelope', `bad "${name}"`);
  try {
    return fromHex(v, n);
  } catch {
    throw new EnvelopeError('malformed-envelope', `bad "${name}"`);
  }
}

function uintField(j, name) {
  const v = j[name];
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new EnvelopeError('malformed-envelope', `bad "${name}"`);
  return BigInt(v);
}

/** @returns {Envelope} shapes checked; verify() checks the signature */
export function fromJson(j) {
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new EnvelopeError('malformed-envelope');
  if (typeof j.v !== 'number' || !Number.isInteger(j.v)) throw new EnvelopeError('malformed-envelope');
  if (j.v !== ENVELOPE_VERSION) throw new EnvelopeError('unsupported-version');
  if (typeof j.type !== 'string') throw new EnvelopeError('malformed-envelope');
  if (!TYPES.includes(j.type)) throw new EnvelopeError('unknown-type');
  const header = {
    type: j.type,
    from: toHex(hexField(j, 'from', 32)),
    to: toHex(hexField(j, 'to', 32)),
    seq: uintField(j, 'seq'),
    ts: uintField(j, 'ts'),
  };
  const epk = hexField(j, 'epk', 33);
  const nonce = hexField(j, 'nonce', 12);
  const sig = hexField(j, 'sig', 65);
  if (typeof j.ct !== 'string') throw new EnvelopeError('malformed-envelope');
  if (j.ct.length > (Math.floor(MAX_CIPHERTEXT_SIZE / 3) + 1) * 4) throw new EnvelopeError('body-too-large');
  let ct;
  try {
    ct = base64UrlDecode(j.ct);
  } catch {
    throw new EnvelopeError('malformed-envelope', 'bad "ct"');
  }
  if (ct.length < 16) throw new EnvelopeError('malformed-envelope');
  if (ct.length > MAX_CIPHERTEXT_SIZE) throw new EnvelopeError('body-too-large');
  return { header, epk, nonce, ct, sig };
}

/** Per sender, the highest accepted seq: check() before open(), accept() after it decrypted. */
export class ReplayGuard {
  constructor() {
    /** @type {Map<string, bigint>} */
    this.highest = new Map();
  }
  check(e) {
    const h = this.highest.get(e.header.from);
    if (h === undefined) return;
    if (e.header.seq === h) throw new EnvelopeError('replay');
    if (e.header.seq < h) throw new EnvelopeError('stale-sequence');
  }
  accept(e) {
    const h = this.highest.get(e.header.from);
    if (h === undefined || e.header.seq > h) this.highest.set(e.header.from, e.header.seq);
  }
}

/**
 * A sender's sequence without durable state (docs/signalling.md): max(last + 1, unix_ms * 1000),
 * below 2^53 until the year 2255, so JSON numbers stay exact.
 */
export class SequenceCounter {
  constructor(now = () => Date.now()) {
    this.now = now;
    this.last = 0n;
  }
  next() {
    const fromClock = BigInt(Math.floor(this.now())) * 1000n;
    this.last = fromClock > this.last ? fromClock : this.last + 1n;
    return this.last;
  }
}
