// MESSAGE-INTEGRITY(-SHA256), FINGERPRINT and credential keys (RFC 8489 §9.2.2, §14.4-14.7).
// First, before any header that may include OpenSSL's: see the block functions below.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "stun/integrity.h"

#include "rendezvous/base/constant_time.h"

// The MD5/SHA-1/SHA-256 block functions (deprecated for applications in OpenSSL 3, kept in 3.x): the HMAC
// and digests below hold their states by value, which EVP's opaque heap contexts cannot do without
// allocating (and without OpenSSL 3's provider dispatch per call).
#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <initializer_list>
#include <string>

namespace rdv::stun {

namespace {

enum class Hash { Sha1, Sha256 };

// HMAC (RFC 2104) over OpenSSL's SHA-1/SHA-256 block functions, with the keyed state kept: a MAC costs
// its message's blocks plus one, copies two small structs and allocates nothing. (EVP_MAC re-keys per
// call, two compressions, and OpenSSL 3.0 duplicates the digest contexts through the heap in
// HMAC_Init/HMAC_Final: ~5 mallocs per MAC, four MACs and two nonce MACs per Allocate cycle.) Each
// thread keeps the keyed states of its last few keys: a node's nonce key and REST secret, and a
// client's long-term key from its Allocate to its Refresh. Keys are compared in constant time.
struct Sha1 {
  using Ctx = SHA_CTX;
  static constexpr size_t kOut = 20;
  static void init(Ctx& c) { SHA1_Init(&c); }
  static void update(Ctx& c, const void* p, size_t n) { SHA1_Update(&c, p, n); }
  static void final(uint8_t* out, Ctx& c) { SHA1_Final(out, &c); }
};
struct Md5 {
  using Ctx = MD5_CTX;
  static constexpr size_t kOut = 16;
  static void init(Ctx& c) { MD5_Init(&c); }
  static void update(Ctx& c, const void* p, size_t n) { MD5_Update(&c, p, n); }
  static void final(uint8_t* out, Ctx& c) { MD5_Final(out, &c); }
};
struct Sha256 {
  using Ctx = SHA256_CTX;
  static constexpr size_t kOut = 32;
  static void init(Ctx& c) { SHA256_Init(&c); }
  static void update(Ctx& c, const void* p, size_t n) { SHA256_Update(&c, p, n); }
  static void final(uint8_t* out, Ctx& c) { SHA256_Final(out, &c); }
};

constexpr size_t kBlock = 64;  // SHA-1 and SHA-256
constexpr size_t kCachedKeys = 4;

template <class H>
struct KeyedState {
  uint8_t key[kBlock];
  size_t keySize = SIZE_MAX;  // SIZE_MAX: empty slot, or a key longer than a block (never matched)
  typename H::Ctx inner;
  typename H::Ctx outer;
};

template <class H>
struct KeyedStates {
  std::array<KeyedState<H>, kCachedKeys> slots;
  KeyedState<H> longKey;  // a key longer than a block: hashed first, not kept
  size_t next = 0;
  KeyedStates() = default;
  KeyedStates(const KeyedStates&) = delete;
  KeyedStates& operator=(const KeyedStates&) = delete;
  ~KeyedStates() {
    OPENSSL_cleanse(slots.data(), sizeof(slots));
    OPENSSL_cleanse(&longKey, sizeof(longKey));
  }

  const KeyedState<H>& of(ByteSpan key) {
    if (key.size() <= kBlock) {
      for (const KeyedState<H>& s : slots) {
        if (s.keySize == key.size() && constantTimeEqual(ByteSpan(s.key, s.keySize), key)) return s;
      }
    }
    KeyedState<H>& s = key.size() <= kBlock ? slots[next++ % kCachedKeys] : longKey;
    uint8_t k[kBlock] = {};
    if (key.size() <= kBlock) {
      if (!key.empty()) std::memcpy(k, key.data(), key.size());
      if (!key.empty()) std::memcpy(s.key, key.data(), key.size());
      s.keySize = key.size();
    } else {
      typename H::Ctx c;
      H::init(c);
      H::update(c, key.data(), key.size());
      H::final(k, c);
      s.keySize = SIZE_MAX;
    }
    uint8_t pad[kBlock];
    for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x36;
    H::init(s.inner);
    H::update(s.inner, pad, kBlock);
    for (size_t i = 0; i < kBlock; ++i) pad[i] = k[i] ^ 0x5c;
    H::init(s.outer);
    H::update(s.outer, pad, kBlock);
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    return s;
  }
};

template <class H>
size_t hmacOf(ByteSpan key, std::initializer_list<ByteSpan> parts, uint8_t* out) {
  thread_local KeyedStates<H> states;
  const KeyedState<H>& s = states.of(key);
  typename H::Ctx c = s.inner;
  for (ByteSpan p : parts) H::update(c, p.data(), p.size());
  uint8_t innerHash[H::kOut];
  H::final(innerHash, c);
  c = s.outer;
  H::update(c, innerHash, H::kOut);
  H::final(out, c);
  return H::kOut;
}

constexpr size_t kMaxMac = 32;

// HMAC of the concatenated `parts` into `out`; returns its length (20 or 32).
size_t hmacInto(Hash h, ByteSpan key, std::initializer_list<ByteSpan> parts, uint8_t (&out)[kMaxMac]) {
  return h == Hash::Sha1 ? hmacOf<Sha1>(key, parts, out) : hmacOf<Sha256>(key, parts, out);
}

Bytes hmac(Hash h, ByteSpan key, ByteSpan data) {
  uint8_t out[kMaxMac];
  const size_t n = hmacInto(h, key, {data}, out);
  return Bytes(out, out + n);
}

// The digest of the concatenated `parts` (no joined copy of them is made), over the block functions as
// the HMAC above: no EVP context (OpenSSL 3.0 re-allocates its provider context on every init).
template <class H>
Bytes digestOf(std::initializer_list<ByteSpan> parts) {
  typename H::Ctx c;
  H::init(c);
  for (ByteSpan p : parts) H::update(c, p.data(), p.size());
  Bytes out(H::kOut);
  H::final(out.data(), c);
  return out;
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
  const std::initializer_list<ByteSpan> parts = {asBytes(username), kColon, asBytes(realm), kColon, asBytes(password)};
  return alg == PasswordAlgorithm::Sha256 ? digestOf<Sha256>(parts) : digestOf<Md5>(parts);
}

Bytes shortTermKey(std::string_view password) { return Bytes(password.begin(), password.end()); }

Bytes userhash(std::string_view username, std::string_view realm) {
  return digestOf<Sha256>({asBytes(username), kColon, asBytes(realm)});
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
void hmacSha1(ByteSpan key, ByteSpan data, uint8_t (&out)[20]) { hmacOf<Sha1>(key, {data}, out); }
void hmacSha256(ByteSpan key, ByteSpan data, uint8_t (&out)[32]) { hmacOf<Sha256>(key, {data}, out); }
Bytes sha256(ByteSpan data) { return digestOf<Sha256>({data}); }
Bytes md5(ByteSpan data) { return digestOf<Md5>({data}); }

}  // namespace rdv::stun
