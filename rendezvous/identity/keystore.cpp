#include "rendezvous/identity/keystore.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "rendezvous/identity/eth_address.h"
#include "rendezvous/identity/keccak.h"

namespace rdv::identity {

namespace {

using nlohmann::json;
constexpr size_t kDerivedKeySize = 32;
using DerivedKey = std::array<uint8_t, kDerivedKeySize>;

// Wipes what it holds when it goes out of scope.
template <class T>
struct Wiped {
  T value{};
  ~Wiped() { OPENSSL_cleanse(value.data(), value.size()); }
};

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

bool hexMember(const json& j, const char* key, Bytes& out, size_t minSize, size_t maxSize) {
  const json* v = member(j, key);
  if (!v || !v->is_string()) return false;
  std::string_view s = v->get_ref<const std::string&>();
  if (s.starts_with("0x")) s.remove_prefix(2);
  if (!fromHex(s, out)) return false;
  return out.size() >= minSize && out.size() <= maxSize;
}

bool uintMember(const json& j, const char* key, uint64_t& out) {
  const json* v = member(j, key);
  if (!v || !v->is_number_unsigned()) return false;
  out = v->get<uint64_t>();
  return true;
}

struct KdfDeleter {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
};

Result<bool, KeystoreError> derive(const char* name, OSSL_PARAM* params, DerivedKey& out) {
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, name, nullptr));
  if (!kdf) return unexpected(KeystoreError::KdfFailed);
  std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) return unexpected(KeystoreError::KdfFailed);
  return true;
}

Result<bool, KeystoreError> deriveScrypt(const json& p, std::string_view password, const Bytes& salt, DerivedKey& out) {
  uint64_t n = 0, r = 0, parallel = 0;
  if (!uintMember(p, "n", n) || !uintMember(p, "r", r) || !uintMember(p, "p", parallel)) {
    return unexpected(KeystoreError::Malformed);
  }
  // n a power of two above 1 (scrypt's definition); the memory 128 * r * n bounded; p bounded so the
  // work (p times the memory pass) is too.
  if (n < 2 || (n & (n - 1)) != 0 || r < 1 || r > 64 || parallel < 1 || parallel > 16 ||
      n > kMaxScryptBytes / (128 * r)) {
    return unexpected(KeystoreError::KdfParamsRefused);
  }
  // RFC 7914 §2: n < 2^(128 r / 8). OpenSSL enforces it (Go's scrypt does not, so a few old files,
  // the definition's first scrypt vector among them, use r = 1 with n = 2^18 and cannot be read here).
  if (r < 4 && n >= (uint64_t{1} << (16 * r))) return unexpected(KeystoreError::KdfParamsRefused);
  uint32_t r32 = static_cast<uint32_t>(r), p32 = static_cast<uint32_t>(parallel);
  uint64_t maxmem = kMaxScryptBytes + (kMaxScryptBytes >> 2);  // OpenSSL also counts p * 128 * r and slack
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()), password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end(),
  };
  return derive("SCRYPT", params, out);
}

Result<bool, KeystoreError> derivePbkdf2(const json& p, std::string_view password, const Bytes& salt, DerivedKey& out) {
  const json* prf = member(p, "prf");
  if (!prf || !prf->is_string() || prf->get_ref<const std::string&>() != "hmac-sha256") {
    return unexpected(KeystoreError::UnsupportedKdf);
  }
  uint64_t c = 0;
  if (!uintMember(p, "c", c)) return unexpected(KeystoreError::Malformed);
  if (c < 1 || c > kMaxPbkdf2Iterations) return unexpected(KeystoreError::KdfParamsRefused);
  int noSp800Checks = 1;  // keystores in the wild have short salts; the bounds above are ours
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()), password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &c),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &noSp800Checks),
      OSSL_PARAM_construct_end(),
  };
  return derive("PBKDF2", params, out);
}

bool aes128Ctr(const uint8_t* key, const Bytes& iv, const Bytes& in, uint8_t* out) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int len = 0, tail = 0;
  return ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_ctr(), nullptr, key, iv.data()) == 1 &&
         EVP_DecryptUpdate(ctx.get(), out, &len, in.data(), static_cast<int>(in.size())) == 1 &&
         EVP_DecryptFinal_ex(ctx.get(), out + len, &tail) == 1 && static_cast<size_t>(len + tail) == in.size();
}

}  // namespace

const char* describe(KeystoreError e) {
  switch (e) {
    case KeystoreError::NotJson: return "not a JSON keystore";
    case KeystoreError::Malformed: return "malformed keystore (a field is missing or has the wrong shape)";
    case KeystoreError::UnsupportedVersion: return "unsupported keystore version (only version 3 is read)";
    case KeystoreError::UnsupportedCipher: return "unsupported cipher (only aes-128-ctr)";
    case KeystoreError::UnsupportedKdf: return "unsupported kdf (scrypt, or pbkdf2 with hmac-sha256)";
    case KeystoreError::KdfParamsRefused:
      return "kdf parameters refused (dklen must be 32; scrypt n a power of two below 2^(16 r) (RFC 7914), at most "
             "512 MiB; pbkdf2 at most 10000000 iterations)";
    case KeystoreError::KdfFailed: return "key derivation failed";
    case KeystoreError::WrongPassword: return "wrong password (the MAC does not match)";
    case KeystoreError::InvalidKey: return "the decrypted key is not a valid secp256k1 key";
    case KeystoreError::AddressMismatch: return "the keystore's address is not its key's address";
  }
  return "keystore error";
}

Result<PrivateKey, KeystoreError> openKeystore(std::string_view text, std::string_view password) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return unexpected(KeystoreError::NotJson);
  uint64_t version = 0;
  if (!uintMember(doc, "version", version)) return unexpected(KeystoreError::Malformed);
  if (version != 3) return unexpected(KeystoreError::UnsupportedVersion);
  // geth wrote "Crypto" in its early v3 files.
  const json* crypto = member(doc, "crypto");
  if (!crypto) crypto = member(doc, "Crypto");
  if (!crypto || !crypto->is_object()) return unexpected(KeystoreError::Malformed);

  const json* cipher = member(*crypto, "cipher");
  if (!cipher || !cipher->is_string()) return unexpected(KeystoreError::Malformed);
  if (cipher->get_ref<const std::string&>() != "aes-128-ctr") return unexpected(KeystoreError::UnsupportedCipher);
  Bytes iv, ciphertext, mac, salt;
  const json* cipherParams = member(*crypto, "cipherparams");
  if (!cipherParams || !hexMember(*cipherParams, "iv", iv, 16, 16) ||
      !hexMember(*crypto, "ciphertext", ciphertext, 32, 32) || !hexMember(*crypto, "mac", mac, 32, 32)) {
    return unexpected(KeystoreError::Malformed);
  }
  const json* kdf = member(*crypto, "kdf");
  const json* kdfParams = member(*crypto, "kdfparams");
  if (!kdf || !kdf->is_string() || !kdfParams || !kdfParams->is_object() ||
      !hexMember(*kdfParams, "salt", salt, 1, 1024)) {
    return unexpected(KeystoreError::Malformed);
  }
  uint64_t dklen = 0;
  if (!uintMember(*kdfParams, "dklen", dklen)) return unexpected(KeystoreError::Malformed);
  if (dklen != kDerivedKeySize) return unexpected(KeystoreError::KdfParamsRefused);

  Wiped<DerivedKey> dk;
  const std::string& kdfName = kdf->get_ref<const std::string&>();
  Result<bool, KeystoreError> derived = unexpected(KeystoreError::UnsupportedKdf);
  if (kdfName == "scrypt") derived = deriveScrypt(*kdfParams, password, salt, dk.value);
  else if (kdfName == "pbkdf2") derived = derivePbkdf2(*kdfParams, password, salt, dk.value);
  if (!derived) return unexpected(derived.error());

  Keccak256 h;
  h.update(ByteSpan(dk.value).subspan(16, 16));
  h.update(ciphertext);
  const Hash256 expected = h.finish();
  if (CRYPTO_memcmp(expected.data(), mac.data(), expected.size()) != 0) return unexpected(KeystoreError::WrongPassword);

  Wiped<std::array<uint8_t, 32>> secret;
  if (!aes128Ctr(dk.value.data(), iv, ciphertext, secret.value.data())) return unexpected(KeystoreError::KdfFailed);
  auto key = PrivateKey::fromBytes(secret.value);
  if (!key) return unexpected(KeystoreError::InvalidKey);
  if (const json* address = member(doc, "address")) {
    // Optional (v3 dropped it as a privacy leak; geth still writes it): when present, it must agree.
    if (!address->is_string()) return unexpected(KeystoreError::Malformed);
    std::string a = address->get<std::string>();
    if (!a.starts_with("0x")) a = "0x" + a;
    auto parsed = EthAddress::parse(a);
    if (!parsed) return unexpected(KeystoreError::Malformed);
    if (*parsed != EthAddress::ofKey(key->publicKey())) return unexpected(KeystoreError::AddressMismatch);
  }
  return std::move(key).value();
}

}  // namespace rdv::identity
