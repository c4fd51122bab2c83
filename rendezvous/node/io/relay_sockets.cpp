#include "rendezvous/node/io/worker_impl.h"

#include <fcntl.h>
#include <unistd.h>

#include "rendezvous/node/io/sockets.h"

namespace rdv::node {

bool Worker::Impl::bind(relay::RelayPort relay, const Endpoint& local) {
  if (relaySockets.count(relay)) return false;
  auto fd = openBoundSocket(local, SocketType::Udp, false);
  if (!fd) return false;  // taken by another worker or process: the engine tries another port
  return wrapRelaySocket(relay, *fd);
}

bool Worker::Impl::park(relay::RelayPort relay) {
  auto it = relaySockets.find(relay);
  if (it == relaySockets.end()) return false;
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&it->second->handle), &fd) != 0) return false;
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);  // the loop closes its own descriptor below
  if (copy < 0) return false;
  parked.park(relay, copy);
  releaseRelay(relay);
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
  auto* s = new RelaySocket();
  s->port = relay;
  s->owner = this;
  uv_udp_init_ex(&loop, &s->handle, AF_UNSPEC | UV_UDP_RECVMMSG);
  s->handle.data = s;
  if (uv_udp_open(&s->handle, fd) != 0) {
    closeSocket(fd);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->handle), [](uv_handle_t* h) { delete static_cast<RelaySocket*>(h->data); });
    return false;
  }
  uv_udp_recv_start(
      &s->handle,
      &Impl::allocUdp,
      [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
        auto* rs = static_cast<RelaySocket*>(h->data);
        if (n < 0 || from == nullptr || (flags & UV_UDP_PARTIAL)) return;
        rs->owner->onPeerDatagram(*rs, ByteSpan(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(n)), from);
      });
  // Linux UDP sockets set DF by default (PMTUDISC_WANT); relayed datagrams may fragment unless the
  // client asked for DONT-FRAGMENT, so start from "off".
  s->dontFragment = true;
  setDontFragment(*s, false);
  relaySockets.emplace(relay, s);
  return true;
}

void Worker::Impl::setDontFragment(RelaySocket& s, bool on) {
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&s.handle), &fd) != 0) return;
  const int v4 = on ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
  const int v6 = on ? IPV6_PMTUDISC_DO : IPV6_PMTUDISC_DONT;
  const int r = s.port.family == Family::V4 ? setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4))
                                            : setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6));
  if (r == 0) s.dontFragment = on;
}

void Worker::Impl::releaseRelay(relay::RelayPort port) {
  auto it = relaySockets.find(port);
  if (it == relaySockets.end()) return;
  RelaySocket* s = it->second;
  relaySockets.erase(it);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->handle), [](uv_handle_t* h) { delete static_cast<RelaySocket*>(h->data); });
}

}  // namespace rdv::node
