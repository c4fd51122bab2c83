#include "rendezvous/node/io/parked_sockets.h"

#include <unistd.h>

namespace rdv::node {

ParkedSockets::~ParkedSockets() {
  for (auto& [port, fd] : fds_) close(fd);
}

void ParkedSockets::park(relay::RelayPort port, int fd) {
  std::lock_guard lock(mutex_);
  if (auto old = fds_.find(port); old != fds_.end()) close(old->second);
  fds_[port] = fd;
}

std::optional<int> ParkedSockets::take(relay::RelayPort port) {
  std::lock_guard lock(mutex_);
  auto it = fds_.find(port);
  if (it == fds_.end()) return std::nullopt;
  const int fd = it->second;
  fds_.erase(it);
  return fd;
}

void ParkedSockets::discard(relay::RelayPort port) {
  std::lock_guard lock(mutex_);
  auto it = fds_.find(port);
  if (it == fds_.end()) return;
  close(it->second);
  fds_.erase(it);
}

}  // namespace rdv::node
