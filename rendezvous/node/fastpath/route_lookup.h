// Which device the kernel's routing table sends a destination out of, asked over rtnetlink
// (RTM_GETROUTE, what `ip route get DST from SRC` does). The fast path stores the answer with each
// binding, since its TC program redirects packets itself instead of letting the stack forward them.
#pragma once

#include <cstdint>
#include <optional>

#include "rendezvous/base/address.h"

namespace rdv::node {

class RouteLookup {
 public:
  // Opens the rtnetlink socket in the calling thread's network namespace; lookups answer for that one.
  RouteLookup();
  ~RouteLookup();
  RouteLookup(const RouteLookup&) = delete;
  RouteLookup& operator=(const RouteLookup&) = delete;

  bool ok() const { return fd_ >= 0; }
  // The egress interface index for `dst` sent from `src`; 0 when `dst` is an address of this host;
  // nullopt when there is no route (or for IPv6, which the fast path does not forward).
  std::optional<uint32_t> egress(const IpAddress& src, const IpAddress& dst);

 private:
  int fd_ = -1;
  uint32_t seq_ = 0;
};

}  // namespace rdv::node
