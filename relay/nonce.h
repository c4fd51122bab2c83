// Stateless nonces (DESIGN principle 6): the nonce carries its own timestamp and a MAC over that
// timestamp and the client's IP, so issuing one creates no state and a spoofed flood costs nothing.
//
//   nonce = "obMatJos2" "gAAA" hex64(unix seconds) hex(HMAC-SHA256(key, seconds || client IP)[0..16))
//
// "obMatJos2" is RFC 8489 §9.2's nonce cookie; "gAAA" is base64 of the 24-bit security feature set with
// bit 0 (password algorithms, the most significant bit) set: the server offers PASSWORD-ALGORITHMS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "relay/types.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"

namespace rdv::relay {

constexpr std::string_view kNonceCookie = "obMatJos2";
constexpr std::string_view kNonceFeatures = "gAAA";  // password algorithms

enum class NonceCheck : uint8_t { Valid, Stale, Invalid };

class NonceCodec {
 public:
  NonceCodec(Bytes key, Seconds lifetime) : key_(std::move(key)), lifetime_(lifetime) {}

  std::string make(const IpAddress& client, int64_t unixNow) const;
  // Valid: ours, for this client, not older than the lifetime. Stale: ours but too old.
  // Invalid: not ours, another client's, malformed, or from the future. Both Stale and Invalid get 438
  // (RFC 8489 §9.2.4: "If the NONCE is no longer valid").
  NonceCheck check(std::string_view nonce, const IpAddress& client, int64_t unixNow) const;

 private:
  // The MAC part of the nonce, 32 hex digits, into `out` (no allocation: one per Allocate, two per cycle).
  void mac(uint64_t seconds, const IpAddress& client, char (&out)[32]) const;
  Bytes key_;
  Seconds lifetime_;
};

}  // namespace rdv::relay
