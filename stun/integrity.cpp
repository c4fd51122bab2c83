// MESSAGE-INTEGRITY(-SHA256), FINGERPRINT and credential keys (RFC 8489 §9.2.2, §14.4-14.7).
#include "stun/integrity.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <string>

namespace rdv::stun {

namespace {

Bytes digest(const EVP_MD* md, ByteSpan data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr) != 1) return {};
  out.resize(n);
  return out;
}

Bytes hmac(const EVP_MD* md, ByteSpan key, ByteSpan data) {
  // OpenSSL treats a null key pointer specially; an empty key must still be a valid pointer.
  static const uint8_t kEmpty = 0;
  const uint8_t* k = key.empty() ? &kEmpty : key.data();
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (md == nullptr || HMAC(md, k, static_cast<int>(key.size()), data.data(), data.size(), out.data(), &n) == nullptr) {
    return {};
  }
  out.resize(n);
  return out;
}

std::string joined(std::string_view a, std::string_view b) {
  std::string s;
  s.reserve(a.size() + 1 + b.size());
  s.append(a).push_back(':');
  s.append(b);
  return s;
}

// The bytes the MAC of `a` covers: the message up to `a`, with the header length rewritten to end
// after `a` (RFC 8489 §14.5).
Bytes macInput(const MessageView& m, const Attribute& a) {
  Bytes in(m.raw().begin(), m.raw().begin() + a.offset);
  storeBe16(in.data() + 2, static_cast<uint16_t>(a.offset + 4 + a.value.size() - kHeaderSize));
  return in;
}

constexpr std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = makeCrcTable();

}  // namespace

Bytes longTermKey(std::string_view username, std::string_view realm, std::string_view password,
                  PasswordAlgorithm alg) {
  const std::string input = joined(joined(username, realm), password);
  return alg == PasswordAlgorithm::Sha256 ? sha256(asBytes(input)) : md5(asBytes(input));
}

Bytes shortTermKey(std::string_view password) { return Bytes(password.begin(), password.end()); }

Bytes userhash(std::string_view username, std::string_view realm) {
  return sha256(asBytes(joined(username, realm)));
}

IntegrityCheck verifyMessageIntegrity(const MessageView& m, ByteSpan key) {
  const Attribute* a = m.find(attr::MessageIntegrity);
  if (a == nullptr) return IntegrityCheck::Missing;
  if (a->value.size() != 20) return IntegrityCheck::Mismatch;
  const Bytes mac = hmacSha1(key, macInput(m, *a));
  return constantTimeEqual(mac, a->value) ? IntegrityCheck::Ok : IntegrityCheck::Mismatch;
}

IntegrityCheck verifyMessageIntegritySha256(const MessageView& m, ByteSpan key) {
  const Attribute* a = m.find(attr::MessageIntegritySha256);
  if (a == nullptr) return IntegrityCheck::Missing;
  // RFC 8489 §14.6: at least 16 bytes, a multiple of 4, at most the full 32.
  const size_t n = a->value.size();
  if (n < 16 || n > 32 || n % 4 != 0) return IntegrityCheck::Mismatch;
  const Bytes mac = hmacSha256(key, macInput(m, *a));
  if (mac.size() != 32) return IntegrityCheck::Mismatch;
  return constantTimeEqual(ByteSpan(mac).first(n), a->value) ? IntegrityCheck::Ok : IntegrityCheck::Mismatch;
}

uint32_t fingerprintOf(ByteSpan data) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return (c ^ 0xFFFFFFFFu) ^ kFingerprintXor;
}

Bytes hmacSha1(ByteSpan key, ByteSpan data) { return hmac(EVP_sha1(), key, data); }
Bytes hmacSha256(ByteSpan key, ByteSpan data) { return hmac(EVP_sha256(), key, data); }
Bytes sha256(ByteSpan data) { return digest(EVP_sha256(), data); }
Bytes md5(ByteSpan data) { return digest(EVP_md5(), data); }

}  // namespace rdv::stun
