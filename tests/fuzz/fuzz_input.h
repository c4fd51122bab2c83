// Reads a fuzz input as a stream of choices (the stateful harnesses decode their steps from it). Past the
// end every read returns zeros/empty, so every input is a valid program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "rendezvous/base/bytes.h"

namespace rdv::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  // Big-endian; the reads are sequenced (the operands of | are not), so every compiler reads alike.
  uint16_t u16() {
    const uint8_t hi = u8();
    return static_cast<uint16_t>(hi << 8 | u8());
  }
  uint32_t u32() {
    const uint32_t hi = u16();
    return hi << 16 | u16();
  }
  bool flag() { return (u8() & 1) != 0; }
  // Up to `max` bytes, the length read first (one byte, or two when max > 255).
  ByteSpan bytes(size_t max) {
    size_t n = max > 255 ? u16() : u8();
    n = std::min({n, max, size_ - std::min(pos_, size_)});
    ByteSpan out(data_ + std::min(pos_, size_), n);
    pos_ += n;
    return out;
  }
  std::string text(size_t max) {
    const ByteSpan b = bytes(max);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace rdv::fuzz
