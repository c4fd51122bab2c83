// RendezvousClient: a browser's (or node's) view of one rendezvous node: the registry
// (docs/registry.md), signed ICE-server requests (docs/turn.md), the signalling hub
// (docs/signalling.md) and WebRTC data channels negotiated through it (docs/web.md).
import { fromUtf8, toHex } from './bytes.js';
import { rdvSigHeader, registerDigest, unregisterDigest } from './api_signature.js';
import { EnrRecord, buildRecord } from './enr.js';
import { HubError, HubSession } from './hub.js';
import { connectPeer, acceptOffers, isWebRtcBody } from './webrtc.js';

// Messages kept for a later inbox() call, at most (the oldest go first).
const MAX_UNREAD = 1000;

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(`HTTP ${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

export class RendezvousClient {
  /**
   * @param {{ node: string, identity: import('./identity.js').Identity, WebSocket?: any, fetch?: typeof fetch,
   *           RTCPeerConnection?: any, timeoutMs?: number }} options
   *   node: the node's HTTP API, e.g. 'http://127.0.0.1:8080'. WebSocket, fetch and RTCPeerConnection
   *   default to the globals (pass them in where the platform has none, e.g. `ws` in node).
   */
  constructor({ node, identity, WebSocket, fetch: fetchImpl, RTCPeerConnection, timeoutMs = 10000 }) {
    if (!node) throw new TypeError('RendezvousClient needs { node }');
    if (!identity) throw new TypeError('RendezvousClient needs { identity }');
    this.node = String(node).replace(/\/+$/, '');
    this.identity = identity;
    this.timeoutMs = timeoutMs;
    this.WebSocket = WebSocket ?? globalThis.WebSocket;
    this.fetch = fetchImpl ?? globalThis.fetch?.bind(globalThis);
    this.RTCPeerConnection = RTCPeerConnection ?? globalThis.RTCPeerConnection;
    /** @type {HubSession|undefined} */
    this.hub = undefined;
    this.inboxHandlers = new Set();
    /** messages that arrived while no inbox handler was set (the hub was already told "received") */
    this.unread = [];
    this.listeners = new Set();
    /** @type {Map<string, any>} WebRTC sessions by "peer/session" */
    this.sessions = new Map();
    this.nodeIdPromise = undefined;
    /** @type {Map<string, number>} namespace -> seq of our last registration */
    this.registered = new Map();
    /** the last signed times used (registry proofs in ms, RDV-Sig in s): never signed twice */
    this.lastSignedMillis = 0;
    this.lastSigSecond = 0;
  }

  /**
   * The time for a registry proof (unix ms): now, but never one this client has signed with before,
   * so two requests in one millisecond are still two requests to the node's replay cache.
   */
  #signingMillis() {
    this.lastSignedMillis = Math.max(Date.now(), this.lastSignedMillis + 1);
    return this.lastSignedMillis;
  }

  /**
   * The unix second for a fresh RDV-Sig header. The node accepts each header once, and a header is
   * a function of (identity, node, second): a second request within the same second waits for the
   * next one (docs/protocol.md, "Signed API requests").
   */
  async #signingSecond() {
    for (;;) {
      const now = Math.floor(Date.now() / 1000);
      if (now > this.lastSigSecond) {
        this.lastSigSecond = now;
        return now;
      }
      await new Promise((resolve) => setTimeout(resolve, (this.lastSigSecond + 1) * 1000 - Date.now() + 5));
    }
  }

  async #request(method, path, { body, headers = {}, expect = 200 } = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let reply;
    try {
      reply = await this.fetch(this.node + path, {
        method,
        headers: body !== undefined ? { 'Content-Type': 'application/json', ...headers } : headers,
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: controller.signal,
      });
    } catch (e) {
      throw new ApiError(0, 'unreachable', `${method} ${this.node}${path}: ${e.message ?? e}`);
    } finally {
      clearTimeout(timer);
    }
    const text = await reply.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (reply.status !== expect) {
      if (json && typeof json.error === 'string') throw new ApiError(reply.status, json.error, json.message ?? '');
      throw new ApiError(reply.status, 'http', text.slice(0, 200));
    }
    if (typeof json !== 'object' || json === null) throw new ApiError(reply.status, 'bad-reply', 'the reply is not a JSON object');
    return json;
  }

  /** GET /v1/node: the node's own record, verified (its node id must match it). */
  async nodeInfo() {
    const j = await this.#request('GET', '/v1/node');
    const record = EnrRecord.fromText(j.enr);
    if (record.nodeId !== j.node_id) throw new ApiError(200, 'bad-reply', 'the node id does not match the record');
    return { enr: j.enr, nodeId: record.nodeId, seq: j.seq, record };
  }

  /**
   * Publishes this identity's record in `namespace`. `fields` go into the record (see
   * Identity.enr()); seq defaults to the unix time, so a newer registration replaces an older one.
   * The request carries the proof of possession the node requires (docs/registry.md): the time and
   * this identity's signature over (namespace, the record, ttl, time), made anew for every call.
   * @returns {Promise<{namespace: string, node_id: string, seq: number, ttl: number}>}
   */
  async register(namespace, { ttl, fields } = {}) {
    const record = buildRecord(this.identity, fields ?? {});
    const time = this.#signingMillis();
    const signedTtl = ttl === undefined ? 0 : Math.max(0, Math.trunc(Number(ttl)) || 0);
    const signature = toHex(this.identity.sign(registerDigest(namespace, record.encoded, signedTtl, time)));
    const body = { namespace, enr: record.text, time, signature };
    if (ttl !== undefined) body.ttl = ttl;
    const reply = await this.#request('POST', '/v1/registrations', { body, expect: 201 });
    this.registered.set(namespace, reply.seq);
    return reply;
  }

  /**
   * Removes this identity's registration from `namespace` (signed with the current time, over
   * rdv-unregister-v2; `seq` defaults to that of our last register() there).
   * @returns {Promise<{namespace: string, node_id: string, seq: number}>}
   */
  async unregister(namespace, { seq } = {}) {
    const s = seq ?? this.registered.get(namespace);
    if (s === undefined) throw new TypeError(`unregister: no seq known for namespace ${namespace}; pass {seq}`);
    const time = this.#signingMillis();
    const signature = toHex(this.identity.sign(unregisterDigest(namespace, this.identity.nodeId, s, time)));
    const body = { namespace, node_id: this.identity.nodeId, time, signature };
    const reply = await this.#request('DELETE', '/v1/registrations', { body });
    this.registered.delete(namespace);
    return reply;
  }

  /**
   * The records in `namespace`, each verified here again: [{enr, nodeId, seq, ttlRemaining, record}].
   * The array's `cookie` asks for only newer records next time ({cookie}).
   */
  async discover(namespace, { limit, cookie } = {}) {
    let path = '/v1/registrations?namespace=' + encodeURIComponent(namespace);
    if (limit !== undefined) path += '&limit=' + encodeURIComponent(limit);
    if (cookie) path += '&cookie=' + encodeURIComponent(cookie);
    const j = await this.#request('GET', path);
    const out = [];
    for (const r of j.registrations ?? []) {
      try {
        const record = EnrRecord.fromText(r.enr);
        if (record.nodeId !== r.node_id) continue;
        out.push({ enr: r.enr, nodeId: record.nodeId, seq: r.seq, ttlRemaining: r.ttl_remaining, record });
      } catch {
        /* a record that does not verify is skipped */
      }
    }
    out.cookie = j.cookie;
    return out;
  }

  async #nodeId() {
    this.nodeIdPromise ??= this.nodeInfo().then((i) => i.nodeId);
    try {
      return await this.nodeIdPromise;
    } catch (e) {
      this.nodeIdPromise = undefined;
      throw e;
    }
  }

  /**
   * STUN/TURN servers with short-lived TURN credentials, for `new RTCPeerConnection({iceServers})`.
   * The request is signed with this identity (Authorization: RDV-Sig), a fresh header for every call
   * (the node accepts each one once). @returns {Promise<RTCIceServer[]>}
   */
  async iceServers() {
    const nodeId = await this.#nodeId();
    const second = await this.#signingSecond();
    const headers = { Authorization: rdvSigHeader(this.identity, nodeId, second) };
    const j = await this.#request('GET', '/v1/ice-servers', { headers });
    return j.iceServers;
  }

  /** The hub session, connected and logged in (one per client, opened on first use). */
  async signalling() {
    if (!this.hub || this.hub.closed) {
      if (!this.WebSocket) throw new HubError('hub', 'no WebSocket implementation: pass { WebSocket }');
      this.hub = new HubSession({
        node: this.node,
        identity: this.identity,
        WebSocket: this.WebSocket,
        timeoutMs: this.timeoutMs,
        onEnvelope: (e, body, senderKey) => this.#dispatch(e, body, senderKey),
      });
    }
    await this.hub.ready;
    return this.hub;
  }

  #dispatch(envelope, body, senderKey) {
    const h = envelope.header;
    if (isWebRtcBody(h.type, body)) {
      acceptOffers(this, envelope, body, senderKey);
      return;
    }
    const message = { from: h.from, type: h.type, seq: h.seq, ts: Number(h.ts), body: fromUtf8(body), bytes: body };
    if (this.inboxHandlers.size === 0) {
      // Nobody reads yet (e.g. only send() so far): keep it for the first inbox(), within a bound.
      this.unread.push(message);
      if (this.unread.length > MAX_UNREAD) this.unread.shift();
      return;
    }
    for (const handler of this.inboxHandlers) {
      try {
        handler(message);
      } catch (e) {
        console.error('inbox handler failed', e);
      }
    }
  }

  /**
   * Sends one signed, end-to-end-encrypted message to a peer through the hub: delivered now, or
   * stored until the peer connects. @param {string|EnrRecord} peerEnr the peer's record (enr:...)
   * @returns {Promise<{to: string, seq: bigint, status: 'delivered'|'stored'}>}
   */
  async send(peerEnr, text, { type = 'message' } = {}) {
    const record = typeof peerEnr === 'string' ? EnrRecord.fromText(peerEnr) : peerEnr;
    const hub = await this.signalling();
    return hub.send(record.publicKey, record.nodeId, type, text);
  }

  /**
   * Calls onMessage({from, type, seq, ts, body, bytes}) for every message that arrives (stored
   * ones first); returns a function that stops it.
   */
  async inbox(onMessage) {
    this.inboxHandlers.add(onMessage);
    for (const m of this.unread.splice(0)) {
      try {
        onMessage(m);
      } catch (e) {
        console.error('inbox handler failed', e);
      }
    }
    await this.signalling();
    return () => this.inboxHandlers.delete(onMessage);
  }

  /** Resolves a peer given as enr:..., an EnrRecord, or a node id looked up in `namespace`. */
  async resolvePeer(peer, namespace = 'rdv') {
    if (peer instanceof EnrRecord) return peer;
    if (typeof peer === 'string' && peer.startsWith('enr:')) return EnrRecord.fromText(peer);
    if (typeof peer === 'string' && /^[0-9a-fA-F]{64}$/.test(peer)) {
      const id = peer.toLowerCase();
      for (const r of await this.discover(namespace, { limit: 1000 })) if (r.nodeId === id) return r.record;
      throw new ApiError(404, 'peer-unknown', `no record of ${id} in namespace ${namespace}`);
    }
    throw new TypeError('peer must be an ENR (enr:...) or a 64-hex node id');
  }

  /**
   * A WebRTC data channel to a peer, negotiated through the hub (docs/web.md).
   * @param {string|EnrRecord} peerEnrOrId
   * @param {{count?: number, relayOnly?: boolean, namespace?: string, timeoutMs?: number}} [options]
   */
  async connect(peerEnrOrId, options = {}) {
    const record = await this.resolvePeer(peerEnrOrId, options.namespace);
    return connectPeer(this, record, options);
  }

  /**
   * Accepts data-channel offers from any peer; onConnection(connection) for each one that opens.
   * Returns a function that stops accepting. @param {{relayOnly?: boolean}} [options]
   */
  async listen(onConnection, options = {}) {
    const entry = { onConnection, options };
    this.listeners.add(entry);
    await this.signalling();
    return () => this.listeners.delete(entry);
  }

  /** Closes the hub session and every data channel. */
  close() {
    for (const s of this.sessions.values()) s.close?.();
    this.sessions.clear();
    this.hub?.close();
    this.hub = undefined;
  }
}
