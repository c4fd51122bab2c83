#include "relay/nonce.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "stun/integrity.h"

namespace rdv::relay {

namespace {
constexpr size_t kTimestampHex = 16;
constexpr size_t kMacBytes = 16;
constexpr int64_t kFutureSlackSeconds = 5;  // workers read the wall clock at slightly different times
}  // namespace

void NonceCodec::mac(uint64_t seconds, const IpAddress& client, char (&out)[32]) const {
  uint8_t input[8 + 1 + 16];  // seconds, family, address: on the stack
  for (int i = 0; i < 8; ++i) input[i] = static_cast<uint8_t>(seconds >> (56 - 8 * i));
  input[8] = static_cast<uint8_t>(client.family());
  const size_t size = std::min<size_t>(client.size(), 16);
  std::memcpy(input + 9, client.data(), size);
  uint8_t full[32];
  stun::hmacSha256(key_, ByteSpan(input, 9 + size), full);
  static_assert(2 * kMacBytes == sizeof(out));
  for (size_t i = 0; i < kMacBytes; ++i) {
    out[2 * i] = "0123456789abcdef"[full[i] >> 4];
    out[2 * i + 1] = "0123456789abcdef"[full[i] & 0xF];
  }
}

std::string NonceCodec::make(const IpAddress& client, int64_t unixNow) const {
  const auto seconds = static_cast<uint64_t>(unixNow < 0 ? 0 : unixNow);
  char ts[kTimestampHex + 1];
  for (size_t i = 0; i < kTimestampHex; ++i) ts[i] = "0123456789abcdef"[(seconds >> (60 - 4 * i)) & 0xF];
  ts[kTimestampHex] = '\0';
  std::string out;
  out.reserve(kNonceCookie.size() + kNonceFeatures.size() + kTimestampHex + 2 * kMacBytes);
  char m[2 * kMacBytes];
  mac(seconds, client, m);
  out.append(kNonceCookie).append(kNonceFeatures).append(ts).append(m, sizeof(m));
  return out;
}

NonceCheck NonceCodec::check(std::string_view nonce, const IpAddress& client, int64_t unixNow) const {
  const size_t prefix = kNonceCookie.size() + kNonceFeatures.size();
  if (nonce.size() != prefix + kTimestampHex + 2 * kMacBytes) return NonceCheck::Invalid;
  if (nonce.substr(0, kNonceCookie.size()) != kNonceCookie ||
      nonce.substr(kNonceCookie.size(), kNonceFeatures.size()) != kNonceFeatures) {
    return NonceCheck::Invalid;
  }
  const std::string_view ts = nonce.substr(prefix, kTimestampHex);
  uint64_t seconds = 0;
  const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), seconds, 16);
  if (ec != std::errc() || end != ts.data() + ts.size()) return NonceCheck::Invalid;
  char expected[2 * kMacBytes];
  mac(seconds, client, expected);
  if (!constantTimeEqual(asBytes(std::string_view(expected, sizeof(expected))),
                         asBytes(nonce.substr(prefix + kTimestampHex)))) {
    return NonceCheck::Invalid;
  }
  const auto issued = static_cast<int64_t>(seconds);
  if (issued > unixNow + kFutureSlackSeconds) return NonceCheck::Invalid;
  if (unixNow - issued > lifetime_.count()) return NonceCheck::Stale;
  return NonceCheck::Valid;
}

}  // namespace rdv::relay
