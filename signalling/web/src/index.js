// rendezvous for browsers: the public API (docs/web.md).
export { Identity } from './identity.js';
export { RendezvousClient, ApiError } from './client.js';
export { Connection } from './webrtc.js';
export { EnrRecord, EnrError, buildRecord } from './enr.js';
export { HubError } from './hub.js';
export { EnvelopeError } from './envelope.js';
export * as envelope from './envelope.js';
export * as frames from './frames.js';
export * as envelopeV2 from './envelope_v2.js';
export * as rlp from './rlp.js';
export * as bytes from './bytes.js';
export * as crypto from './crypto.js';
export {
  apiRequestDigest,
  rdvSigHeader,
  registerDigest,
  unregisterDigest,
  ICE_SERVERS_DOMAIN,
  REGISTER_TAG,
  UNREGISTER_TAG,
} from './api_signature.js';
