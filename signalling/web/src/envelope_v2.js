// Envelope version 2, the compact envelope, byte for byte as signalling/envelope/envelope_v2.h
// (docs/signalling.md, "Version 2: compact envelopes"): one byte string
//   head (0x20 | 0x08 short `to` | type) || to (8 or 32) || seq (8, BE) || nonce (8) || ct || sig (64)
// with the sender recovered from the signature (recovery id in the top bit of s, EIP-2098), a
// static-static ECDH key through HKDF-SHA256 that is fresh per envelope, and AES-256-GCM with a zero nonce.
import { base64UrlDecode, base64UrlEncode, be64, concat, fromHex, readBe64, toHex, utf8 } from './bytes.js';
import * as c from './crypto.js';
import { EnvelopeError, MAX_CIPHERTEXT_SIZE, TYPES } from './envelope.js';

export const ENVELOPE_VERSION_2 = 2;
const SHORT_TO = 0x08;
const SIGNATURE_DOMAIN = utf8('rdv-signal-envelope-v2');
const HKDF_SALT = utf8('rdv-signal-hkdf-salt-v2');
const HKDF_INFO = utf8('rdv-signal-hkdf-info-v2');
const ZERO_NONCE = new Uint8Array(12);

/**
 * @typedef {{ type: string, to: Uint8Array, shortTo: boolean, seq: bigint, nonce: Uint8Array, ct: Uint8Array,
 *             sig: Uint8Array }} EnvelopeV2  to: 8 bytes (shortTo) or 32; sig: 65 bytes r || s || v
 */

function head(e) {
  const t = TYPES.indexOf(e.type);
  if (t < 0) throw new EnvelopeError('unknown-type');
  return (ENVELOPE_VERSION_2 << 4) | (e.shortTo ? SHORT_TO : 0) | (t + 1);
}

function prefix(e) {
  return concat(Uint8Array.of(head(e)), e.to, be64(e.seq), e.nonce);
}

function key(own, peerPublicKey, fromId, toId, e) {
  const info = concat(HKDF_INFO, fromHex(fromId, 32), fromHex(toId, 32), Uint8Array.of(head(e)), be64(e.seq), e.nonce);
  return c.hkdfSha256(own.ecdh(peerPublicKey), HKDF_SALT, info);
}

/** @param {EnvelopeV2} e */
export function signingDigestV2(e) {
  return c.keccak256(concat(SIGNATURE_DOMAIN, prefix(e), e.ct));
}

/**
 * Seals `body` from `sender` to `recipientPublicKey` as a v2 envelope; `random(8)` gives the nonce.
 * @param {import('./identity.js').Identity} sender
 * @returns {EnvelopeV2}
 */
export function sealV2(sender, recipientPublicKey, type, seq, body, { shortTo = true, random = c.randomBytes } = {}) {
  if (body.length > MAX_CIPHERTEXT_SIZE - 16) throw new EnvelopeError('body-too-large');
  const toId = c.nodeIdOf(recipientPublicKey);
  const full = fromHex(toId, 32);
  const e = { type, to: shortTo ? full.subarray(0, 8) : full, shortTo, seq: BigInt(seq), nonce: random(8), ct: null, sig: null };
  const k = key(sender, recipientPublicKey, sender.nodeId, toId, e);
  e.ct = c.aesGcmSeal(k, ZERO_NONCE, prefix(e), body);
  k.fill(0);
  e.sig = sender.signRecoverable(signingDigestV2(e));
  if (e.sig[64] > 1) throw new EnvelopeError('crypto-failed', 'recovery id above 1: send as version 1');
  return e;
}

/** The wire bytes. @param {EnvelopeV2} e */
export function encodeV2(e) {
  const sig = e.sig.slice(0, 64);
  sig[32] |= (e.sig[64] & 1) << 7;
  return concat(prefix(e), e.ct, sig);
}

/** @param {Uint8Array} b @returns {EnvelopeV2} shapes checked; verifyV2() recovers the sender */
export function decodeV2(b) {
  if (b.length === 0) throw new EnvelopeError('malformed-envelope');
  if (b[0] >> 4 !== ENVELOPE_VERSION_2) throw new EnvelopeError('unsupported-version');
  const t = b[0] & 0x07;
  if (t < 1 || t > TYPES.length) throw new EnvelopeError('unknown-type');
  const shortTo = (b[0] & SHORT_TO) !== 0;
  const toSize = shortTo ? 8 : 32;
  const fixed = 1 + toSize + 8 + 8 + 64;
  if (b.length < fixed + 16) throw new EnvelopeError('malformed-envelope');
  if (b.length - fixed > MAX_CIPHERTEXT_SIZE) throw new EnvelopeError('body-too-large');
  let p = 1;
  const to = b.slice(p, (p += toSize));
  const seq = readBe64(b.subarray(p, (p += 8)));
  const nonce = b.slice(p, (p += 8));
  const ct = b.slice(p, b.length - 64);
  const sig = new Uint8Array(65);
  sig.set(b.subarray(b.length - 64));
  sig[64] = sig[32] >> 7;
  sig[32] &= 0x7f;
  return { type: TYPES[t - 1], to, shortTo, seq, nonce, ct, sig };
}

/** Recovers the sender: its compressed public key and node id. @param {EnvelopeV2} e */
export function verifyV2(e) {
  if (e.sig[64] > 1) throw new EnvelopeError('bad-signature');
  let publicKey;
  try {
    publicKey = c.recoverPublicKey(e.sig, signingDigestV2(e));
  } catch {
    throw new EnvelopeError('bad-signature');
  }
  return { publicKey, from: c.nodeIdOf(publicKey) };
}

/** Decrypts for `recipient` a v2 envelope whose sender verifyV2() recovered. */
export function openV2(e, senderPublicKey, recipient) {
  if (toHex(e.to) !== recipient.nodeId.slice(0, 2 * e.to.length)) throw new EnvelopeError('wrong-recipient');
  const k = key(recipient, senderPublicKey, c.nodeIdOf(senderPublicKey), recipient.nodeId, e);
  try {
    return c.aesGcmOpen(k, ZERO_NONCE, prefix(e), e.ct);
  } catch {
    throw new EnvelopeError('decrypt-failed');
  } finally {
    k.fill(0);
  }
}

/** The JSON frame's "envelope" member for v2: the bytes as unpadded base64url. */
export function toJsonV2(e) {
  return base64UrlEncode(encodeV2(e));
}

export function fromJsonV2(s) {
  let b;
  try {
    b = base64UrlDecode(s);
  } catch {
    throw new EnvelopeError('malformed-envelope');
  }
  return decodeV2(b);
}
