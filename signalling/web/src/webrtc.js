// WebRTC data channels between peers, negotiated through the hub: the SDP offer/answer and the
// trickled candidates travel inside the signed, encrypted envelopes (docs/web.md, "Data-channel
// signalling"). Envelope bodies are JSON with "kind":"webrtc", which tells them apart from the
// native agent's ICE/DTLS bodies (docs/agent.md):
//   offer / answer      {"kind":"webrtc","session","gen","sdp"}
//   candidate           {"kind":"webrtc","session","gen","candidate","sdpMid","sdpMLineIndex"}
//   end-of-candidates   {"kind":"webrtc","session","gen"}
//   bye                 {"kind":"webrtc","session"}
//   message             {"kind":"webrtc","session","gen","seq","data"[,"binary":true]} (hub fallback)
// The offerer creates one ordered, reliable channel labelled "rdv".
//
// Hub fallback (between two peers of this package; docs/web.md "When the path breaks"): the
// answerer also opens a channel "rdv-ack", on which each side acknowledges how many messages of
// "rdv" it has delivered ({"upto": n}; the n-th message on "rdv" is message n). A sender keeps each
// message until acknowledged; when the path breaks (ICE 'disconnected'/'failed', or the channel
// closes without a bye) the unacknowledged ones and every later one go over the hub as "message"
// envelopes with their number; the receiver delivers by number, once, in order. The native agent
// does the same; a peer that opens no "rdv-ack" gets no fallback: the connection closes as before.
import { base64UrlDecode, base64UrlEncode, fromUtf8, toHex } from './bytes.js';
import { randomBytes } from './crypto.js';

const KINDS = new Set(['offer', 'answer', 'candidate', 'end-of-candidates', 'bye', 'message']);
const ACK_LABEL = 'rdv-ack';
const MAX_UNACKED = 4096; // messages kept for a fallback (the oldest go first beyond this)
const MAX_HELD = 4096; // messages from the hub held for a gap
// ICE 'disconnected' can be a blip, and a peer that closes makes it too (its bye follows through the
// hub): fall back only if the path is still down, and the session open, this long after.
const FALLBACK_GRACE_MS = 2000;

function parseBody(body) {
  try {
    const j = JSON.parse(fromUtf8(body));
    return typeof j === 'object' && j !== null && j.kind === 'webrtc' && typeof j.session === 'string' ? j : undefined;
  } catch {
    return undefined;
  }
}

export function isWebRtcBody(type, body) {
  return KINDS.has(type) && parseBody(body) !== undefined;
}

function deadline(ms, what) {
  let timer;
  const p = new Promise((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`timeout: ${what}`), { code: 'timeout' })), ms);
  });
  return { promise: p, cancel: () => clearTimeout(timer) };
}

async function iceServersOrNone(client) {
  try {
    return await client.iceServers();
  } catch (e) {
    console.warn(`rendezvous: no ICE servers from the node (${e.message}); host candidates only`);
    return [];
  }
}

/** Which path the selected candidate pair takes: {path, local, remote} from getStats(). */
export async function selectedPath(pc) {
  const stats = await pc.getStats();
  let pair;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  });
  if (!pair)
    stats.forEach((s) => {
      if (!pair && s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    });
  if (!pair) return { path: 'direct', local: 'host', remote: 'host' };
  const local = stats.get(pair.localCandidateId)?.candidateType ?? 'host';
  const remote = stats.get(pair.remoteCandidateId)?.candidateType ?? 'host';
  return { path: local === 'relay' || remote === 'relay' ? 'relayed' : 'direct', local, remote };
}

// Messages that arrive on a channel before its Connection exists (the peer may send the moment the
// channel opens, while we still read the path from getStats()).
const buffered = new WeakMap();
function bufferEarly(channel) {
  const early = [];
  buffered.set(channel, early);
  channel.onmessage = (event) => early.push(event);
}

/** An open data channel to a peer. */
export class Connection {
  constructor(session, channel, pathInfo) {
    this.session = session;
    this.channel = channel;
    /** the peer's node id */
    this.peer = session.peerId;
    /** 'direct' | 'relayed' */
    this.path = pathInfo.path;
    /** candidate types of the selected pair: host, srflx, prflx, relay */
    this.local = pathInfo.local;
    this.remote = pathInfo.remote;
    this.handler = null;
    /** @type {(() => void) | null} */
    this.onclose = null;
    /** @type {(() => void) | null} called when the connection moves to the hub (path 'hub') */
    this.onfallback = null;
    this.early = [];
    this.closeNotified = false;
    // Numbering for the hub fallback: messages sent (kept until acknowledged) and delivered.
    this.sentSeq = 0;
    this.unacked = new Map();
    this.delivered = 0;
    this.channelCount = 0;
    this.held = new Map();
    this.ackChannel = null;
    this.viaHub = false;
    for (const event of buffered.get(channel) ?? []) this.receive(event);
    buffered.delete(channel);
    channel.onmessage = (event) => this.receive(event);
    channel.onclose = () => {
      // A peer that closed its RTCPeerConnection closes the channel too, and its bye follows through
      // the hub: a close, not a broken path, unless no bye came within the grace period.
      if (this.session.closed || !this.ackChannel || this.session.dtlsClosed()) return this.notifyClosed();
      setTimeout(() => {
        if (this.session.closed || this.session.dtlsClosed()) this.notifyClosed();
        else this.fallback('channel closed');
      }, FALLBACK_GRACE_MS);
    };
  }

  /** A message on the data channel: the channel's n-th message is message n. */
  receive(event) {
    this.accept(++this.channelCount, event);
    this.ack();
  }

  /** Delivers message `seq` once, in order (early ones wait for the gap, repeats are dropped). */
  accept(seq, event) {
    if (seq <= this.delivered) return;
    if (seq !== this.delivered + 1) {
      if (this.held.size < MAX_HELD) this.held.set(seq, event);
      return;
    }
    this.deliver(event);
    this.delivered = seq;
    while (this.held.has(this.delivered + 1)) {
      const next = this.held.get(this.delivered + 1);
      this.held.delete(++this.delivered);
      this.deliver(next);
    }
  }

  deliver(event) {
    if (this.handler) this.handler(event);
    else this.early.push(event);
  }

  ack() {
    if (this.ackChannel?.readyState === 'open') {
      try {
        this.ackChannel.send(JSON.stringify({ upto: this.delivered }));
      } catch {
        /* the path is going: the hub copy will be acknowledged by number */
      }
    }
  }

  /** The peer opened (or we received) the "rdv-ack" channel: acknowledgements flow both ways on it. */
  attachAckChannel(channel) {
    this.ackChannel = channel;
    channel.onmessage = (event) => {
      let upto;
      try {
        upto = JSON.parse(String(event.data)).upto;
      } catch {
        return;
      }
      if (!Number.isSafeInteger(upto)) return;
      for (const seq of this.unacked.keys()) if (seq <= upto) this.unacked.delete(seq);
    };
    channel.onopen = () => this.ack();
    if (channel.readyState === 'open') this.ack();
  }

  /** A "message" envelope through the hub: delivered by its number, once, in order. */
  receiveFromHub(j) {
    const seq = j.seq;
    if (!Number.isSafeInteger(seq) || seq <= this.delivered || typeof j.data !== 'string') return;
    let data = j.data;
    if (j.binary === true) {
      try {
        data = base64UrlDecode(j.data).slice().buffer;
      } catch {
        return;
      }
    }
    this.accept(seq, { data });
  }

  /** The path broke: what it did not confirm, and everything after, goes through the hub. */
  fallback(reason) {
    if (this.viaHub || this.session.closed || this.closeNotified) return;
    if (!this.ackChannel) {
      this.notifyClosed();
      return;
    }
    this.viaHub = true;
    this.path = 'hub';
    this.fallbackReason = reason;
    for (const [seq, data] of this.unacked) this.sendViaHub(seq, data);
    this.onfallback?.();
  }

  sendViaHub(seq, data) {
    const fields = { seq };
    if (typeof data === 'string') fields.data = data;
    else {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      fields.data = base64UrlEncode(bytes);
      fields.binary = true;
    }
    this.session.post('message', fields);
  }

  notifyClosed() {
    if (this.closeNotified) return;
    this.closeNotified = true;
    this.onclose?.();
  }

  /**
   * (event: {data}) => void. Messages that arrived while no handler was set are handed to the
   * next one set, in order.
   */
  get onmessage() {
    return this.handler;
  }
  set onmessage(fn) {
    this.handler = fn;
    if (fn) queueMicrotask(() => this.flushEarly());
  }

  flushEarly() {
    while (this.handler && this.early.length > 0) this.handler(this.early.shift());
  }

  /**
   * Sends one message: on the data channel, or through the hub once the path broke (Blob is not
   * carried by the hub: pass a string, ArrayBuffer or view).
   * @param {string|ArrayBuffer|ArrayBufferView|Blob} data
   */
  send(data) {
    const seq = ++this.sentSeq;
    if (this.viaHub) {
      this.sendViaHub(seq, data);
      return;
    }
    this.unacked.set(seq, data);
    if (this.unacked.size > MAX_UNACKED) this.unacked.delete(this.unacked.keys().next().value);
    this.channel.send(data);
  }

  close() {
    this.session.close(true);
  }
}

class PeerSession {
  constructor(client, peerId, peerKey, sessionId, role, iceServers, relayOnly) {
    this.client = client;
    this.peerId = peerId;
    this.peerKey = peerKey;
    this.id = sessionId;
    this.role = role;
    this.gen = 0;
    this.remoteSet = false;
    this.queued = [];
    this.outbox = Promise.resolve();
    this.closed = false;
    this.pc = new client.RTCPeerConnection({ iceServers, iceTransportPolicy: relayOnly ? 'relay' : 'all' });
    // Candidates found before our description went out wait for it (the peer needs it first).
    this.described = false;
    this.localCandidates = [];
    this.pc.oniceconnectionstatechange = () => {
      const down = () => ['disconnected', 'failed'].includes(this.pc.iceConnectionState);
      if (!down() || this.graceTimer) return;
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        if (down() && !this.closed && !this.dtlsClosed()) this.connection?.fallback(`ice ${this.pc.iceConnectionState}`);
      }, FALLBACK_GRACE_MS);
    };
    this.pc.onicecandidate = (event) => {
      const c = event.candidate;
      if (c && !c.candidate) return; // Chromium's empty end-of-generation marker
      const item = c
        ? ['candidate', { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }]
        : ['end-of-candidates', {}];
      if (this.described) this.post(...item);
      else this.localCandidates.push(item);
    };
  }

  /** The peer ended DTLS (it closed its RTCPeerConnection). */
  dtlsClosed() {
    return this.pc.sctp?.transport?.state === 'closed';
  }

  /** Sends our offer or answer, then the candidates that were waiting for it. */
  describe(type) {
    const sent = this.post(type, { sdp: this.pc.localDescription.sdp });
    this.described = true;
    for (const item of this.localCandidates.splice(0)) this.post(...item);
    return sent;
  }

  get key() {
    return `${this.peerId}/${this.id}`;
  }

  /** Sends one envelope, in order after the previous ones. */
  post(type, fields) {
    const body = JSON.stringify({ kind: 'webrtc', session: this.id, gen: this.gen, ...fields });
    this.outbox = this.outbox
      .then(() => this.client.signalling())
      .then((hub) => hub.send(this.peerKey, this.peerId, type, body))
      .catch((e) => {
        if (!this.closed) console.warn(`rendezvous: ${type} to ${this.peerId.slice(0, 8)} not sent: ${e.message}`);
      });
    return this.outbox;
  }

  async remoteDescription(type, sdp) {
    await this.pc.setRemoteDescription({ type, sdp });
    this.remoteSet = true;
    for (const c of this.queued.splice(0)) await this.addCandidate(c);
  }

  async addCandidate(j) {
    if (!this.remoteSet) {
      this.queued.push(j);
      return;
    }
    try {
      await this.pc.addIceCandidate(j ? { candidate: j.candidate, sdpMid: j.sdpMid, sdpMLineIndex: j.sdpMLineIndex } : null);
    } catch (e) {
      console.warn(`rendezvous: candidate refused: ${e.message}`);
    }
  }

  async open(channel) {
    const info = await selectedPath(this.pc);
    const hub = this.client.hub;
    hub?.reportPath(info.path, info.local, info.remote);
    this.connection = new Connection(this, channel, info);
    if (this.ackChannel) this.connection.attachAckChannel(this.ackChannel);
    return this.connection;
  }

  /** The peer's "rdv-ack" channel (offerer side), or ours (answerer side). */
  useAckChannel(channel) {
    this.ackChannel = channel;
    this.connection?.attachAckChannel(channel);
  }

  close(sayBye = false) {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.graceTimer);
    if (sayBye) this.post('bye', {});
    try {
      this.pc.close();
    } catch {
      /* already closed */
    }
    this.client.sessions.delete(this.key);
    this.connection?.notifyClosed();
  }
}

function waitOpen(channel) {
  return new Promise((resolve, reject) => {
    if (channel.readyState === 'open') return resolve(channel);
    channel.onopen = () => resolve(channel);
    channel.onclose = () => reject(Object.assign(new Error('data channel closed before it opened'), { code: 'closed' }));
  });
}

/** Sends `count` numbered messages ("msg 0", ...) and waits for each to come back (an echoing peer). */
async function roundTrips(connection, count, ms) {
  if (!count) return;
  const got = [];
  let wake;
  connection.onmessage = (event) => {
    got.push(String(event.data));
    wake?.();
  };
  const limit = deadline(ms, `${count} messages echoed`);
  try {
    for (let i = 0; i < count; i++) {
      connection.send(`msg ${i}`);
      while (!got.includes(`msg ${i}`)) await Promise.race([new Promise((r) => (wake = r)), limit.promise]);
    }
  } finally {
    limit.cancel();
    connection.onmessage = null;
  }
  connection.echoed = count;
}

/**
 * Offers a data channel to `record`'s peer. Options: relayOnly (TURN-relayed candidates only),
 * count (messages to round-trip before resolving, like `rdv connect --count`), timeoutMs.
 */
export async function connectPeer(client, record, { relayOnly = false, count = 0, timeoutMs = 30000 } = {}) {
  if (!client.RTCPeerConnection) throw new Error('no RTCPeerConnection here: pass { RTCPeerConnection }');
  await client.signalling();
  const iceServers = await iceServersOrNone(client);
  const s = new PeerSession(client, record.nodeId, record.publicKey, toHex(randomBytes(8)), 'offerer', iceServers, relayOnly);
  client.sessions.set(s.key, s);
  const limit = deadline(timeoutMs, 'data channel to ' + record.nodeId.slice(0, 8));
  try {
    const channel = s.pc.createDataChannel('rdv', { ordered: true });
    bufferEarly(channel);
    s.pc.ondatachannel = (event) => {
      if (event.channel.label === ACK_LABEL) s.useAckChannel(event.channel);
    };
    const opened = waitOpen(channel);
    s.answered = new Promise((resolve) => (s.onAnswer = resolve));
    await s.pc.setLocalDescription(await s.pc.createOffer());
    await s.describe('offer');
    await Promise.race([opened, limit.promise]);
    const connection = await s.open(channel);
    await roundTrips(connection, count, timeoutMs);
    return connection;
  } catch (e) {
    s.close(true);
    throw e;
  } finally {
    limit.cancel();
  }
}

/**
 * Handles one data-channel envelope (from the hub session's dispatch), strictly in arrival order:
 * a candidate must not overtake the offer it belongs to while that offer is still being applied.
 */
export function acceptOffers(client, envelope, body, senderKey) {
  client.rtcQueue = (client.rtcQueue ?? Promise.resolve()).then(() => handleEnvelope(client, envelope, body, senderKey));
  return client.rtcQueue;
}

async function handleEnvelope(client, envelope, body, senderKey) {
  const j = parseBody(body);
  const type = envelope.header.type;
  const key = `${envelope.header.from}/${j.session}`;
  const existing = client.sessions.get(key);
  try {
    if (type === 'offer') {
      if (client.listeners.size === 0) return; // nobody listens: ignore offers
      existing?.close(false);
      const options = [...client.listeners][0].options ?? {};
      const iceServers = await iceServersOrNone(client);
      const s = new PeerSession(client, envelope.header.from, senderKey, j.session, 'answerer', iceServers, options.relayOnly);
      client.sessions.set(key, s);
      s.pc.ondatachannel = async (event) => {
        const channel = event.channel;
        if (channel.label !== 'rdv') return;
        s.useAckChannel(s.pc.createDataChannel(ACK_LABEL, { ordered: true }));
        bufferEarly(channel);
        await waitOpen(channel);
        const connection = await s.open(channel);
        for (const l of client.listeners) {
          try {
            l.onConnection(connection);
          } catch (e) {
            console.error('listen handler failed', e);
          }
        }
        connection.flushEarly();
      };
      await s.remoteDescription('offer', String(j.sdp));
      await s.pc.setLocalDescription(await s.pc.createAnswer());
      s.describe('answer');
    } else if (!existing) {
      return; // a session we do not know (closed, or never ours)
    } else if (type === 'answer' && existing.role === 'offerer' && !existing.remoteSet) {
      await existing.remoteDescription('answer', String(j.sdp));
      existing.onAnswer?.();
    } else if (type === 'candidate') {
      await existing.addCandidate(j);
    } else if (type === 'end-of-candidates') {
      await existing.addCandidate(null);
    } else if (type === 'bye') {
      existing.close(false);
    } else if (type === 'message') {
      existing.connection?.receiveFromHub(j);
    }
  } catch (e) {
    console.warn(`rendezvous: ${type} from ${envelope.header.from.slice(0, 8)} failed: ${e.message}`);
  }
}
