#include "rendezvous/identity/private_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_recovery.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "rendezvous/identity/secp256k1_context.h"

namespace rdv::identity {

Result<PrivateKey, IdentityError> PrivateKey::fromBytes(ByteSpan secret32) {
  if (secret32.size() != 32 || secp256k1_ec_seckey_verify(secpContext(), secret32.data()) != 1) {
    return unexpected(IdentityError::InvalidPrivateKey);
  }
  secp256k1_pubkey pub;
  if (secp256k1_ec_pubkey_create(secpContext(), &pub, secret32.data()) != 1) {
    return unexpected(IdentityError::InvalidPrivateKey);
  }
  std::array<uint8_t, 32> secret;
  std::memcpy(secret.data(), secret32.data(), 32);
  PrivateKey key(secret, PublicKey(pub));
  OPENSSL_cleanse(secret.data(), secret.size());
  return key;
}

Result<PrivateKey, IdentityError> PrivateKey::generate() {
  std::array<uint8_t, 32> secret;
  // A uniformly random 32-byte string is a valid key with probability 1 - 2^-128; retry anyway.
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (RAND_bytes(secret.data(), static_cast<int>(secret.size())) != 1) {
      return unexpected(IdentityError::RandomFailed);
    }
    auto key = fromBytes(secret);
    if (key.ok()) {
      OPENSSL_cleanse(secret.data(), secret.size());
      return key;
    }
  }
  OPENSSL_cleanse(secret.data(), secret.size());
  return unexpected(IdentityError::RandomFailed);
}

Result<PrivateKey, IdentityError> PrivateKey::fromHex(std::string_view hex) {
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.front()))) hex.remove_prefix(1);
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.remove_suffix(1);
  if (hex.starts_with("0x")) hex.remove_prefix(2);
  Bytes raw;
  if (hex.size() != 64 || !rdv::fromHex(hex, raw)) return unexpected(IdentityError::FileFormat);
  auto key = fromBytes(raw);
  OPENSSL_cleanse(raw.data(), raw.size());
  return key;
}

Result<PrivateKey, IdentityError> PrivateKey::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return unexpected(IdentityError::FileError);
  std::string text;
  std::getline(in, text, '\0');
  if (in.bad() || text.size() > 256) return unexpected(IdentityError::FileFormat);
  auto key = fromHex(text);
  OPENSSL_cleanse(text.data(), text.size());
  return key;
}

Result<bool, IdentityError> PrivateKey::save(const std::string& path) const {
  // O_EXCL: never replace an existing key by accident; 0600 from creation, not chmod afterwards.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected(IdentityError::FileError);
  std::string text = hex() + "\n";
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  OPENSSL_cleanse(text.data(), text.size());
  const bool synced = ::fsync(fd) == 0;
  const bool closed = ::close(fd) == 0;
  if (written != 65 || !synced || !closed) return unexpected(IdentityError::FileError);
  return true;
}

PrivateKey::PrivateKey(const PrivateKey& other) : secret_(other.secret_), publicKey_(other.publicKey_) {}

PrivateKey& PrivateKey::operator=(const PrivateKey& other) {
  secret_ = other.secret_;
  publicKey_ = other.publicKey_;
  return *this;
}

PrivateKey::~PrivateKey() { OPENSSL_cleanse(secret_.data(), secret_.size()); }

std::string PrivateKey::hex() const { return toHex(secret_); }

Result<Signature, IdentityError> PrivateKey::sign(const Hash256& digest) const {
  secp256k1_ecdsa_signature sig;
  // Default nonce function: RFC 6979, so signatures are deterministic. Output is low-S.
  if (secp256k1_ecdsa_sign(secpContext(), &sig, digest.data(), secret_.data(), nullptr, nullptr) != 1) {
    return unexpected(IdentityError::CryptoFailed);
  }
  Signature out;
  if (secp256k1_ecdsa_signature_serialize_compact(secpContext(), out.data(), &sig) != 1) {
    return unexpected(IdentityError::CryptoFailed);
  }
  return out;
}

Result<RecoverableSignature, IdentityError> PrivateKey::signRecoverable(const Hash256& digest) const {
  secp256k1_ecdsa_recoverable_signature sig;
  if (secp256k1_ecdsa_sign_recoverable(secpContext(), &sig, digest.data(), secret_.data(), nullptr,
                                       nullptr) != 1) {
    return unexpected(IdentityError::CryptoFailed);
  }
  RecoverableSignature out;
  int recid = 0;
  if (secp256k1_ecdsa_recoverable_signature_serialize_compact(secpContext(), out.data(), &recid, &sig) != 1 ||
      recid < 0 || recid > 3) {
    return unexpected(IdentityError::CryptoFailed);
  }
  out[64] = static_cast<uint8_t>(recid);
  return out;
}

namespace {
// ECDH "hash" that keeps the raw x coordinate, leaving key derivation to the caller's KDF.
int copyX(unsigned char* output, const unsigned char* x32, const unsigned char* /*y32*/, void* /*data*/) {
  std::memcpy(output, x32, 32);
  return 1;
}
}  // namespace

Result<std::array<uint8_t, 32>, IdentityError> PrivateKey::ecdh(const PublicKey& peer) const {
  std::array<uint8_t, 32> out;
  if (secp256k1_ecdh(secpContext(), out.data(), &peer.raw(), secret_.data(), copyX, nullptr) != 1) {
    return unexpected(IdentityError::CryptoFailed);
  }
  return out;
}

}  // namespace rdv::identity
