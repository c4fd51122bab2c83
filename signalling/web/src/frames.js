// The hub's login and its JSON frames (signalling/hub/auth.cpp, frames.cpp; docs/signalling.md §2).
// Login: the hub sends {type:"challenge", hub, nonce}; the client answers {type:"auth", node, sig}
// with sig the recoverable signature over
//   keccak256("rdv-signal-auth-v1" || hub node id (32) || nonce (32) || client node id (32)).
import { concat, fromHex, toHex, utf8 } from './bytes.js';
import { keccak256, nodeIdOf, recoverPublicKey } from './crypto.js';
import { fromJson, toJson } from './envelope.js';
import { jsonText, parseJson } from './json.js';

const AUTH_DOMAIN = utf8('rdv-signal-auth-v1');

/** @param {string} hubId hex @param {Uint8Array} nonce 32 bytes @param {string} clientId hex */
export function authDigest(hubId, nonce, clientId) {
  return keccak256(concat(AUTH_DOMAIN, fromHex(hubId, 32), nonce, fromHex(clientId, 32)));
}

/** The auth frame answering a challenge. @param {import('./identity.js').Identity} identity */
export function answerChallenge(identity, hubId, nonce) {
  const sig = identity.signRecoverable(authDigest(hubId, nonce, identity.nodeId));
  return { type: 'auth', node: identity.nodeId, sig: toHex(sig) };
}

/** True when `sigHex` recovers to `clientId` for this hub and nonce (what the hub checks). */
export function checkChallengeResponse(hubId, nonce, clientId, sigHex) {
  try {
    return nodeIdOf(recoverPublicKey(fromHex(sigHex, 65), authDigest(hubId, nonce, clientId))) === clientId;
  } catch {
    return false;
  }
}

/** @param {object} frame @returns {string} */
export function encodeFrame(frame) {
  if (frame.type === 'envelope') return jsonText({ envelope: toJson(frame.envelope), type: 'envelope' });
  return jsonText(frame);
}

const isHex = (v, n) => typeof v === 'string' && v.length === 2 * n && /^[0-9a-fA-F]*$/.test(v);
const isUint = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export class FrameError extends Error {
  constructor(code, message = code) {
    super(message);
    this.code = code;
  }
}

/**
 * Decodes a frame from the hub (or a client); throws FrameError. Envelopes come back decoded
 * (shapes checked, not yet verified); hex fields are lowercased.
 * @param {string} text
 */
export function decodeFrame(text) {
  const j = parseJson(text);
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new FrameError('bad-frame');
  const bad = () => new FrameError('bad-frame', `malformed ${j.type} frame`);
  switch (j.type) {
    case 'challenge':
      if (j.v !== 1 || !isHex(j.hub, 32) || !isHex(j.nonce, 32) || !isUint(j.expiresInMs)) throw bad();
      return { type: 'challenge', hub: j.hub.toLowerCase(), nonce: fromHex(j.nonce, 32), expiresInMs: j.expiresInMs };
    case 'auth':
      if (!isHex(j.node, 32) || !isHex(j.sig, 65)) throw bad();
      return { type: 'auth', node: j.node.toLowerCase(), sig: j.sig.toLowerCase() };
    case 'welcome':
      if (!isHex(j.node, 32) || !isUint(j.stored)) throw bad();
      return { type: 'welcome', node: j.node.toLowerCase(), stored: j.stored };
    case 'envelope': {
      if (j.envelope === undefined) throw bad();
      let envelope;
      try {
        envelope = fromJson(j.envelope);
      } catch (e) {
        throw new FrameError(e.code ?? 'malformed-envelope', e.message);
      }
      return { type: 'envelope', envelope };
    }
    case 'ack':
      if (!isHex(j.to, 32) || !isUint(j.seq) || (j.status !== 'delivered' && j.status !== 'stored')) throw bad();
      return { type: 'ack', to: j.to.toLowerCase(), seq: BigInt(j.seq), status: j.status };
    case 'error': {
      if (typeof j.code !== 'string' || typeof j.message !== 'string') throw bad();
      if ('to' in j && !isHex(j.to, 32)) throw bad();
      if ('seq' in j && !isUint(j.seq)) throw bad();
      const f = { type: 'error', code: j.code, message: j.message };
      if ('to' in j) f.to = j.to.toLowerCase();
      if ('seq' in j) f.seq = BigInt(j.seq);
      return f;
    }
    case 'received':
      if (!isHex(j.from, 32) || !isUint(j.seq)) throw bad();
      return { type: 'received', from: j.from.toLowerCase(), seq: BigInt(j.seq) };
    case 'path-report': {
      const t = ['host', 'srflx', 'prflx', 'relay'];
      if (!['direct', 'relayed'].includes(j.path) || !t.includes(j.local) || !t.includes(j.remote)) throw bad();
      return { type: 'path-report', path: j.path, local: j.local, remote: j.remote };
    }
    default:
      throw new FrameError('unknown-frame-type');
  }
}

