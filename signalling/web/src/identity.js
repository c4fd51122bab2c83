// A peer's identity: a secp256k1 private key, its node id (keccak256 of the uncompressed public key
// without the 04 prefix, EIP-778 "v4") and the signed record (ENR) that publishes it.
import { fromHex, toHex } from './bytes.js';
import * as c from './crypto.js';
import { buildRecord } from './enr.js';

const SECRET = Symbol('secret');

export class Identity {
  /** @param {Uint8Array} secret 32 bytes, a valid scalar */
  constructor(secret) {
    if (!(secret instanceof Uint8Array) || !c.isValidSecret(secret)) throw new Error('not a valid secp256k1 private key');
    this[SECRET] = Uint8Array.from(secret);
    /** 33-byte compressed public key */
    this.publicKey = c.publicKeyOf(this[SECRET], true);
    /** 64 lowercase hex digits */
    this.nodeId = c.nodeIdOf(this.publicKey);
    Object.freeze(this);
  }

  /** A fresh random key (WebCrypto getRandomValues). */
  static generate() {
    for (let attempt = 0; attempt < 8; attempt++) {
      const secret = c.randomBytes(32);
      if (c.isValidSecret(secret)) return new Identity(secret);
    }
    throw new Error('no valid key from the random source');
  }

  /** 64 hex digits (optional 0x, surrounding whitespace allowed), as `rdv key new` writes them. */
  static fromPrivateKeyHex(hex) {
    const text = String(hex).trim();
    const digits = text.startsWith('0x') ? text.slice(2) : text;
    if (digits.length !== 64) throw new Error('a private key is 64 hex digits');
    return new Identity(fromHex(digits, 32));
  }

  /** The private key as 64 hex digits (store it like a password). */
  privateKeyHex() {
    return toHex(this[SECRET]);
  }

  /**
   * This identity's signed record in text form (enr:...).
   * @param {{seq?: number|bigint, ip?: string, ip6?: string, udp?: number, tcp?: number, udp6?: number,
   *          tcp6?: number, set?: Record<string, string|Uint8Array>}} [fields]
   *   seq defaults to the current unix time in seconds, so a newer record replaces an older one.
   */
  enr(fields = {}) {
    return buildRecord(this, fields).text;
  }

  /** 64-byte r || s over a 32-byte digest. */
  sign(digest) {
    return c.sign(digest, this[SECRET]);
  }

  /** 65-byte r || s || v over a 32-byte digest. */
  signRecoverable(digest) {
    return c.signRecoverable(digest, this[SECRET]);
  }

  /** Raw ECDH x coordinate with a peer's public key (feed it to a KDF). */
  ecdh(peerPublicKey) {
    return c.ecdhX(this[SECRET], peerPublicKey);
  }
}
