// One authenticated WebSocket session with a node's signalling hub (/v1/signal): login
// (challenge -> auth -> welcome), envelopes out with their acks, envelopes in, verified, replays
// dropped, opened and confirmed with `received` so the hub clears its mailbox.
import { utf8 } from './bytes.js';
import { ReplayGuard, SequenceCounter, open, seal, verify } from './envelope.js';
import { answerChallenge, decodeFrame, encodeFrame } from './frames.js';

export class HubError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

export function webSocketUrl(nodeUrl, path) {
  const u = new URL(path, nodeUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

export class HubSession {
  /**
   * @param {{node: string, identity: import('./identity.js').Identity, WebSocket: any,
   *          onEnvelope: (e: object, body: Uint8Array) => void, timeoutMs?: number}} options
   */
  constructor({ node, identity, WebSocket, onEnvelope, timeoutMs = 10000 }) {
    this.identity = identity;
    this.onEnvelope = onEnvelope;
    this.timeoutMs = timeoutMs;
    this.guard = new ReplayGuard();
    this.seq = new SequenceCounter();
    /** @type {Map<string, {resolve: Function, reject: Function, timer: any}>} */
    this.pending = new Map();
    this.closed = false;
    this.hubId = undefined;
    this.ws = new WebSocket(webSocketUrl(node, '/v1/signal'));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new HubError('hub', 'no welcome from the hub in time')), timeoutMs);
      this.readyResolve = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
      this.readyReject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
    this.ready.catch(() => {});
    this.ws.onmessage = (event) => this.#frame(typeof event.data === 'string' ? event.data : String(event.data));
    this.ws.onerror = () => this.readyReject(new HubError('hub', `cannot reach ${webSocketUrl(node, '/v1/signal')}`));
    this.ws.onclose = (event) => this.#closed(event);
  }

  #frame(text) {
    let f;
    try {
      f = decodeFrame(text);
    } catch {
      return; // a frame we cannot read: ignore, as rdv does
    }
    switch (f.type) {
      case 'challenge':
        this.hubId = f.hub;
        this.ws.send(encodeFrame(answerChallenge(this.identity, f.hub, f.nonce)));
        break;
      case 'welcome':
        this.hubReady = true;
        this.readyResolve(f);
        break;
      case 'ack': {
        const p = this.pending.get(f.seq.toString());
        if (p) {
          this.pending.delete(f.seq.toString());
          clearTimeout(p.timer);
          p.resolve({ to: f.to, seq: f.seq, status: f.status });
        }
        break;
      }
      case 'error': {
        const p = f.seq !== undefined ? this.pending.get(f.seq.toString()) : undefined;
        if (p) {
          this.pending.delete(f.seq.toString());
          clearTimeout(p.timer);
          p.reject(new HubError(f.code, f.message));
        } else if (!this.hubReady) {
          this.readyReject(new HubError(f.code, f.message));
        }
        break;
      }
      case 'envelope':
        this.#envelope(f.envelope);
        break;
      default:
        break;
    }
  }

  #envelope(e) {
    let senderKey;
    try {
      senderKey = verify(e);
      this.guard.check(e);
    } catch {
      return; // the hub verified too; a bad one or a repeat from the mailbox is dropped
    }
    let body;
    try {
      body = open(e, this.identity);
    } catch {
      return;
    }
    this.guard.accept(e);
    try {
      this.onEnvelope(e, body, senderKey);
    } finally {
      if (this.ws.readyState === 1)
        this.ws.send(encodeFrame({ type: 'received', from: e.header.from, seq: e.header.seq }));
    }
  }

  #closed(event) {
    this.closed = true;
    const why = new HubError('hub-closed', `the hub closed the connection (${event?.code ?? ''} ${event?.reason ?? ''})`);
    this.readyReject(why);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(why);
    }
    this.pending.clear();
  }

  /**
   * Seals and sends one envelope; resolves with the hub's ack {to, seq, status}.
   * @param {Uint8Array} recipientPublicKey @param {string} recipientId @param {string} type
   * @param {Uint8Array|string} body
   */
  async send(recipientPublicKey, recipientId, type, body) {
    await this.ready;
    const seq = this.seq.next();
    const header = { from: this.identity.nodeId, to: recipientId, type, seq, ts: BigInt(Date.now()) };
    const bytes = typeof body === 'string' ? utf8(body) : body;
    const envelope = seal(this.identity, recipientPublicKey, header, bytes);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq.toString());
        reject(new HubError('timeout', 'no acknowledgement from the hub in time'));
      }, this.timeoutMs);
      this.pending.set(seq.toString(), { resolve, reject, timer });
      this.ws.send(encodeFrame({ type: 'envelope', envelope }));
    });
  }

  /** {type:"path-report", path, local, remote}: tells the node's ledger which path a session took. */
  reportPath(path, local, remote) {
    if (this.ws.readyState === 1) this.ws.send(encodeFrame({ type: 'path-report', path, local, remote }));
  }

  close() {
    this.closed = true;
    try {
      this.ws.close(1000);
    } catch {
      /* already closed */
    }
  }
}

