#include "rendezvous/node/io/worker_impl.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "rendezvous/node/io/sockets.h"

namespace rdv::node {

size_t Worker::Impl::relaySlot(relay::RelayPort port) const {
  const relay::PortRange range = config.relayPorts;
  if (port.port < range.min || port.port > range.max) return SIZE_MAX;
  const size_t n = size_t{range.max} - range.min + 1;
  const size_t slot = (port.family == Family::V6 ? n : 0) + (port.port - range.min);
  return slot < relayByPort.size() ? slot : SIZE_MAX;
}

Worker::Impl::RelaySocket* Worker::Impl::relayAt(relay::RelayPort port) const {
  if (const size_t slot = relaySlot(port); slot != SIZE_MAX) return relayByPort[slot];
  const auto it = relaySockets.find(port);
  return it == relaySockets.end() ? nullptr : it->second;
}

bool Worker::Impl::bind(relay::RelayPort relay, const Endpoint& local) {
  if (relaySockets.count(relay)) return false;
  auto fd = openBoundSocket(local, SocketType::Udp, false);
  if (!fd) return false;  // taken by another worker or process: the engine tries another port
  return wrapRelaySocket(relay, *fd);
}

bool Worker::Impl::park(relay::RelayPort relay) {
  auto it = relaySockets.find(relay);
  if (it == relaySockets.end()) return false;
  const int copy = fcntl(it->second->fd, F_DUPFD_CLOEXEC, 0);  // the loop closes its own descriptor below
  if (copy < 0) return false;
  parked.park(relay, copy);
  releaseRelay(relay, false);  // the parked copy shares the socket: never into the pool
  return true;
}

bool Worker::Impl::adopt(relay::RelayPort relay) {
  auto taken = parked.take(relay);
  if (!taken) return false;
  const int fd = *taken;
  if (relaySockets.count(relay)) {
    close(fd);
    return false;
  }
  return wrapRelaySocket(relay, fd);
}

void Worker::Impl::discard(relay::RelayPort relay) { parked.discard(relay); }

bool Worker::Impl::wrapRelaySocket(relay::RelayPort relay, int fd) {
  RelaySocket* s = openRelaySocket(relay, fd);
  if (!s) return false;
  registerRelaySocket(s);
  return true;
}

Worker::Impl::RelaySocket* Worker::Impl::openRelaySocket(relay::RelayPort relay, int fd) {
  if (relayEpoll < 0 && !openRelayEpoll()) {
    closeSocket(fd);
    return nullptr;
  }
  auto* s = new RelaySocket();
  s->port = relay;
  s->fd = fd;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = s;
  if (epoll_ctl(relayEpoll, EPOLL_CTL_ADD, fd, &ev) != 0) {
    closeSocket(fd);
    delete s;
    return nullptr;
  }
  // Linux UDP sockets set DF by default (PMTUDISC_WANT); relayed datagrams may fragment unless the
  // client asked for DONT-FRAGMENT, so start from "off".
  s->dontFragment = true;
  setDontFragment(*s, false);
  return s;
}

void Worker::Impl::registerRelaySocket(RelaySocket* s) {
  relaySockets.emplace(s->port, s);
  if (const size_t slot = relaySlot(s->port); slot != SIZE_MAX) relayByPort[slot] = s;
}

void Worker::Impl::closeRelaySocket(RelaySocket* s) {
  epoll_ctl(relayEpoll, EPOLL_CTL_DEL, s->fd, nullptr);
  closeSocket(s->fd);
  s->fd = -1;
  if (dispatchingRelays) {
    closedRelays.push_back(s);  // an event for it may follow in the batch being dispatched
  } else {
    delete s;
  }
}

bool Worker::Impl::openRelayEpoll() {
  relayEpoll = epoll_create1(EPOLL_CLOEXEC);
  if (relayEpoll < 0) return false;
  if (uv_poll_init(&loop, &relayPoll, relayEpoll) != 0) {
    close(relayEpoll);
    relayEpoll = -1;
    return false;
  }
  relayPoll.data = this;
  uv_poll_start(&relayPoll, UV_READABLE, [](uv_poll_t* p, int status, int) {
    if (status == 0) static_cast<Impl*>(p->data)->onRelayEvents();
  });
  return true;
}

// Level-triggered: a socket onPeerReadable left data on is reported again on the next turn.
void Worker::Impl::onRelayEvents() {
  constexpr int kEvents = 64;
  epoll_event events[kEvents];
  const int n = epoll_wait(relayEpoll, events, kEvents, 0);
  dispatchingRelays = true;
  for (int i = 0; i < n; ++i) {
    auto* s = static_cast<RelaySocket*>(events[i].data.ptr);
    if (s->fd >= 0) onPeerReadable(*s);
  }
  dispatchingRelays = false;
  for (RelaySocket* s : closedRelays) delete s;
  closedRelays.clear();
}

void Worker::Impl::closeRelayEpoll() {
  if (relayEpoll < 0) return;
  auto* handle = reinterpret_cast<uv_handle_t*>(&relayPoll);
  if (uv_is_closing(handle)) return;
  uv_close(handle, [](uv_handle_t* h) {  // the descriptor closes once libuv stopped polling it
    auto* impl = static_cast<Impl*>(h->data);
    close(impl->relayEpoll);
    impl->relayEpoll = -1;
  });
}

void Worker::Impl::setDontFragment(RelaySocket& s, bool on) {
  const int fd = s.fd;
  const int v4 = on ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
  const int v6 = on ? IPV6_PMTUDISC_DO : IPV6_PMTUDISC_DONT;
  const int r = s.port.family == Family::V4 ? setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4))
                                            : setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6));
  if (r == 0) s.dontFragment = on;
}

void Worker::Impl::releaseRelay(relay::RelayPort port, bool recycle) {
  auto it = relaySockets.find(port);
  if (it == relaySockets.end()) return;
  RelaySocket* s = it->second;
  relaySockets.erase(it);
  if (const size_t slot = relaySlot(port); slot != SIZE_MAX) relayByPort[slot] = nullptr;
  if (!recycle || !recyclePrebound(s)) closeRelaySocket(s);
}

}  // namespace rdv::node
