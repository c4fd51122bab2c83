// Keccak-256 as used by Ethereum (original Keccak padding 0x01, not the SHA3-256 padding 0x06).
// OpenSSL 3.0 on Debian 12 exposes no KECCAK-256 digest, so this is a small self-contained sponge
// (Keccak-f[1600], rate 136 bytes), checked against published vectors in tests/rendezvous.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "rendezvous/base/bytes.h"

namespace rdv::identity {

using Hash256 = std::array<uint8_t, 32>;

// Incremental hashing: update() any number of times, then finish() once.
class Keccak256 {
 public:
  Keccak256() = default;
  // The same sponge with the FIPS 202 SHA3-256 padding (0x06): lets tests check the permutation
  // and block handling against OpenSSL's SHA3-256 on inputs of every length.
  static Keccak256 sha3Variant() { return Keccak256(0x06); }

  void update(ByteSpan data);
  Hash256 finish();

 private:
  static constexpr size_t kRate = 136;
  explicit Keccak256(uint8_t domainPad) : domainPad_(domainPad) {}
  void absorbBlock(const uint8_t* block);

  std::array<uint64_t, 25> state_{};
  std::array<uint8_t, kRate> buffer_{};
  size_t buffered_ = 0;
  uint8_t domainPad_ = 0x01;
};

Hash256 keccak256(ByteSpan data);

}  // namespace rdv::identity
