#include "signalling/envelope/envelope_error.h"

namespace rdv::signalling {

const char* errorCode(EnvelopeError e) {
  switch (e) {
    case EnvelopeError::Malformed: return "malformed-envelope";
    case EnvelopeError::UnsupportedVersion: return "unsupported-version";
    case EnvelopeError::UnknownType: return "unknown-type";
    case EnvelopeError::BodyTooLarge: return "body-too-large";
    case EnvelopeError::BadSignature: return "bad-signature";
    case EnvelopeError::SenderMismatch: return "sender-mismatch";
    case EnvelopeError::BadEphemeralKey: return "bad-ephemeral-key";
    case EnvelopeError::WrongRecipient: return "wrong-recipient";
    case EnvelopeError::DecryptFailed: return "decrypt-failed";
    case EnvelopeError::Replay: return "replay";
    case EnvelopeError::StaleSequence: return "stale-sequence";
    case EnvelopeError::RandomFailed: return "random-failed";
    case EnvelopeError::CryptoFailed: return "crypto-failed";
  }
  return "unknown";
}

const char* describe(EnvelopeError e) {
  switch (e) {
    case EnvelopeError::Malformed: return "the envelope is not well formed";
    case EnvelopeError::UnsupportedVersion: return "unsupported envelope version";
    case EnvelopeError::UnknownType: return "unknown envelope type";
    case EnvelopeError::BodyTooLarge: return "the envelope body is too large";
    case EnvelopeError::BadSignature: return "the envelope signature is invalid";
    case EnvelopeError::SenderMismatch: return "the envelope was not signed by its sender";
    case EnvelopeError::BadEphemeralKey: return "the ephemeral public key is invalid";
    case EnvelopeError::WrongRecipient: return "the envelope is addressed to another node";
    case EnvelopeError::DecryptFailed: return "the envelope body failed authentication";
    case EnvelopeError::Replay: return "this envelope was already accepted";
    case EnvelopeError::StaleSequence: return "the sequence number is older than one already accepted";
    case EnvelopeError::RandomFailed: return "the random number generator failed";
    case EnvelopeError::CryptoFailed: return "a cryptographic operation failed";
  }
  return "unknown error";
}

}  // namespace rdv::signalling
