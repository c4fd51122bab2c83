// Refuses a signed API request seen before (issue 12, "credential replay"). An RDV-Sig header or a
// registry proof is valid for the node's clock-skew window around its signed time; within that window
// the node remembers each (identity, time, digest) it accepted and refuses the same one again. Entries
// older than the window are forgotten (the skew check refuses those anyway), so memory is bounded by the
// request rate times the window, and hard-bounded by `maxEntries`: when full, the oldest entries are
// dropped and every signed time at or below theirs is refused from then on (the floor), so a dropped
// entry can never be replayed. Sans-I/O: `now` is passed in (unix seconds).
#pragma once

#include <cstdint>
#include <limits>
#include <set>
#include <tuple>

#include "rendezvous/identity/keccak.h"
#include "rendezvous/identity/node_id.h"

namespace rdv::identity {

enum class ReplayVerdict {
  Fresh,     // first time seen, inside the window: accepted and remembered
  Replayed,  // seen before inside the window (or at or below the floor)
  Stale,     // the signed time is outside the window
};

class ReplayCache {
 public:
  ReplayCache(int64_t skewSeconds, size_t maxEntries) : skew_(skewSeconds), maxEntries_(maxEntries) {}

  // Checks a request whose signature already verified, and remembers it when Fresh.
  ReplayVerdict check(const NodeId& id, int64_t signedTime, const Hash256& digest, int64_t now);

  size_t size() const { return seen_.size(); }
  int64_t skewSeconds() const { return skew_; }

 private:
  void forgetBefore(int64_t time);

  int64_t skew_;
  size_t maxEntries_;
  // In signed-time order: forgetting the old ones reads the front.
  std::set<std::tuple<int64_t, NodeId, Hash256>> seen_;
  int64_t floor_ = std::numeric_limits<int64_t>::min();
};

}  // namespace rdv::identity
