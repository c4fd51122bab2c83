// Per-source rate limiting of unauthenticated answers (401, 438, 400; DESIGN principle 6) with bounded
// memory that a spoofed flood cannot starve. Also the per-IP limits of the HTTP APIs (ice-servers,
// registry writes). Not thread-safe: one owner thread (a relay worker, the HTTP thread).
//
// A fixed table of exact entries (source IP -> rdv::TokenBucket), found by a keyed hash and a short probe
// window. An entry is only needed while its bucket is below full: once refilled it is the same as a
// source never seen, and its slot is free again. So the table holds at most (answers taken in the last
// burst/rate seconds) entries, whatever the number of sources: at 5 answers/s per source, 20,000 spoofed
// requests/s keep ~4,000 entries alive, well inside the default 16,384. Sources never share a bucket, so
// a flood cannot empty an honest client's bucket (the old hashed table of shared buckets could).
//
// When the table does saturate (no free slot in the source's window), the source is not refused outright:
// it draws from one global allowance, so honest clients still get answers at the allowance's rate while
// the answers a flood can cause stay bounded by (table entries x burst) + the global rate.
//
// Honest clients behind one address (a NAT, a CGNAT, many peers on one host) each start with a 401 and then
// authenticate. A request that authenticates carries a nonce bound to its source IP (relay/nonce.h), so its
// sender has proved that it receives at that address: the challenge it cost was not a spoofed flood's. Such
// a request gives one token back to its source's bucket (credit), so only challenges that are never
// followed by authentication use up the per-source rate. An off-path spoofer cannot earn credit for a
// victim's address (it never sees the victim's nonces); a client that authenticates can reflect answers
// only to itself.
#pragma once

#include <cstdint>
#include <vector>

#include "relay/config.h"
#include "relay/types.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/token_bucket.h"

namespace rdv::relay {

class SourceRateLimiter {
 public:
  // `capacity` is rounded up to a power of two (at least 16); `hashKey` should be random per process so
  // that an attacker cannot aim sources at a victim's probe window.
  SourceRateLimiter(RateLimit perSource, RateLimit global, uint32_t capacity, uint64_t hashKey);

  // Takes one token from the source's bucket (or, when the table is saturated, from the global
  // allowance); false when it is empty.
  bool allow(const IpAddress& source, Instant now);
  // Gives one token back to the source's bucket (if it holds an entry that is not full): the source has
  // just authenticated, with a nonce bound to its address.
  void credit(const IpAddress& source, Instant now);
  size_t capacity() const { return slots_.size(); }
  // Decisions that found the table saturated and went to the global allowance.
  uint64_t saturated() const { return saturated_; }

  static constexpr size_t kProbeWindow = 16;

 private:
  struct Slot {
    IpAddress source;
    bool used = false;  // false: free (never used, or its bucket was full again when last looked at)
    TokenBucket bucket;
  };
  size_t indexOf(const IpAddress& source) const;

  RateLimit perSource_;
  uint64_t hashKey_;
  std::vector<Slot> slots_;
  TokenBucket global_;
  uint64_t saturated_ = 0;
};

}  // namespace rdv::relay
