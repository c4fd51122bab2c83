// A vector that keeps its first N elements inside the object and moves to the heap only past them: the
// relay's per-allocation lists (permissions, channel numbers, peers seen) hold 1-4 entries almost always,
// so an allocation with one of each costs no heap block at all (issue 13 item 4, docs/benchmarks.md).
//
// For trivially copyable element types only (addresses, instants, numbers): elements are relocated with
// memcpy and never destroyed one by one. Order is kept by push_back and erase (erase shifts the tail).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

namespace rdv {

template <typename T, uint32_t N>
class SmallVector {
  static_assert(std::is_trivially_copyable_v<T>, "SmallVector relocates its elements with memcpy");
  static_assert(N > 0, "use std::vector for no inline capacity");

 public:
  SmallVector() = default;
  SmallVector(const SmallVector& o) { assign(o); }
  SmallVector(SmallVector&& o) noexcept { take(o); }
  SmallVector& operator=(const SmallVector& o) {
    if (this != &o) {
      clear();
      assign(o);
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  ~SmallVector() { release(); }

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint32_t capacity() const { return capacity_; }
  // True while the elements live inside the object (no heap block).
  bool isInline() const { return capacity_ == N; }

  T* data() { return isInline() ? reinterpret_cast<T*>(inline_) : heap_; }
  const T* data() const { return isInline() ? reinterpret_cast<const T*>(inline_) : heap_; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& operator[](uint32_t i) { return data()[i]; }
  const T& operator[](uint32_t i) const { return data()[i]; }
  T& back() { return data()[size_ - 1]; }

  void push_back(const T& v) {
    if (size_ == capacity_) grow(capacity_ * 2);
    std::memcpy(static_cast<void*>(data() + size_), &v, sizeof(T));
    ++size_;
  }
  // Removes the element at `it`, keeping the order of the rest; returns the position after it.
  T* erase(T* it) {
    T* last = end();
    if (it + 1 < last) std::memmove(static_cast<void*>(it), it + 1, (last - it - 1) * sizeof(T));
    --size_;
    return it;
  }
  // Removes every element for which pred(element) holds; keeps the order of the rest.
  template <typename Pred>
  void eraseIf(Pred pred) {
    T* out = begin();
    for (T* in = begin(); in != end(); ++in) {
      if (pred(*in)) continue;
      if (out != in) std::memcpy(static_cast<void*>(out), in, sizeof(T));
      ++out;
    }
    size_ = static_cast<uint32_t>(out - begin());
  }
  // Empties it; a heap block is given back, so the next entries are inline again.
  void clear() {
    release();
    size_ = 0;
    capacity_ = N;
  }

 private:
  void grow(uint32_t capacity) {
    T* block = static_cast<T*>(std::malloc(sizeof(T) * capacity));
    if (block == nullptr) throw std::bad_alloc();
    std::memcpy(static_cast<void*>(block), data(), sizeof(T) * size_);
    release();
    heap_ = block;
    capacity_ = capacity;
  }
  void release() {
    if (!isInline()) std::free(heap_);
  }
  void assign(const SmallVector& o) {
    if (o.size_ > N) grow(o.size_);
    std::memcpy(static_cast<void*>(data()), o.data(), sizeof(T) * o.size_);
    size_ = o.size_;
  }
  void take(SmallVector& o) {
    size_ = o.size_;
    capacity_ = o.capacity_;
    if (o.isInline()) {
      std::memcpy(inline_, o.inline_, sizeof inline_);
    } else {
      heap_ = o.heap_;
    }
    o.size_ = 0;
    o.capacity_ = N;
  }

  uint32_t size_ = 0;
  uint32_t capacity_ = N;  // N: inline; more: heap_ holds the elements
  union {
    alignas(T) unsigned char inline_[sizeof(T) * N];
    T* heap_;
  };
};

}  // namespace rdv
