#include "rendezvous/identity/replay_cache.h"

namespace rdv::identity {

void ReplayCache::forgetBefore(int64_t time) {
  while (!seen_.empty() && std::get<0>(*seen_.begin()) < time) seen_.erase(seen_.begin());
}

ReplayVerdict ReplayCache::check(const NodeId& id, int64_t signedTime, const Hash256& digest, int64_t now) {
  if (signedTime < now - skew_ || signedTime > now + skew_) return ReplayVerdict::Stale;
  forgetBefore(now - skew_);
  if (signedTime <= floor_) return ReplayVerdict::Replayed;
  if (!seen_.emplace(signedTime, id, digest).second) return ReplayVerdict::Replayed;
  while (seen_.size() > maxEntries_) {
    // Full: drop the oldest signed time entirely and refuse everything at or below it from now on.
    floor_ = std::get<0>(*seen_.begin());
    forgetBefore(floor_ + 1);
  }
  return ReplayVerdict::Fresh;
}

}  // namespace rdv::identity
