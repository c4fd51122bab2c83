// MESSAGE-INTEGRITY(-SHA256), FINGERPRINT and credential keys (RFC 8489 §9.2.2, §14.4-14.7).
#include "stun/integrity.h"

#include "rendezvous/base/constant_time.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstring>
#include <initializer_list>
#include <string>

namespace rdv::stun {

namespace {

// OpenSSL 3 looks a digest or MAC up by name (EVP_MD_fetch/EVP_MAC_fetch: its global lock and string
// compares) on every one-shot HMAC()/EVP_Digest() call with EVP_sha1() and the like, and allocates a
// context each time. Here the algorithms are fetched once per process (immutable once fetched, shared
// by all threads) and every thread keeps its own contexts, re-initialised per use.
struct Algorithms {
  EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MAC* hmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
};

const Algorithms& algorithms() {
  // Never freed: worker threads may still hash while the process exits (a thread-safe static).
  static const Algorithms* a = new Algorithms();
  return *a;
}

enum class Hash { Sha1, Sha256 };

// An HMAC context with its digest set (the digest is fetched here, once per context).
EVP_MAC_CTX* newHmac(Hash h) {
  EVP_MAC* mac = algorithms().hmac;
  EVP_MAC_CTX* ctx = mac ? EVP_MAC_CTX_new(mac) : nullptr;
  char name[8];
  std::strcpy(name, h == Hash::Sha1 ? "SHA1" : "SHA256");
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name, 0),
                               OSSL_PARAM_construct_end()};
  if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

struct ThreadContexts {
  EVP_MAC_CTX* hmacSha1 = newHmac(Hash::Sha1);
  EVP_MAC_CTX* hmacSha256 = newHmac(Hash::Sha256);
  EVP_MD_CTX* digest = EVP_MD_CTX_new();
  ThreadContexts() = default;
  ThreadContexts(const ThreadContexts&) = delete;
  ThreadContexts& operator=(const ThreadContexts&) = delete;
  ~ThreadContexts() {
    EVP_MAC_CTX_free(hmacSha1);
    EVP_MAC_CTX_free(hmacSha256);
    EVP_MD_CTX_free(digest);
  }
};

ThreadContexts& contexts() {
  thread_local ThreadContexts c;
  return c;
}

constexpr size_t kMaxMac = 32;

// HMAC of the concatenated `parts` into `out`; returns its length (20 or 32), 0 on failure.
size_t hmacInto(Hash h, ByteSpan key, std::initializer_list<ByteSpan> parts, uint8_t (&out)[kMaxMac]) {
  EVP_MAC_CTX* shared = h == Hash::Sha1 ? contexts().hmacSha1 : contexts().hmacSha256;
  // EVP_MAC_init with a null key would reuse the previous call's key, and OpenSSL 3.0 keeps a zero-length
  // key's buffer on a reused context: an empty key gets a context of its own (rare: no hot path uses one).
  static const uint8_t kEmpty = 0;
  EVP_MAC_CTX* own = key.empty() ? newHmac(h) : nullptr;
  EVP_MAC_CTX* ctx = key.empty() ? own : shared;
  size_t n = 0;
  bool ok = ctx != nullptr && EVP_MAC_init(ctx, key.empty() ? &kEmpty : key.data(), key.size(), nullptr) == 1;
  for (ByteSpan p : parts) ok = ok && EVP_MAC_update(ctx, p.data(), p.size()) == 1;
  ok = ok && EVP_MAC_final(ctx, out, &n, kMaxMac) == 1;
  EVP_MAC_CTX_free(own);
  return ok ? n : 0;
}

Bytes hmac(Hash h, ByteSpan key, ByteSpan data) {
  uint8_t out[kMaxMac];
  const size_t n = hmacInto(h, key, {data}, out);
  return Bytes(out, out + n);
}

// The digest of the concatenated `parts` (no joined copy of them is made).
Bytes digest(const EVP_MD* md, std::initializer_list<ByteSpan> parts) {
  EVP_MD_CTX* ctx = contexts().digest;
  uint8_t out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  bool ok = md != nullptr && ctx != nullptr && EVP_DigestInit_ex2(ctx, md, nullptr) == 1;
  for (ByteSpan p : parts) ok = ok && EVP_DigestUpdate(ctx, p.data(), p.size()) == 1;
  if (!ok || EVP_DigestFinal_ex(ctx, out, &n) != 1) return {};
  return Bytes(out, out + n);
}

const ByteSpan kColon = asBytes(std::string_view(":"));

// The MAC of what attribute `a` covers (RFC 8489 §14.5): the message up to `a`, with the header length
// rewritten to end after `a`; the header is patched on the stack, the rest is not copied.
size_t macOf(Hash h, const MessageView& m, const Attribute& a, ByteSpan key, uint8_t (&out)[kMaxMac]) {
  uint8_t header[kHeaderSize];
  std::memcpy(header, m.raw().data(), kHeaderSize);
  storeBe16(header + 2, static_cast<uint16_t>(a.offset + 4 + a.value.size() - kHeaderSize));
  return hmacInto(h, key, {ByteSpan(header, kHeaderSize), m.raw().subspan(kHeaderSize, a.offset - kHeaderSize)}, out);
}

// CRC-32 tables for slicing by 8 (8 bytes per step; FINGERPRINT is computed over every message sent
// and checked on every one received): kCrc[0] is the byte-wise table, kCrc[k][i] the CRC of byte i
// followed by k zero bytes.
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;
constexpr CrcTables makeCrcTables() {
  CrcTables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (size_t k = 1; k < 8; ++k)
    for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xFF];
  return t;
}
constexpr CrcTables kCrc = makeCrcTables();

uint32_t loadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

}  // namespace

Bytes longTermKey(std::string_view username, std::string_view realm, std::string_view password,
                  PasswordAlgorithm alg) {
  const Algorithms& a = algorithms();
  return digest(alg == PasswordAlgorithm::Sha256 ? a.sha256 : a.md5,
                {asBytes(username), kColon, asBytes(realm), kColon, asBytes(password)});
}

Bytes shortTermKey(std::string_view password) { return Bytes(password.begin(), password.end()); }

Bytes userhash(std::string_view username, std::string_view realm) {
  return digest(algorithms().sha256, {asBytes(username), kColon, asBytes(realm)});
}

IntegrityCheck verifyMessageIntegrity(const MessageView& m, ByteSpan key) {
  const Attribute* a = m.find(attr::MessageIntegrity);
  if (a == nullptr) return IntegrityCheck::Missing;
  if (a->value.size() != 20) return IntegrityCheck::Mismatch;
  uint8_t mac[kMaxMac];
  const size_t n = macOf(Hash::Sha1, m, *a, key, mac);
  return constantTimeEqual(ByteSpan(mac, n), a->value) ? IntegrityCheck::Ok : IntegrityCheck::Mismatch;
}

IntegrityCheck verifyMessageIntegritySha256(const MessageView& m, ByteSpan key) {
  const Attribute* a = m.find(attr::MessageIntegritySha256);
  if (a == nullptr) return IntegrityCheck::Missing;
  // RFC 8489 §14.6: at least 16 bytes, a multiple of 4, at most the full 32.
  const size_t n = a->value.size();
  if (n < 16 || n > 32 || n % 4 != 0) return IntegrityCheck::Mismatch;
  uint8_t mac[kMaxMac];
  if (macOf(Hash::Sha256, m, *a, key, mac) != 32) return IntegrityCheck::Mismatch;
  return constantTimeEqual(ByteSpan(mac, n), a->value) ? IntegrityCheck::Ok : IntegrityCheck::Mismatch;
}

uint32_t fingerprintOf(ByteSpan data) {
  uint32_t c = 0xFFFFFFFFu;
  const uint8_t* p = data.data();
  size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    const uint32_t a = loadLe32(p) ^ c;
    const uint32_t b = loadLe32(p + 4);
    c = kCrc[7][a & 0xFF] ^ kCrc[6][(a >> 8) & 0xFF] ^ kCrc[5][(a >> 16) & 0xFF] ^ kCrc[4][a >> 24] ^
        kCrc[3][b & 0xFF] ^ kCrc[2][(b >> 8) & 0xFF] ^ kCrc[1][(b >> 16) & 0xFF] ^ kCrc[0][b >> 24];
  }
  for (; n > 0; ++p, --n) c = kCrc[0][(c ^ *p) & 0xFF] ^ (c >> 8);
  return (c ^ 0xFFFFFFFFu) ^ kFingerprintXor;
}

Bytes hmacSha1(ByteSpan key, ByteSpan data) { return hmac(Hash::Sha1, key, data); }
Bytes hmacSha256(ByteSpan key, ByteSpan data) { return hmac(Hash::Sha256, key, data); }
Bytes sha256(ByteSpan data) { return digest(algorithms().sha256, {data}); }
Bytes md5(ByteSpan data) { return digest(algorithms().md5, {data}); }

}  // namespace rdv::stun
