// Byte helpers shared by every module: hex, UTF-8, big-endian integers and unpadded base64url
// (RFC 4648 §5, the ENR text form and the envelope "ct" field). Decoders are strict, like the C++
// side (rendezvous/enr/base64url.cpp): they throw on anything a canonical encoder would not write.

const HEX = '0123456789abcdef';

/** @param {Uint8Array} bytes @returns {string} lowercase hex */
export function toHex(bytes) {
  let out = '';
  for (const b of bytes) out += HEX[b >> 4] + HEX[b & 15];
  return out;
}

/**
 * @param {string} hex even number of hex digits (either case), optional "0x"
 * @param {number} [expectedLength] bytes required, when given
 * @returns {Uint8Array}
 */
export function fromHex(hex, expectedLength) {
  if (typeof hex !== 'string') throw new TypeError('hex must be a string');
  if (hex.startsWith('0x')) hex = hex.slice(2);
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error('not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  if (expectedLength !== undefined && out.length !== expectedLength)
    throw new Error(`expected ${expectedLength} bytes of hex, got ${out.length}`);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** @param {string} s @returns {Uint8Array} */
export function utf8(s) {
  return encoder.encode(s);
}

/** @param {Uint8Array} b @returns {string} (invalid sequences become U+FFFD) */
export function fromUtf8(b) {
  return decoder.decode(b);
}

/** @param {...Uint8Array} parts @returns {Uint8Array} */
export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** @param {Uint8Array} a @param {Uint8Array} b */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** 8 bytes, big-endian. @param {number|bigint} v unsigned, below 2^64 */
export function be64(v) {
  let x = BigInt(v);
  if (x < 0n || x >= 1n << 64n) throw new RangeError('uint64 out of range');
  const out = new Uint8Array(8);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** @param {Uint8Array} b 8 bytes @returns {bigint} */
export function readBe64(b) {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(b[i]);
  return v;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_REVERSE = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64_REVERSE[B64.charCodeAt(i)] = i;

/** Unpadded URL-safe base64. @param {Uint8Array} data @returns {string} */
export function base64UrlEncode(data) {
  let out = '';
  let i = 0;
  for (; i + 3 <= data.length; i += 3) {
    const v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += B64[(v >> 18) & 63] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63] + B64[v & 63];
  }
  const rest = data.length - i;
  if (rest === 1) {
    const v = data[i] << 16;
    out += B64[(v >> 18) & 63] + B64[(v >> 12) & 63];
  } else if (rest === 2) {
    const v = (data[i] << 16) | (data[i + 1] << 8);
    out += B64[(v >> 18) & 63] + B64[(v >> 12) & 63] + B64[(v >> 6) & 63];
  }
  return out;
}

/**
 * Strict: no padding, no '+' or '/', no whitespace, no impossible length, no stray low bits.
 * @param {string} text @returns {Uint8Array}
 */
export function base64UrlDecode(text) {
  if (text.length % 4 === 1) throw new Error('base64url: impossible length');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 256 ? B64_REVERSE[c] : -1;
    if (v < 0) throw new Error('base64url: invalid character');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (acc !== 0) throw new Error('base64url: non-zero trailing bits');
  return out.subarray(0, n);
}
