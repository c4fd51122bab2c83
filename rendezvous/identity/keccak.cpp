#include "rendezvous/identity/keccak.h"

#include <cstring>

namespace rdv::identity {
namespace {

constexpr std::array<uint64_t, 24> kRoundConstants = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

// Rotation offsets and lane permutation of the combined rho+pi step, in the order lanes are visited.
constexpr std::array<int, 24> kRho = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                      27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr std::array<int, 24> kPi = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                     15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

inline uint64_t rotl(uint64_t v, int n) { return (v << n) | (v >> (64 - n)); }

void keccakF1600(std::array<uint64_t, 25>& a) {
  for (uint64_t rc : kRoundConstants) {
    // theta
    uint64_t c[5];
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    for (int x = 0; x < 5; ++x) {
      const uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) a[y + x] ^= d;
    }
    // rho and pi
    uint64_t current = a[1];
    for (int i = 0; i < 24; ++i) {
      const int j = kPi[i];
      const uint64_t next = a[j];
      a[j] = rotl(current, kRho[i]);
      current = next;
    }
    // chi
    for (int y = 0; y < 25; y += 5) {
      uint64_t row[5];
      for (int x = 0; x < 5; ++x) row[x] = a[y + x];
      for (int x = 0; x < 5; ++x) a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
    }
    // iota
    a[0] ^= rc;
  }
}

inline uint64_t loadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

void Keccak256::absorbBlock(const uint8_t* block) {
  for (size_t i = 0; i < kRate / 8; ++i) state_[i] ^= loadLe64(block + 8 * i);
  keccakF1600(state_);
}

void Keccak256::update(ByteSpan data) {
  size_t pos = 0;
  if (buffered_ > 0) {
    const size_t take = std::min(kRate - buffered_, data.size());
    std::memcpy(buffer_.data() + buffered_, data.data(), take);
    buffered_ += take;
    pos = take;
    if (buffered_ < kRate) return;
    absorbBlock(buffer_.data());
    buffered_ = 0;
  }
  for (; data.size() - pos >= kRate; pos += kRate) absorbBlock(data.data() + pos);
  const size_t rest = data.size() - pos;
  if (rest > 0) std::memcpy(buffer_.data(), data.data() + pos, rest);
  buffered_ = rest;
}

Hash256 Keccak256::finish() {
  // Original Keccak multi-rate padding: 0x01 ... 0x80 (both in one byte when only one is free).
  std::memset(buffer_.data() + buffered_, 0, kRate - buffered_);
  buffer_[buffered_] ^= domainPad_;
  buffer_[kRate - 1] ^= 0x80;
  absorbBlock(buffer_.data());
  buffered_ = 0;
  Hash256 out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(state_[i / 8] >> (8 * (i % 8)));
  return out;
}

Hash256 keccak256(ByteSpan data) {
  Keccak256 k;
  k.update(data);
  return k.finish();
}

}  // namespace rdv::identity
