#include "relay/rate_limiter.h"

#include <algorithm>
#include <bit>

namespace rdv::relay {

SourceRateLimiter::SourceRateLimiter(RateLimit limit, uint32_t buckets, uint64_t hashKey)
    : hashKey_(hashKey), buckets_(std::bit_ceil(std::max<uint32_t>(buckets, 1)), TokenBucket(limit.perSecond, limit.burst)) {}

size_t SourceRateLimiter::indexOf(const IpAddress& source) const {
  // FNV-1a over the key and the address bytes, then a splitmix64 finaliser to spread the bits.
  uint64_t h = 0xcbf29ce484222325ULL ^ hashKey_;
  for (size_t i = 0; i < source.size(); ++i) {
    h ^= source.data()[i];
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<size_t>(h & (buckets_.size() - 1));
}

bool SourceRateLimiter::allow(const IpAddress& source, Instant now) {
  return buckets_[indexOf(source)].take(1, TokenBucket::nanos(now));
}

}  // namespace rdv::relay
