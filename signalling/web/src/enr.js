// EIP-778 node records under the "v4" scheme, as rendezvous/enr does: binary RLP
// [signature, seq, k, v, ...] with keys sorted as bytes and unique, at most 300 bytes, signed over
// keccak256(rlp([seq, k, v, ...])); text form "enr:" + unpadded base64url. A record only exists
// verified: EnrRecord.decode() checks everything, buildRecord() signs and decodes what it made.
import { base64UrlDecode, base64UrlEncode, concat, fromUtf8, utf8 } from './bytes.js';
import { keccak256, nodeIdOf, parsePublicKey, verify } from './crypto.js';
import * as rlp from './rlp.js';

export const MAX_RECORD_SIZE = 300;
export const TEXT_PREFIX = 'enr:';

export class EnrError extends Error {
  constructor(code, message) {
    super(`enr: ${message}`);
    this.code = code;
  }
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export class EnrRecord {
  /** @private */
  constructor(encoded, seq, publicKey, signature, entries) {
    /** the binary form */
    this.encoded = encoded;
    /** @type {bigint} */
    this.seq = seq;
    /** 33-byte compressed key */
    this.publicKey = publicKey;
    /** 64 hex digits */
    this.nodeId = nodeIdOf(publicKey);
    this.signature = signature;
    /** @type {Map<string, Uint8Array>} key -> the value's whole RLP item */
    this.entries = entries;
    this.text = TEXT_PREFIX + base64UrlEncode(encoded);
  }

  /** @param {Uint8Array} bytes the binary form @returns {EnrRecord} */
  static decode(bytes) {
    if (bytes.length > MAX_RECORD_SIZE) throw new EnrError('too-large', 'record larger than 300 bytes');
    let list, items;
    try {
      list = rlp.decodeItem(bytes);
      if (!list.isList) throw new EnrError('not-a-list', 'record is not an RLP list');
      items = rlp.decodeListItems(list.payload);
    } catch (e) {
      if (e instanceof EnrError) throw e;
      throw new EnrError('malformed-rlp', 'record is not canonical RLP');
    }
    if (items.length < 2 || items.length % 2 !== 0)
      throw new EnrError('bad-shape', 'record must be [signature, seq, key, value, ...] with byte-string keys');
    let seq;
    try {
      seq = rlp.decodeUint(items[1]);
    } catch {
      throw new EnrError('bad-seq', 'record seq is not a canonical 64-bit integer');
    }
    const entries = new Map();
    for (let i = 2; i < items.length; i += 2) {
      if (items[i].isList) throw new EnrError('bad-shape', 'record keys must be byte strings');
      if (i > 2) {
        const order = compareBytes(items[i - 2].payload, items[i].payload);
        if (order === 0) throw new EnrError('duplicate-key', 'record has a duplicate key');
        if (order > 0) throw new EnrError('keys-not-sorted', 'record keys are not sorted');
      }
      entries.set(fromUtf8(items[i].payload), items[i + 1].encoded);
    }
    const id = entries.get('id');
    if (!id) throw new EnrError('missing-id', 'record has no "id" key');
    if (fromUtf8(valueBytes(id) ?? new Uint8Array()) !== 'v4')
      throw new EnrError('unsupported-scheme', 'record identity scheme is not "v4"');
    const keyItem = entries.get('secp256k1');
    if (!keyItem) throw new EnrError('missing-public-key', 'record has no "secp256k1" key');
    const key = valueBytes(keyItem);
    if (!key || key.length !== 33) throw new EnrError('bad-public-key', 'record "secp256k1" is not a compressed key');
    try {
      parsePublicKey(key);
    } catch {
      throw new EnrError('bad-public-key', 'record "secp256k1" is not a valid compressed public key');
    }
    const sig = items[0];
    const content = rlp.encodeList(list.payload.subarray(sig.encoded.length));
    if (sig.isList || sig.payload.length !== 64 || !verify(sig.payload, keccak256(content), key))
      throw new EnrError('bad-signature', 'record signature does not verify');
    return new EnrRecord(Uint8Array.from(bytes), seq, Uint8Array.from(key), Uint8Array.from(sig.payload), entries);
  }

  /** @param {string} text "enr:..." @returns {EnrRecord} */
  static fromText(text) {
    if (typeof text !== 'string' || !text.startsWith(TEXT_PREFIX))
      throw new EnrError('missing-prefix', 'record text must start with "enr:"');
    const body = text.slice(TEXT_PREFIX.length);
    if (body.length > Math.floor((MAX_RECORD_SIZE * 4 + 2) / 3)) throw new EnrError('too-large', 'record larger than 300 bytes');
    let raw;
    try {
      raw = base64UrlDecode(body);
    } catch {
      throw new EnrError('bad-base64', 'record text is not unpadded URL-safe base64');
    }
    return EnrRecord.decode(raw);
  }

  /** rlp([seq, k, v, ...]): what the signature covers. */
  content() {
    const list = rlp.decodeItem(this.encoded);
    const sigItem = rlp.decodeHeader(list.payload).item;
    return rlp.encodeList(list.payload.subarray(sigItem.encoded.length));
  }

  /** Payload of a byte-string value, or undefined. */
  bytes(key) {
    const item = this.entries.get(key);
    return item ? valueBytes(item) : undefined;
  }

  /** A value as UTF-8 text, or undefined. */
  textValue(key) {
    const b = this.bytes(key);
    return b === undefined ? undefined : fromUtf8(b);
  }

  /** A canonical integer value, or undefined. @returns {bigint|undefined} */
  uint(key) {
    const item = this.entries.get(key);
    if (!item) return undefined;
    try {
      return rlp.decodeUint(rlp.decodeItem(item));
    } catch {
      return undefined;
    }
  }

  /** "a.b.c.d" or undefined */
  get ip() {
    const b = this.bytes('ip');
    return b && b.length === 4 ? Array.from(b).join('.') : undefined;
  }
  get udp() {
    return port(this.uint('udp'));
  }
  get tcp() {
    return port(this.uint('tcp'));
  }
}

function port(v) {
  return v !== undefined && v <= 0xffffn ? Number(v) : undefined;
}

function valueBytes(item) {
  try {
    const it = rlp.decodeItem(item);
    return it.isList ? undefined : it.payload;
  } catch {
    return undefined;
  }
}

function parseIpv4(text) {
  const parts = String(text).split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    throw new Error(`bad IPv4 address ${text}`);
  return Uint8Array.from(parts.map(Number));
}

function parseIpv6(text) {
  const s = String(text);
  const halves = s.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address ${text}`);
  const groups = (h) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) throw new Error(`bad IPv6 address ${text}`);
  const all = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`bad IPv6 address ${text}`);
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/**
 * Builds and signs a v4 record; "id" and "secp256k1" come from the key. Values in `set` are text,
 * or bytes when given as a Uint8Array (as `rdv enr encode --set KEY=0x...` does).
 * @param {import('./identity.js').Identity} identity
 */
export function buildRecord(identity, fields = {}) {
  const values = new Map();
  const seq = fields.seq ?? Math.floor(Date.now() / 1000);
  if (fields.ip !== undefined) values.set('ip', rlp.encodeString(parseIpv4(fields.ip)));
  if (fields.ip6 !== undefined) values.set('ip6', rlp.encodeString(parseIpv6(fields.ip6)));
  for (const k of ['udp', 'tcp', 'udp6', 'tcp6']) {
    if (fields[k] === undefined) continue;
    const p = Number(fields[k]);
    if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`bad ${k} port ${fields[k]}`);
    values.set(k, rlp.encodeUint(p));
  }
  for (const [k, v] of Object.entries(fields.set ?? {})) {
    if (k === 'id' || k === 'secp256k1') throw new Error(`"${k}" is written from the signing key`);
    values.set(k, rlp.encodeString(v instanceof Uint8Array ? v : utf8(String(v))));
  }
  values.set('id', rlp.encodeString(utf8('v4')));
  values.set('secp256k1', rlp.encodeString(identity.publicKey));
  const keys = [...values.keys()].map((k) => [k, utf8(k)]).sort((a, b) => compareBytes(a[1], b[1]));
  const parts = [rlp.encodeUint(seq)];
  for (const [k, kb] of keys) parts.push(rlp.encodeString(kb), values.get(k));
  const body = concat(...parts);
  const content = rlp.encodeList(body);
  const sig = identity.sign(keccak256(content));
  const record = rlp.encodeList(concat(rlp.encodeString(sig), body));
  if (record.length > MAX_RECORD_SIZE) throw new EnrError('too-large', 'record larger than 300 bytes');
  return EnrRecord.decode(record);
}


