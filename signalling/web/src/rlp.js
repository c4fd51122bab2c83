// Recursive Length Prefix, strict like rendezvous/enr/rlp.cpp: canonical lengths, no single byte
// below 0x80 wrapped in a header, no leading zeros in long lengths or integers, no trailing bytes,
// bounded nesting. Decoded items are views into the input.

export const MAX_DEPTH = 16;

export class RlpError extends Error {
  /** @param {string} code e.g. 'truncated' @param {string} message */
  constructor(code, message) {
    super(`RLP: ${message}`);
    this.code = code;
  }
}

/**
 * @typedef {{ isList: boolean, payload: Uint8Array, encoded: Uint8Array }} RlpItem
 */

function readLongLength(input, width) {
  if (width > 8) throw new RlpError('length-overflow', 'length too large');
  if (input.length < 1 + width) throw new RlpError('truncated', 'item runs past the end of the input');
  if (input[1] === 0) throw new RlpError('leading-zero-length', 'length with a leading zero byte');
  let len = 0n;
  for (let i = 0; i < width; i++) len = (len << 8n) | BigInt(input[1 + i]);
  if (len < 56n) throw new RlpError('non-canonical-length', 'long length form used for a short payload');
  if (len > BigInt(input.length)) throw new RlpError('truncated', 'item runs past the end of the input');
  return Number(len);
}

/**
 * One item at the start of `input` (header checked, a list's contents not examined).
 * @param {Uint8Array} input @returns {{item: RlpItem, consumed: number}}
 */
export function decodeHeader(input) {
  if (input.length === 0) throw new RlpError('empty', 'empty input');
  const b = input[0];
  let headerSize = 1;
  let payloadSize = 0;
  let isList = false;
  if (b < 0x80) {
    return { item: { isList: false, payload: input.subarray(0, 1), encoded: input.subarray(0, 1) }, consumed: 1 };
  } else if (b <= 0xb7) {
    payloadSize = b - 0x80;
    if (payloadSize === 1 && input.length >= 2 && input[1] < 0x80)
      throw new RlpError('non-canonical-single', 'single byte below 0x80 must encode as itself');
  } else if (b < 0xc0) {
    payloadSize = readLongLength(input, b - 0xb7);
    headerSize += b - 0xb7;
  } else if (b <= 0xf7) {
    isList = true;
    payloadSize = b - 0xc0;
  } else {
    isList = true;
    payloadSize = readLongLength(input, b - 0xf7);
    headerSize += b - 0xf7;
  }
  if (input.length < headerSize || input.length - headerSize < payloadSize)
    throw new RlpError('truncated', 'item runs past the end of the input');
  const consumed = headerSize + payloadSize;
  return {
    item: { isList, payload: input.subarray(headerSize, consumed), encoded: input.subarray(0, consumed) },
    consumed,
  };
}

/** The items of a list payload, each validated recursively. @returns {RlpItem[]} */
export function decodeListItems(payload, maxDepth = MAX_DEPTH) {
  if (maxDepth <= 0) throw new RlpError('too-deep', 'lists nested too deeply');
  const items = [];
  let rest = payload;
  while (rest.length > 0) {
    const { item, consumed } = decodeHeader(rest);
    if (item.isList) decodeListItems(item.payload, maxDepth - 1);
    items.push(item);
    rest = rest.subarray(consumed);
  }
  return items;
}

/** Exactly one item filling `input`. @returns {RlpItem} */
export function decodeItem(input, maxDepth = MAX_DEPTH) {
  const { item, consumed } = decodeHeader(input);
  if (consumed !== input.length) throw new RlpError('trailing-bytes', 'trailing bytes after the item');
  if (item.isList) decodeListItems(item.payload, maxDepth);
  return item;
}

/** A canonical unsigned integer of at most 64 bits. @param {RlpItem} item @returns {bigint} */
export function decodeUint(item) {
  if (item.isList) throw new RlpError('expected-string', 'expected a byte string');
  if (item.payload.length > 8) throw new RlpError('integer-too-large', 'integer wider than 64 bits');
  if (item.payload.length > 0 && item.payload[0] === 0)
    throw new RlpError('leading-zero-integer', 'integer with a leading zero byte');
  let v = 0n;
  for (const b of item.payload) v = (v << 8n) | BigInt(b);
  return v;
}

function header(shortBase, length) {
  if (length < 56) return Uint8Array.of(shortBase + length);
  const bytes = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Uint8Array.of(shortBase + 55 + bytes.length, ...bytes);
}

function join(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** @param {Uint8Array} bytes @returns {Uint8Array} */
export function encodeString(bytes) {
  if (bytes.length === 1 && bytes[0] < 0x80) return Uint8Array.of(bytes[0]);
  return join(header(0x80, bytes.length), bytes);
}

/** @param {number|bigint} value unsigned, below 2^64 @returns {Uint8Array} */
export function encodeUint(value) {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << 64n) throw new RangeError('RLP integer out of range');
  const bytes = [];
  while (v > 0n) {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return encodeString(Uint8Array.from(bytes));
}

/** Wraps already-encoded items into a list. @param {Uint8Array} payload */
export function encodeList(payload) {
  return join(header(0xc0, payload.length), payload);
}
