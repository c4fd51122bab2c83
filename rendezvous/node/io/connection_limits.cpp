#include "rendezvous/node/io/connection_limits.h"

#include <algorithm>
#include <array>

namespace rdv::node {

IpAddress ConnectionsPerSource::keyOf(const IpAddress& source) {
  if (source.isV4()) return source;
  std::array<uint8_t, 16> b{};
  std::copy(source.data(), source.data() + 8, b.begin());
  return IpAddress::v6(b);
}

bool ConnectionsPerSource::tryAdd(const IpAddress& source) {
  std::lock_guard lock(mutex_);
  uint32_t& n = counts_[keyOf(source)];
  if (n >= max_) return false;  // n > 0 here, so the entry existed before: nothing to erase
  ++n;
  return true;
}

void ConnectionsPerSource::remove(const IpAddress& source) {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(keyOf(source));
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
}

uint32_t ConnectionsPerSource::count(const IpAddress& source) const {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(keyOf(source));
  return it == counts_.end() ? 0 : it->second;
}

size_t ConnectionsPerSource::sources() const {
  std::lock_guard lock(mutex_);
  return counts_.size();
}

}  // namespace rdv::node
