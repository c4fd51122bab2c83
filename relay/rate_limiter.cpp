#include "relay/rate_limiter.h"

#include <algorithm>
#include <bit>
#include <chrono>

namespace rdv::relay {

SourceRateLimiter::SourceRateLimiter(RateLimit perSource, RateLimit global, uint32_t capacity, uint64_t hashKey)
    : perSource_(perSource),
      global_(global),
      hashKey_(hashKey),
      slots_(std::bit_ceil(std::max<uint32_t>(capacity, kProbeWindow))) {}

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

bool SourceRateLimiter::refill(Bucket& b, const RateLimit& limit, Instant now) {
  if (!b.used) return true;
  if (now > b.refilled) {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(limit.burst, b.tokens + elapsed * limit.perSecond);
    b.refilled = now;
  }
  return b.tokens >= limit.burst;
}

bool SourceRateLimiter::take(Bucket& b, const RateLimit& limit, Instant now) {
  if (!b.used) b = Bucket{limit.burst, now, true};
  refill(b, limit, now);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

bool SourceRateLimiter::allow(const IpAddress& source, Instant now) {
  const size_t mask = slots_.size() - 1;
  const size_t start = indexOf(source);
  Slot* reusable = nullptr;
  for (size_t i = 0; i < kProbeWindow; ++i) {
    Slot& s = slots_[(start + i) & mask];
    if (s.bucket.used && s.source == source) return take(s.bucket, perSource_, now);
    if (!reusable && refill(s.bucket, perSource_, now)) reusable = &s;  // full again: as good as empty
  }
  if (reusable) {
    reusable->source = source;
    reusable->bucket = Bucket{};
    return take(reusable->bucket, perSource_, now);
  }
  // Saturated: every slot of the window holds a source that spent tokens in the last burst/rate seconds.
  ++saturated_;
  return take(globalBucket_, global_, now);
}

}  // namespace rdv::relay
