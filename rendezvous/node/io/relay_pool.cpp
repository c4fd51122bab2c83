// Pre-bound relay sockets (issue 13 item 3): each worker keeps a few UDP sockets per relay family already
// bound on random ports of relay-ports, DF off and polled, so an Allocate takes one with no syscall; the
// pool is refilled after a batch's answers went out (flush), not between a request and its answer.
//
// The pool holds ports other workers cannot bind, so it exists only when the range is large (a small
// relay-ports range behaves exactly as without a pool). Its sockets are not live relays (peer policy
// rule 3): until an allocation takes one, nothing can reach it through the relay, and what arrives on it
// directly is dropped by the engine as for an unknown relay port.
//
// A released relay socket goes back into the pool instead of close() now and socket() + bind() +
// setsockopt() + epoll_ctl() at the next refill (five syscalls of the eight an Allocate cycle cost): it
// carries nothing of the old allocation. Its permissions, channels, fast-path entries and counters are
// the engine's, keyed by allocation, and ended with it; what the kernel queued on the socket is
// discarded here (recvmmsg into empty buffers) and DF is set back to off. It goes to the front of the
// pool, so the other pooled ports are handed out before its port comes round again (the pool is a queue:
// sockets enter at the front, fresh or recycled, and Allocates take from the back); a peer of the old
// allocation that still sends there is dropped as any peer without a permission. A socket still
// receiving after kDrainBatches batches (a flood), or released while the relay sockets' events are
// being dispatched (one may still be pending for it), is closed instead.
#include "rendezvous/node/io/worker_impl.h"

namespace rdv::node {

namespace {

constexpr size_t kPreboundPerFamily = 8;
constexpr uint32_t kMinRangeForPool = 1024;
constexpr int kBindAttemptsPerRefill = 4;
// Released sockets kept per family: a 64th of the range, at least the pool's size, at most 64 (a
// burst of Refreshes with LIFETIME 0 then a burst of Allocates reuses them instead of binding).
constexpr size_t kRecycledMax = 64;
constexpr size_t kDrainBatches = 4;  // of kRecvBatch datagrams

size_t familyIndex(Family f) { return f == Family::V4 ? 0 : 1; }

}  // namespace

size_t Worker::Impl::recycleLimit() const {
  const size_t share = config.relayPorts.size() / 64;
  return std::min(kRecycledMax, std::max(kPreboundPerFamily, share));
}

bool Worker::Impl::recyclePrebound(RelaySocket* s) {
  if (!poolEnabled() || dispatchingRelays || s->fd < 0 || !config.relayPorts.contains(s->port.port)) return false;
  auto& pool = prebound[familyIndex(s->port.family)];
  if (pool.size() >= recycleLimit()) return false;
  if (!discardQueuedDatagrams(s->fd, kRecvBatch, kDrainBatches)) return false;
  if (s->dontFragment) setDontFragment(*s, false);
  if (s->dontFragment) return false;
  pool.insert(pool.begin(), s);
  stats.relaySocketsRecycled.add();
  return true;
}

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
          pool.insert(pool.begin(), s);  // behind the sockets already waiting
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
