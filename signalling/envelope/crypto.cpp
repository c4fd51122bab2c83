#include "signalling/envelope/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <limits>
#include <memory>

namespace rdv::signalling {

namespace {

struct KdfDeleter {
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// OpenSSL takes non-const pointers for input parameters; it does not write through them.
void* mutableData(ByteSpan b) { return const_cast<uint8_t*>(b.data()); }

bool fitsInt(size_t n) { return n <= static_cast<size_t>(std::numeric_limits<int>::max()); }

}  // namespace

bool CryptoRng::fill(std::span<uint8_t> out) {
  if (out.empty()) return true;
  if (!fitsInt(out.size())) return false;
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

std::optional<AesKey> hkdfSha256(ByteSpan ikm, ByteSpan salt, ByteSpan info) {
  std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return std::nullopt;
  std::unique_ptr<EVP_KDF_CTX, KdfDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return std::nullopt;
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, mutableData(ikm), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, mutableData(salt), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, mutableData(info), info.size()),
      OSSL_PARAM_construct_end(),
  };
  AesKey out;
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) return std::nullopt;
  return out;
}

std::optional<Bytes> aes256GcmSeal(const AesKey& key, const GcmNonce& nonce, ByteSpan aad, ByteSpan plaintext) {
  if (!fitsInt(aad.size()) || !fitsInt(plaintext.size())) return std::nullopt;
  std::unique_ptr<EVP_CIPHER_CTX, KdfDeleter> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  // 12 bytes is GCM's default IV length, so no EVP_CTRL_GCM_SET_IVLEN is needed.
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1) {
    return std::nullopt;
  }
  int len = 0;
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return std::nullopt;
  }
  Bytes out(plaintext.size() + kGcmTagSize);
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(), static_cast<int>(plaintext.size())) != 1) {
      return std::nullopt;
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), out.data() + written, &len) != 1) return std::nullopt;
  written += len;
  if (static_cast<size_t>(written) != plaintext.size()) return std::nullopt;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, out.data() + written) != 1) {
    return std::nullopt;
  }
  return out;
}

std::optional<Bytes> aes256GcmOpen(const AesKey& key, const GcmNonce& nonce, ByteSpan aad, ByteSpan sealed) {
  if (sealed.size() < kGcmTagSize || !fitsInt(aad.size()) || !fitsInt(sealed.size())) return std::nullopt;
  const size_t ctLen = sealed.size() - kGcmTagSize;
  std::unique_ptr<EVP_CIPHER_CTX, KdfDeleter> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce.data()) != 1) {
    return std::nullopt;
  }
  int len = 0;
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(), static_cast<int>(aad.size())) != 1) {
    return std::nullopt;
  }
  Bytes out(ctLen);
  int written = 0;
  if (ctLen > 0) {
    if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(), static_cast<int>(ctLen)) != 1) {
      return std::nullopt;
    }
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, mutableData(sealed.subspan(ctLen))) != 1) {
    return std::nullopt;
  }
  // Final checks the tag; a failure means tampering or the wrong key, and the output is discarded.
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + written, &len) != 1) return std::nullopt;
  return out;
}

}  // namespace rdv::signalling
