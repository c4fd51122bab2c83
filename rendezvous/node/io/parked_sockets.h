// Reserved relay ports (EVEN-PORT R bit, RFC 8656 §7.2) waiting for their RESERVATION-TOKEN. One object
// per daemon, given to every worker: the claiming Allocate may reach any worker. A parked socket stays
// bound (the port stays ours) but no loop reads it. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <unordered_map>

#include "relay/types.h"

namespace rdv::node {

class ParkedSockets {
 public:
  ParkedSockets() = default;
  ~ParkedSockets();  // closes what nobody claimed
  ParkedSockets(const ParkedSockets&) = delete;
  ParkedSockets& operator=(const ParkedSockets&) = delete;

  // Keeps `fd` for `port` (owning it); an older socket parked for the port is closed.
  void park(relay::RelayPort port, int fd);
  // The socket parked for `port`, now owned by the caller; nullopt when none is.
  std::optional<int> take(relay::RelayPort port);
  // Closes the socket parked for `port`, if any.
  void discard(relay::RelayPort port);

 private:
  std::mutex mutex_;
  std::unordered_map<relay::RelayPort, int> fds_;
};

}  // namespace rdv::node
