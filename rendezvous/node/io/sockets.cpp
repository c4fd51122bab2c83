#include "rendezvous/node/io/sockets.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rdv::node {

namespace {
std::string errnoText(const char* what, const Endpoint& ep) {
  return std::string(what) + " " + ep.toString() + ": " + std::strerror(errno);
}
}  // namespace

Result<int, std::string> openBoundSocket(const Endpoint& ep, SocketType type, bool reusePort) {
  const int domain = ep.ip().isV4() ? AF_INET : AF_INET6;
  const int fd = ::socket(domain, (type == SocketType::Udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return unexpected(errnoText("socket for", ep));
  const int one = 1;
  if (type == SocketType::Tcp) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // TIME_WAIT
  if (reusePort && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    auto err = errnoText("SO_REUSEPORT on", ep);
    ::close(fd);
    return unexpected(err);
  }
  if (domain == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  sockaddr_storage ss;
  const unsigned len = ep.toSockaddr(ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    auto err = errnoText(type == SocketType::Udp ? "cannot bind UDP" : "cannot bind TCP", ep);
    ::close(fd);
    return unexpected(err);
  }
  return fd;
}

Result<Endpoint, std::string> localEndpointOf(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return unexpected(std::string("getsockname: ") + std::strerror(errno));
  auto ep = Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  if (!ep) return unexpected(std::string("getsockname: unknown address family"));
  return *ep;
}

void closeSocket(int fd) {
  if (fd >= 0) ::close(fd);
}

bool discardQueuedDatagrams(int fd, size_t batch, size_t maxBatches) {
  mmsghdr msgs[64] = {};  // no buffers: each datagram is consumed and truncated to nothing
  const auto want = static_cast<unsigned>(std::clamp<size_t>(batch, 1, 64));
  for (size_t round = 0; round < maxBatches;) {
    const int n = recvmmsg(fd, msgs, want, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno != EINTR) ++round;  // a queued error (an ICMP report), consumed by this call: read on
      continue;
    }
    if (static_cast<unsigned>(n) < want) return true;
    ++round;
  }
  return false;
}

namespace {

// A UDP listener takes every client's datagrams: room for a burst of them. The kernel's default (about
// 208 KiB) drops a burst of 1200-byte datagrams the worker has not read yet (UdpRcvbufErrors; seen in the
// veth bench at 256 in flight). SO_RCVBUFFORCE passes net.core.rmem_max when the node may (CAP_NET_ADMIN);
// otherwise SO_RCVBUF, which the kernel caps at rmem_max. A few listeners per worker: bounded kernel memory.
constexpr int kListenerReceiveBuffer = 4 << 20;

void growReceiveBuffer(int fd) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kListenerReceiveBuffer, sizeof(kListenerReceiveBuffer)) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kListenerReceiveBuffer, sizeof(kListenerReceiveBuffer));
}

// Binds every (worker, type) socket on `port` (0 only when there is a single worker: the first bind picks it).
Result<BoundSet, std::string> bindAll(const IpAddress& ip, uint16_t port, const std::vector<SocketType>& types,
                                      unsigned workers) {
  const bool reuse = workers > 1;
  BoundSet set{Endpoint(ip, port), {}};
  for (unsigned w = 0; w < workers; ++w) {
    set.fds.emplace_back();
    for (SocketType t : types) {
      auto fd = openBoundSocket(set.endpoint, t, reuse);
      if (!fd) {
        for (auto& row : set.fds)
          for (int f : row) closeSocket(f);
        return unexpected(fd.error());
      }
      set.fds.back().push_back(*fd);
      if (t == SocketType::Udp) growReceiveBuffer(*fd);
      if (set.endpoint.port() == 0) {
        auto bound = localEndpointOf(*fd);
        if (!bound) return unexpected(bound.error());
        set.endpoint = *bound;
      }
    }
  }
  return set;
}

}  // namespace

Result<BoundSet, std::string> bindForWorkers(const Endpoint& ep, const std::vector<SocketType>& types,
                                             unsigned workers) {
  if (types.empty() || workers == 0) return unexpected(std::string("nothing to bind"));
  if (ep.port() != 0) return bindAll(ep.ip(), ep.port(), types, workers);
  std::string lastError;
  for (int attempt = 0; attempt < 50; ++attempt) {
    uint16_t port = 0;
    if (workers > 1) {
      // SO_REUSEPORT sockets may be handed a port another reuse-port socket holds; probe exclusively.
      auto probe = openBoundSocket(ep, types.front(), false);
      if (!probe) return unexpected(probe.error());
      auto bound = localEndpointOf(*probe);
      closeSocket(*probe);
      if (!bound) return unexpected(bound.error());
      port = bound->port();
    }
    auto set = bindAll(ep.ip(), port, types, workers);
    if (set) return set;
    lastError = set.error();
  }
  return unexpected("no free port on " + ep.ip().toString() + ": " + lastError);
}

std::vector<IpAddress> interfaceAddresses() {
  std::vector<IpAddress> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || !(a->ifa_flags & IFF_UP)) continue;
    if (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6) continue;
    if (auto ep = Endpoint::fromSockaddr(a->ifa_addr)) {
      if (std::find(out.begin(), out.end(), ep->ip()) == out.end()) out.push_back(ep->ip());
    }
  }
  ::freeifaddrs(list);
  return out;
}

unsigned defaultMaxConnectionsPerWorker(unsigned workers) {
  rlimit rl{};
  uint64_t files = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) files = rl.rlim_cur;
  else if (rl.rlim_cur == RLIM_INFINITY) files = 1u << 20;
  const uint64_t perWorker = files / 2 / std::max(1u, workers);
  return static_cast<unsigned>(std::clamp<uint64_t>(perWorker, 64, 10000));
}

}  // namespace rdv::node
