#include "rendezvous/identity/identity_error.h"

namespace rdv::identity {

const char* describe(IdentityError e) {
  switch (e) {
    case IdentityError::InvalidPrivateKey: return "invalid secp256k1 private key";
    case IdentityError::InvalidPublicKey: return "invalid secp256k1 public key";
    case IdentityError::InvalidSignature: return "malformed signature (expected 64-byte r||s with low S)";
    case IdentityError::VerificationFailed: return "signature does not verify";
    case IdentityError::RecoveryFailed: return "no public key recovers from this signature";
    case IdentityError::RandomFailed: return "random number generator failed";
    case IdentityError::CryptoFailed: return "secp256k1 operation failed";
    case IdentityError::FileError: return "cannot read or write the key file";
    case IdentityError::FileFormat: return "key file must hold 64 hex digits";
  }
  return "unknown identity error";
}

}  // namespace rdv::identity
