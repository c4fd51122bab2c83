// Shared helpers for the signalling tests: a scripted Rng and fixed keys.
#pragma once

#include <cstring>
#include <deque>
#include <string_view>

#include "rendezvous/identity/private_key.h"
#include "signalling/envelope/crypto.h"
#include "rendezvous/base/bytes.h"

namespace rdv::signalling::test {

// Hands out the bytes it was given, in order; then a splitmix64 stream, so that long hub
// scenarios never run dry, stay deterministic, and never repeat a nonce (a short-period filler
// once made two connections share a challenge nonce).
class ScriptedRng final : public Rng {
 public:
  ScriptedRng() = default;
  explicit ScriptedRng(std::string_view hex) { push(hex); }
  void push(std::string_view hex) {
    Bytes b;
    fromHex(hex, b);
    queue_.insert(queue_.end(), b.begin(), b.end());
  }
  void failNext() { fail_ = true; }
  bool fill(std::span<uint8_t> out) override {
    if (fail_) {
      fail_ = false;
      return false;
    }
    for (auto& byte : out) {
      if (!queue_.empty()) {
        byte = queue_.front();
        queue_.pop_front();
      } else {
        byte = nextFallbackByte();
      }
    }
    return true;
  }

 private:
  uint8_t nextFallbackByte() {
    if (fallbackLeft_ == 0) {
      uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      fallbackWord_ = z ^ (z >> 31);
      fallbackLeft_ = 8;
    }
    --fallbackLeft_;
    const auto b = static_cast<uint8_t>(fallbackWord_);
    fallbackWord_ >>= 8;
    return b;
  }

  std::deque<uint8_t> queue_;
  uint64_t state_ = 0;
  uint64_t fallbackWord_ = 0;
  int fallbackLeft_ = 0;
  bool fail_ = false;
};

inline identity::PrivateKey keyFromHex(std::string_view hex) { return *identity::PrivateKey::fromHex(hex); }

// The worked example's keys (docs/signalling.md).
inline constexpr std::string_view kSenderSecret = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
inline constexpr std::string_view kRecipientSecret =
    "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
inline constexpr std::string_view kEphemeralSecret =
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
inline constexpr std::string_view kVectorNonce = "000102030405060708090a0b";

}  // namespace rdv::signalling::test
