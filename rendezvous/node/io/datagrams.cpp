#include "rendezvous/node/io/worker_impl.h"

namespace rdv::node {

// The send path. Everything a worker sends leaves here: the Service's Outgoing actions are performed in
// order by sendAll(), UDP to clients from the listening socket they came to, UDP to peers from the
// allocation's relay socket, stream bytes through the connection (and its TLS session).

void Worker::Impl::onDatagram(UdpSocket& s, ByteSpan bytes, const sockaddr* from) {
  auto source = Endpoint::fromSockaddr(from);
  if (!source) return;
  service.onDatagram(bytes, *source, s.local, now(), out);
  flush();
}

void Worker::Impl::onPeerDatagram(RelaySocket& s, ByteSpan bytes, const sockaddr* from) {
  auto peer = Endpoint::fromSockaddr(from);
  if (!peer) return;
  service.onPeerDatagram(s.port, *peer, bytes, now(), out);
  flush();
}

void Worker::Impl::flush() {
  // Sending can close connections (slow readers) and closing tells the engine, which may answer with
  // more commands: loop until both lists are empty. `sending` is swapped out so `out` can grow meanwhile.
  while (!out.empty() || !closedPeers.empty()) {
    for (const auto& peer : closedPeers) service.onConnectionClosed(peer, now(), out);
    closedPeers.clear();
    sending.swap(out);
    sendAll();
  }
  armTimer();
}

void Worker::Impl::sendAll() {
  for (auto& o : sending) {
    switch (o.kind) {
      case Outgoing::Kind::Udp: {
        UdpSocket* sock = nullptr;
        for (auto& u : udp)
          if (u->local == o.from) sock = u.get();
        sockaddr_storage ss;
        o.to.toSockaddr(ss);
        uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(o.bytes.data()), o.bytes.size());
        if (!sock || uv_udp_try_send(&sock->handle, &buf, 1, reinterpret_cast<sockaddr*>(&ss)) < 0)
          stats.udpSendErrors.add();
        break;
      }
      case Outgoing::Kind::Peer: {
        auto it = relaySockets.find(o.relay);
        // DONT-FRAGMENT (RFC 8656 §7.2, §10.2): set DF only for the datagrams that asked for it. The
        // setting is per socket; it changes only when the request changes, so this is rarely a syscall.
        if (it != relaySockets.end() && it->second->dontFragment != o.dontFragment) setDontFragment(*it->second, o.dontFragment);
        sockaddr_storage ss;
        o.to.toSockaddr(ss);
        uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(o.bytes.data()), o.bytes.size());
        if (it == relaySockets.end() || uv_udp_try_send(&it->second->handle, &buf, 1, reinterpret_cast<sockaddr*>(&ss)) < 0)
          stats.udpSendErrors.add();
        break;
      }
      case Outgoing::Kind::ReleaseRelay:
        releaseRelay(o.relay);
        break;
      case Outgoing::Kind::Stream: {
        auto it = connections.find(o.connection);
        if (it == connections.end()) break;  // closed meanwhile
        Connection& c = *it->second;
        if (c.tls) {
          if (!c.tls->send(o.bytes)) {
            closeConnection(c);
            break;
          }
          Bytes cipher = c.tls->takeOutgoing();
          if (!cipher.empty()) writeTo(c, std::move(cipher));
        } else {
          writeTo(c, std::move(o.bytes));
        }
        break;
      }
    }
    if (o.bytes.capacity() != 0) service.recycle(std::move(o.bytes));
  }
  sending.clear();
}

}  // namespace rdv::node
