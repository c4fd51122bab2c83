// Errors from key handling and signatures. Untrusted input never throws; it yields one of these.
#pragma once

namespace rdv::identity {

enum class IdentityError {
  InvalidPrivateKey,   // not 32 bytes, zero, or not below the curve order
  InvalidPublicKey,    // not a valid 33-byte compressed or 65-byte uncompressed point
  InvalidSignature,    // wrong size, not parseable, or high-S
  VerificationFailed,  // well formed, but not made by this key over this digest
  RecoveryFailed,      // no public key recovers from this signature and digest
  RandomFailed,        // the OpenSSL RNG failed
  CryptoFailed,        // a libsecp256k1 call failed where it should not (e.g. ECDH)
  FileError,           // the key file could not be read or written
  FileFormat,          // the key file does not hold 64 hex digits
};

const char* describe(IdentityError e);

}  // namespace rdv::identity
