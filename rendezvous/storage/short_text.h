// Text kept inside a 24-byte object when it is at most 23 bytes long, on the heap otherwise. For the
// ledger's live records (issue 13 item 4): a client address such as "203.0.113.77:54321" (up to 21 bytes
// for IPv4) is past std::string's 15 inline bytes, so std::string would cost 32 bytes plus a heap block
// per allocation.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace rdv::storage {

class ShortText {
 public:
  ShortText() = default;
  explicit ShortText(std::string_view s) { assign(s); }
  ShortText(const ShortText& o) { assign(o.view()); }
  ShortText& operator=(const ShortText& o) {
    if (this != &o) {
      release();
      assign(o.view());
    }
    return *this;
  }
  ShortText(ShortText&& o) noexcept { take(o); }
  ShortText& operator=(ShortText&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  ShortText& operator=(std::string_view s) {
    release();
    assign(s);
    return *this;
  }
  ~ShortText() { release(); }

  std::string_view view() const {
    return onHeap() ? std::string_view(heap_.data, heap_.size) : std::string_view(inline_, inline_[kInline]);
  }
  std::string str() const { return std::string(view()); }
  bool onHeap() const { return static_cast<uint8_t>(inline_[kInline]) == kHeap; }

 private:
  static constexpr size_t kInline = 23;  // inline_[kInline] holds the length, or kHeap
  static constexpr uint8_t kHeap = 0xFF;
  struct Heap {
    char* data;
    size_t size;
  };

  void assign(std::string_view s) {
    if (s.size() <= kInline) {
      std::memcpy(inline_, s.data(), s.size());
      inline_[kInline] = static_cast<char>(s.size());
      return;
    }
    heap_.data = new char[s.size()];
    std::memcpy(heap_.data, s.data(), s.size());
    heap_.size = s.size();
    inline_[kInline] = static_cast<char>(kHeap);
  }
  void take(ShortText& o) {
    std::memcpy(static_cast<void*>(this), &o, sizeof *this);
    o.inline_[kInline] = 0;  // o keeps nothing (its heap block, if any, is ours now)
  }
  void release() {
    if (onHeap()) delete[] heap_.data;
    inline_[kInline] = 0;
  }

  union {
    char inline_[kInline + 1] = {};
    Heap heap_;
  };
};
static_assert(sizeof(ShortText) == 24);

}  // namespace rdv::storage
