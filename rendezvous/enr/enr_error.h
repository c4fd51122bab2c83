// Why a node record was refused. The HTTP layer maps TooLarge to 413 and the rest to 422 (or 400
// for the text-form errors, which mean the request itself is malformed).
#pragma once

namespace rdv::enr {

enum class EnrError {
  MissingPrefix,      // text form does not start with "enr:"
  BadBase64,          // not unpadded URL-safe base64
  TooLarge,           // encoded record over 300 bytes
  MalformedRlp,       // not canonical RLP (see RlpError for the detail)
  NotAList,           // top-level item is a byte string
  BadShape,           // fewer than [signature, seq], an odd key/value count, or a list where a key must be
  BadSeq,             // seq is not a canonical 64-bit integer
  KeysNotSorted,      // keys must be in strictly increasing byte order
  DuplicateKey,       // a key appears twice
  MissingId,          // no "id" key
  UnsupportedScheme,  // "id" is not "v4"
  MissingPublicKey,   // no "secp256k1" key
  BadPublicKey,       // "secp256k1" is not a valid 33-byte compressed key
  BadSignature,       // signature is not 64 bytes or does not verify
  InvalidValue,       // a builder value is not a single canonical RLP item
  SigningFailed,      // the private key could not sign
};

const char* describe(EnrError e);

}  // namespace rdv::enr
