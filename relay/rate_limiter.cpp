#include "relay/rate_limiter.h"

#include <algorithm>
#include <bit>

namespace rdv::relay {

SourceRateLimiter::SourceRateLimiter(RateLimit perSource, RateLimit global, uint32_t capacity, uint64_t hashKey)
    : perSource_(perSource),
      hashKey_(hashKey),
      slots_(std::bit_ceil(std::max<uint32_t>(capacity, kProbeWindow))),
      global_(global.perSecond, global.burst) {}

size_t SourceRateLimiter::indexOf(const IpAddress& source) const {
  // FNV-1a over the key and the address bytes, then a splitmix64 finaliser to spread the bits.
  uint64_t h = 0xcbf29ce484222325ULL ^ hashKey_;
  for (size_t i = 0; i < source.size(); ++i) {
    h ^= source.data()[i];
    h *= 0x100000001b3ULL;
  }
  h ^= static_cast<uint64_t>(source.family());
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<size_t>(h & (slots_.size() - 1));
}

bool SourceRateLimiter::allow(const IpAddress& source, Instant now) {
  const int64_t nowNs = TokenBucket::nanos(now);
  const size_t mask = slots_.size() - 1;
  const size_t start = indexOf(source);
  Slot* reusable = nullptr;
  for (size_t i = 0; i < kProbeWindow; ++i) {
    Slot& s = slots_[(start + i) & mask];
    if (s.used && s.source == source) return s.bucket.take(1, nowNs);
    if (!reusable && (!s.used || s.bucket.full(nowNs))) reusable = &s;  // full again: as good as empty
  }
  if (reusable) {
    reusable->source = source;
    reusable->used = true;
    reusable->bucket = TokenBucket(perSource_.perSecond, perSource_.burst);
    return reusable->bucket.take(1, nowNs);
  }
  // Saturated: every slot of the window holds a source that spent tokens in the last burst/rate seconds.
  ++saturated_;
  return global_.take(1, nowNs);
}

void SourceRateLimiter::credit(const IpAddress& source, Instant now) {
  const int64_t nowNs = TokenBucket::nanos(now);
  const size_t mask = slots_.size() - 1;
  const size_t start = indexOf(source);
  for (size_t i = 0; i < kProbeWindow; ++i) {
    Slot& s = slots_[(start + i) & mask];
    if (s.used && s.source == source) {
      if (!s.bucket.full(nowNs)) s.bucket.refund(1);
      return;
    }
  }
}

}  // namespace rdv::relay
