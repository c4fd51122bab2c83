// Errors from sealing, verifying, decoding and opening envelopes. Untrusted input never throws or
// asserts; it yields one of these, and each has a stable wire name for the hub's error frames.
#pragma once

namespace rdv::signalling {

enum class EnvelopeError {
  Malformed,           // wrong sizes, bad hex/base64, missing or mistyped JSON fields
  UnsupportedVersion,  // version byte / "v" is not 1
  UnknownType,         // type byte or name is not one of the six types
  BodyTooLarge,        // ciphertext above kMaxCiphertextSize
  BadSignature,        // signature does not parse or no key recovers from it
  SenderMismatch,      // the recovering key's node id is not the "from" field (or seal's key)
  BadEphemeralKey,     // "epk" is not a valid compressed secp256k1 point
  WrongRecipient,      // open() with a key whose node id is not the "to" field
  DecryptFailed,       // AES-GCM authentication failed: tampered, or not for this key
  Replay,              // ReplayGuard: this (sender, seq) was already accepted
  StaleSequence,       // ReplayGuard: seq below the sender's highest accepted one
  RandomFailed,        // the Rng failed to produce bytes
  CryptoFailed,        // an OpenSSL / libsecp256k1 call failed where it should not
};

// A short kebab-case name ("bad-signature"), used as the hub's error code.
const char* errorCode(EnvelopeError e);
// One human sentence.
const char* describe(EnvelopeError e);

}  // namespace rdv::signalling
