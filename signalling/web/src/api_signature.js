// Signed API requests (docs/protocol.md, "Signed API requests"). The peer proves its key to a node for
// GET /v1/ice-servers with
//   Authorization: RDV-Sig NODEID:UNIXTIME:SIGNATURE
// where SIGNATURE is the 65-byte r || s || v (130 hex digits) over
//   keccak256(domain || node id of the node asked (32 bytes) || UNIXTIME as decimal text).
// The node accepts each header once, within 60 s of its clock: make a fresh one for every request.
// Registry writes carry a proof of possession in the body instead (registerDigest, unregisterDigest).
import { concat, fromHex, toHex, utf8 } from './bytes.js';
import { keccak256 } from './crypto.js';
import { encodeList, encodeString, encodeUint } from './rlp.js';

export const ICE_SERVERS_DOMAIN = 'rdv-ice-servers-v1';

/** @param {string} domain @param {string} nodeIdHex the node's id @param {number} unixTime seconds */
export function apiRequestDigest(domain, nodeIdHex, unixTime) {
  if (!Number.isSafeInteger(unixTime)) throw new RangeError('unix time must be an integer');
  return keccak256(concat(utf8(domain), fromHex(nodeIdHex, 32), utf8(String(unixTime))));
}

/**
 * The Authorization header value for one request to the node `nodeIdHex`.
 * @param {import('./identity.js').Identity} identity
 */
export function rdvSigHeader(identity, nodeIdHex, unixTime = Math.floor(Date.now() / 1000), domain = ICE_SERVERS_DOMAIN) {
  const sig = identity.signRecoverable(apiRequestDigest(domain, nodeIdHex, unixTime));
  return `RDV-Sig ${identity.nodeId}:${unixTime}:${toHex(sig)}`;
}

export const REGISTER_TAG = 'rdv-register-v1';
export const UNREGISTER_TAG = 'rdv-unregister-v2';

function rlpListDigest(parts) {
  return keccak256(encodeList(concat(...parts)));
}

function checkMillis(unixMillis) {
  if (!Number.isSafeInteger(unixMillis) || unixMillis < 0) throw new RangeError('time must be a unix time in milliseconds');
}

/**
 * Proof of possession for POST /v1/registrations (rendezvous/registry/unregister_message.h,
 * docs/registry.md): what the record's own key signs (64-byte r || s),
 * keccak256(rlp(["rdv-register-v1", namespace, keccak256(record RLP) (32 bytes), ttl, time])).
 * @param {string} namespace @param {Uint8Array} recordRlp the record's binary form (EnrRecord.encoded)
 * @param {number} ttl what the request asks for, 0 when it leaves it to the node's default
 * @param {number} unixMillis the signed time, unix milliseconds
 */
export function registerDigest(namespace, recordRlp, ttl, unixMillis) {
  checkMillis(unixMillis);
  return rlpListDigest([encodeString(utf8(REGISTER_TAG)), encodeString(utf8(namespace)), encodeString(keccak256(recordRlp)),
    encodeUint(ttl), encodeUint(unixMillis)]);
}

/**
 * What a peer signs (64-byte r || s) to remove its registration (docs/registry.md, "Unregistering"):
 * keccak256(rlp(["rdv-unregister-v2", namespace, node id (32 bytes), seq of the registered record, time])).
 * @param {string} namespace @param {string} nodeIdHex @param {number|bigint} seq @param {number} unixMillis
 */
export function unregisterDigest(namespace, nodeIdHex, seq, unixMillis) {
  checkMillis(unixMillis);
  return rlpListDigest([encodeString(utf8(UNREGISTER_TAG)), encodeString(utf8(namespace)), encodeString(fromHex(nodeIdHex, 32)),
    encodeUint(seq), encodeUint(unixMillis)]);
}
