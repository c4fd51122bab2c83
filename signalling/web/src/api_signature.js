// Signed API requests (rendezvous/identity/api_signature.cpp): the peer proves its key to a node for
// GET /v1/ice-servers with
//   Authorization: RDV-Sig NODEID:UNIXTIME:SIGNATURE
// where SIGNATURE is the 65-byte r || s || v (130 hex digits) over
//   keccak256(domain || node id of the node asked (32 bytes) || UNIXTIME as decimal text).
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

/**
 * What a peer signs (64-byte r || s) to remove its registration (rendezvous/registry/unregister_message.h):
 * keccak256(rlp(["rdv-unregister-v1", namespace, node id (32 bytes), seq of the registered record])).
 */
export function unregisterDigest(namespace, nodeIdHex, seq) {
  const parts = [encodeString(utf8('rdv-unregister-v1')), encodeString(utf8(namespace)), encodeString(fromHex(nodeIdHex, 32)), encodeUint(seq)];
  let n = 0;
  for (const p of parts) n += p.length;
  const payload = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    payload.set(p, at);
    at += p.length;
  }
  return keccak256(encodeList(payload));
}
