// Pre-bound relay sockets (issue 13 item 3): each worker keeps a few UDP sockets per relay family already
// bound on random ports of relay-ports, DF off and polled, so an Allocate takes one with no syscall; the
// pool is refilled after a batch's answers went out (flush), not between a request and its answer.
//
// The pool holds ports other workers cannot bind, so it exists only when the range is large (a small
// relay-ports range behaves exactly as without a pool). Its sockets are not live relays (peer policy
// rule 3): until an allocation takes one, nothing can reach it through the relay, and what arrives on it
// directly is dropped by the engine as for an unknown relay port. A released relay socket is closed,
// never returned to the pool: its port was handed to peers.
#include "rendezvous/node/io/worker_impl.h"

namespace rdv::node {

namespace {

constexpr size_t kPreboundPerFamily = 8;
constexpr uint32_t kMinRangeForPool = 1024;
constexpr int kBindAttemptsPerRefill = 4;

size_t familyIndex(Family f) { return f == Family::V4 ? 0 : 1; }

}  // namespace

bool Worker::Impl::poolEnabled() const { return relayConfig && config.relayPorts.size() >= kMinRangeForPool; }

std::optional<relay::RelayPort> Worker::Impl::takePrebound(Family f) {
  auto& pool = prebound[familyIndex(f)];
  if (pool.empty()) return std::nullopt;
  RelaySocket* s = pool.back();
  pool.pop_back();
  registerRelaySocket(s);
  poolLow = true;
  return s->port;
}

void Worker::Impl::refillPrebound(size_t atMost) {
  poolLow = false;
  if (!poolEnabled()) return;
  const relay::PortRange range = config.relayPorts;
  for (const Family f : {Family::V4, Family::V6}) {
    const auto& address = relayConfig->relayFor(f);
    auto& pool = prebound[familyIndex(f)];
    if (!address) continue;
    for (size_t added = 0; added < atMost && pool.size() < kPreboundPerFamily; ++added) {
      bool bound = false;
      for (int attempt = 0; attempt < kBindAttemptsPerRefill && !bound; ++attempt) {
        const relay::RelayPort port{f, static_cast<uint16_t>(range.min + poolRng.below(range.size()))};
        if (relaySockets.count(port) != 0) continue;
        bool pooled = false;
        for (const RelaySocket* p : pool) pooled = pooled || p->port == port;
        if (pooled) continue;
        auto fd = openBoundSocket(Endpoint(address->local, port.port), SocketType::Udp, false);
        if (!fd) continue;  // taken by another worker or process
        if (RelaySocket* s = openRelaySocket(port, *fd)) {
          pool.push_back(s);
          bound = true;
        }
      }
      if (!bound) break;
    }
    if (pool.size() < kPreboundPerFamily) poolLow = true;
  }
}

void Worker::Impl::closePrebound() {
  for (auto& pool : prebound) {
    for (RelaySocket* s : pool) closeRelaySocket(s);
    pool.clear();
  }
}

}  // namespace rdv::node
