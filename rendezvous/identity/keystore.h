// Ethereum keystore v3 files (the Web3 Secret Storage Definition), read so that an Ethereum account
// becomes an rdv identity (`rdv key import --keystore FILE`):
//   derivedKey = scrypt(password, salt, n, r, p, dklen 32) or PBKDF2-HMAC-SHA256(password, salt, c, 32)
//   mac        = keccak256(derivedKey[16..32] || ciphertext), compared in constant time
//   secret     = AES-128-CTR(key = derivedKey[0..16], iv).decrypt(ciphertext)
// The KDFs are OpenSSL's (EVP_KDF). The file is untrusted input: its KDF parameters are bounded
// (scrypt at most kMaxScryptBytes of memory, PBKDF2 at most kMaxPbkdf2Iterations), so a crafted file
// cannot make the import take the machine's memory or run for hours. Only reading: rdv keeps its own
// key file format (private_key.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "rendezvous/identity/private_key.h"
#include "rendezvous/base/result.h"

namespace rdv::identity {

inline constexpr uint64_t kMaxScryptBytes = 512ull << 20;      // 128 * r * n; geth's standard is 256 MiB
inline constexpr uint64_t kMaxPbkdf2Iterations = 10'000'000;   // geth and web3 write 262144

enum class KeystoreError {
  NotJson,            // the file is not a JSON object
  Malformed,          // a field is missing or has the wrong shape (hex, sizes)
  UnsupportedVersion, // "version" is not 3
  UnsupportedCipher,  // not aes-128-ctr
  UnsupportedKdf,     // not scrypt or pbkdf2 with hmac-sha256
  KdfParamsRefused,   // dklen not 32, n not a power of two, or work/memory over the bounds above
  KdfFailed,          // OpenSSL refused the derivation
  WrongPassword,      // the MAC does not match: wrong password or a damaged file
  InvalidKey,         // the decrypted secret is not a valid secp256k1 key
  AddressMismatch,    // the file's "address" is not the decrypted key's
};

const char* describe(KeystoreError e);

Result<PrivateKey, KeystoreError> openKeystore(std::string_view json, std::string_view password);

}  // namespace rdv::identity
