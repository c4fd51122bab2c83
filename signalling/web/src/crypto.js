// The primitives, as the C++ side uses them (rendezvous/identity): Keccak-256 with the original
// padding, secp256k1 ECDSA with RFC 6979 nonces and low-S (byte-identical to libsecp256k1),
// 65-byte recoverable signatures r || s || v, ECDH returning the raw x coordinate.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { gcm } from '@noble/ciphers/aes.js';
import { concat, equalBytes, toHex } from './bytes.js';

/** @param {Uint8Array} data @returns {Uint8Array} 32 bytes */
export function keccak256(data) {
  return keccak_256(data);
}

/** @param {number} n @returns {Uint8Array} n bytes from the platform CSPRNG */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}

/** @param {Uint8Array} secret @returns {boolean} */
export function isValidSecret(secret) {
  return secret.length === 32 && secp256k1.utils.isValidSecretKey(secret);
}

/** @param {Uint8Array} secret @param {boolean} [compressed] */
export function publicKeyOf(secret, compressed = true) {
  return secp256k1.getPublicKey(secret, compressed);
}

/**
 * A 33- or 65-byte SEC1 public key, checked to be on the curve.
 * @param {Uint8Array} bytes @returns {{compressed: Uint8Array, uncompressed: Uint8Array}}
 */
export function parsePublicKey(bytes) {
  if (bytes.length !== 33 && bytes.length !== 65) throw new Error('public key must be 33 or 65 bytes');
  const p = secp256k1.Point.fromBytes(bytes);
  p.assertValidity();
  return { compressed: p.toBytes(true), uncompressed: p.toBytes(false) };
}

/** keccak256(x || y): the EIP-778 v4 node id. @param {Uint8Array} publicKey 33 or 65 bytes @returns {string} hex */
export function nodeIdOf(publicKey) {
  const { uncompressed } = parsePublicKey(publicKey);
  return toHex(keccak256(uncompressed.subarray(1)));
}

/** 64-byte r || s, low-S. */
export function sign(digest, secret) {
  return secp256k1.sign(digest, secret, { prehash: false, lowS: true, format: 'compact' });
}

/** 65-byte r || s || v (v = recovery id), low-S, as libsecp256k1's recoverable signatures. */
export function signRecoverable(digest, secret) {
  const vrs = secp256k1.sign(digest, secret, { prehash: false, lowS: true, format: 'recovered' });
  return concat(vrs.subarray(1), vrs.subarray(0, 1));
}

/** True when a 64-byte low-S r || s signature verifies. */
export function verify(signature64, digest, publicKey) {
  if (signature64.length !== 64) return false;
  try {
    return secp256k1.verify(signature64, digest, publicKey, { prehash: false, lowS: true, format: 'compact' });
  } catch {
    return false;
  }
}

/**
 * The compressed public key that made a 65-byte r || s || v signature over `digest`; throws when
 * none (high-S refused, as the C++ side does).
 */
export function recoverPublicKey(signature65, digest) {
  if (signature65.length !== 65 || signature65[64] > 3) throw new Error('recoverable signature must be 65 bytes, v 0..3');
  const sig = secp256k1.Signature.fromBytes(signature65.subarray(0, 64), 'compact');
  if (sig.hasHighS()) throw new Error('high-S signature');
  const vrs = concat(signature65.subarray(64), signature65.subarray(0, 64));
  return secp256k1.recoverPublicKey(vrs, digest, { prehash: false });
}

/** x coordinate of secret * peer (32 bytes, unhashed). */
export function ecdhX(secret, peerPublicKey) {
  return secp256k1.getSharedSecret(secret, peerPublicKey, true).subarray(1);
}

/** HKDF-SHA256 (RFC 5869) to 32 bytes. */
export function hkdfSha256(ikm, salt, info) {
  return hkdf(sha256, ikm, salt, info, 32);
}

/** AES-256-GCM: ciphertext || 16-byte tag. */
export function aesGcmSeal(key, nonce, aad, plaintext) {
  return gcm(key, nonce, aad).encrypt(plaintext);
}

/** AES-256-GCM open; throws on a tag mismatch. */
export function aesGcmOpen(key, nonce, aad, sealed) {
  return gcm(key, nonce, aad).decrypt(sealed);
}

export { equalBytes };
