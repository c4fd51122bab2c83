// Socket set-up for the workers: bound file descriptors that libuv then adopts (uv_udp_open/uv_tcp_open).
// Port 0 is resolved once, exclusively, so that every worker binds the same concrete port.
#pragma once

#include <string>
#include <vector>

#include "rendezvous/base/address.h"
#include "rendezvous/base/result.h"

namespace rdv::node {

enum class SocketType { Udp, Tcp };

// A socket bound to `ep`; SO_REUSEPORT when `reusePort` (several workers on one port); IPV6_V6ONLY for IPv6.
Result<int, std::string> openBoundSocket(const Endpoint& ep, SocketType type, bool reusePort);
Result<Endpoint, std::string> localEndpointOf(int fd);
void closeSocket(int fd);
// Reads and discards every datagram queued on the non-blocking UDP socket `fd` (and a pending socket
// error), `batch` per recvmmsg into empty buffers. False when datagrams still come after `maxBatches`
// full batches (the caller should close the socket).
bool discardQueuedDatagrams(int fd, size_t batch, size_t maxBatches);
// Every address of every interface that is up (getifaddrs), IPv4 and IPv6, link-local included: the
// node's own addresses for the relay's peer policy (DESIGN principle 6). Empty if getifaddrs fails.
std::vector<IpAddress> interfaceAddresses();
// The default TCP/TLS connection limit per worker: half the process's open-file limit (the rest is for
// relay sockets, the HTTP API and the database), shared by the workers, at most 10,000 and at least 64.
unsigned defaultMaxConnectionsPerWorker(unsigned workers);

// One socket per worker and per type on the same port ("UDP and TCP on the same port"). Port 0 picks a port
// free for every type. With one worker nothing is shared, so no SO_REUSEPORT and no race: the kernel's pick
// is exclusive.
struct BoundSet {
  Endpoint endpoint;                  // with the concrete port
  std::vector<std::vector<int>> fds;  // fds[worker][type index]
};
Result<BoundSet, std::string> bindForWorkers(const Endpoint& ep, const std::vector<SocketType>& types,
                                             unsigned workers);

}  // namespace rdv::node
