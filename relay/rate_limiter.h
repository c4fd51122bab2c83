// Per-source rate limiting with bounded memory: a fixed table of token buckets (rdv::TokenBucket) indexed by a keyed hash
// of the source IP. Sources that collide share a bucket (they may be limited together); a flood from
// many spoofed sources cannot grow the table. Used for 401 answers (DESIGN principle 6).
#pragma once

#include <cstdint>
#include <vector>

#include "relay/config.h"
#include "relay/types.h"
#include "rendezvous/base/token_bucket.h"
#include "rendezvous/base/address.h"

namespace rdv::relay {

class SourceRateLimiter {
 public:
  // `buckets` is rounded up to a power of two (at least 1); `hashKey` should be random per process so
  // that an attacker cannot aim collisions at a victim's bucket.
  SourceRateLimiter(RateLimit limit, uint32_t buckets, uint64_t hashKey);

  // Takes one token from the source's bucket; false when it is empty.
  bool allow(const IpAddress& source, Instant now);
  size_t bucketCount() const { return buckets_.size(); }

 private:
  size_t indexOf(const IpAddress& source) const;

  uint64_t hashKey_;
  std::vector<TokenBucket> buckets_;  // each starts full
};

}  // namespace rdv::relay
