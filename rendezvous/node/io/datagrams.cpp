#include <cerrno>

#include "rendezvous/node/io/worker_impl.h"

namespace rdv::node {

// UDP in, one batch per recvmmsg, and the flush after each batch. A batch's datagrams go to the Service
// (and the relay engine) together; what they produce is sent once, by sendAll(): the relayed data as
// slices of the batch's own buffer (relay::Forward), everything else from the Outgoing list.

int Worker::Impl::receive(int fd) {
  RecvBatch& r = *recv;
  for (size_t i = 0; i < kRecvBatch; ++i) {
    r.iov[i] = iovec{r.buffer.get() + i * kRecvSlot, kRecvSlot};
    msghdr& h = r.msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &r.names[i];
    h.msg_namelen = sizeof(sockaddr_storage);
    h.msg_iov = &r.iov[i];
    h.msg_iovlen = 1;
  }
  int n;
  do n = ::recvmmsg(fd, r.msgs, kRecvBatch, MSG_DONTWAIT, nullptr);
  while (n < 0 && errno == EINTR);
  return n;
}

void Worker::Impl::onReadable(UdpSocket& s) {
  for (size_t round = 0; round < kMaxBatchesPerWakeup && s.fd >= 0; ++round) {
    const int n = receive(s.fd);
    if (n <= 0) return;  // drained (EAGAIN), or an error the next readiness reports again
    clientBatch.clear();
    inputs.clear();
    for (int i = 0; i < n; ++i) {
      const msghdr& h = recv->msgs[i].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) {  // larger than a slot: cannot be a valid STUN/TURN datagram
        stats.udpMalformedDropped.add();
        continue;
      }
      auto source = Endpoint::fromSockaddr(reinterpret_cast<const sockaddr*>(h.msg_name));
      if (!source) continue;
      const ByteSpan bytes(static_cast<const uint8_t*>(h.msg_iov->iov_base), recv->msgs[i].msg_len);
      clientBatch.push_back(Service::Datagram{bytes, *source});
      inputs.push_back(bytes);
    }
    service.onDatagrams(clientBatch, s.local, s.index, now(), out);
    flush();
    if (static_cast<size_t>(n) < kRecvBatch) return;
  }
}

void Worker::Impl::onPeerReadable(RelaySocket& s) {
  for (size_t round = 0; round < kMaxBatchesPerWakeup && s.fd >= 0; ++round) {
    const int n = receive(s.fd);
    if (n <= 0) return;
    peerBatch.clear();
    inputs.clear();
    for (int i = 0; i < n; ++i) {
      const msghdr& h = recv->msgs[i].msg_hdr;
      if (h.msg_flags & MSG_TRUNC) continue;
      auto peer = Endpoint::fromSockaddr(reinterpret_cast<const sockaddr*>(h.msg_name));
      if (!peer) continue;
      const ByteSpan bytes(static_cast<const uint8_t*>(h.msg_iov->iov_base), recv->msgs[i].msg_len);
      peerBatch.push_back(relay::Server::PeerDatagram{bytes, *peer});
      inputs.push_back(bytes);
    }
    // The engine may release this very socket (a quota ends the allocation): keep what we need.
    const relay::RelayPort port = s.port;
    const bool full = static_cast<size_t>(n) == kRecvBatch;
    service.onPeerDatagrams(port, peerBatch, now(), out);
    flush();
    if (!full || relayAt(port) != &s) return;
  }
}

void Worker::Impl::flush() {
  // Sending can close connections (slow readers) and closing tells the engine, which may answer with
  // more commands: loop until both lists are empty. `sending` is swapped out so `out` can grow meanwhile.
  while (!out.empty() || !closedPeers.empty() || !service.forwards().empty()) {
    for (const auto& peer : closedPeers) service.onConnectionClosed(peer, now(), out);
    closedPeers.clear();
    sending.swap(out);
    sendAll();
  }
  if (poolLow) refillPrebound(2);  // after the answers went out
  armTimer();
}

void Worker::Impl::sendAll() {
  static constexpr uint8_t kZeros[4] = {0, 0, 0, 0};
  // 1. The relayed data: each Forward is its header, a slice of its input and its padding, gathered.
  for (const relay::Forward& f : service.forwards()) {
    if (f.input >= inputs.size() || size_t{f.offset} + f.length > inputs[f.input].size()) {
      stats.udpSendErrors.add();  // cannot happen: the engine cut the slice from this input
      continue;
    }
    iovec iov[3];
    uint32_t n = 0;
    if (f.headerSize) iov[n++] = iovec{const_cast<uint8_t*>(f.header.data()), f.headerSize};
    iov[n++] = iovec{const_cast<uint8_t*>(inputs[f.input].data() + f.offset), f.length};
    if (f.padding) iov[n++] = iovec{const_cast<uint8_t*>(kZeros), f.padding};
    if (f.to == relay::Forward::To::Peer) {
      RelaySocket* r = relayAt(f.relay);
      if (!r) {
        stats.udpSendErrors.add();
        continue;
      }
      queueUdp(r->fd, &r->gso, r, f.peer, f.dontFragment, iov, n);
    } else if (f.client.transport == Transport::Udp) {
      UdpSocket* u = listeningSocket(f.client.connectionId, f.client.server);
      if (!u) {
        stats.udpSendErrors.add();
        continue;
      }
      queueUdp(u->fd, &u->gso, nullptr, f.client.client, false, iov, n);
    } else if (auto it = connections.find(f.client.connectionId); it != connections.end()) {
      writeTo(*it->second, iov, n);
    }
  }
  // 2. Everything else, in order; relay sockets are released after the datagrams went out.
  for (auto& o : sending) {
    iovec v{o.bytes.data(), o.bytes.size()};
    switch (o.kind) {
      case Outgoing::Kind::Udp: {
        UdpSocket* u = listeningSocket(o.connection, o.from);
        if (u) queueUdp(u->fd, &u->gso, nullptr, o.to, false, &v, 1);
        else stats.udpSendErrors.add();
        break;
      }
      case Outgoing::Kind::Peer: {
        RelaySocket* r = relayAt(o.relay);
        if (r) queueUdp(r->fd, &r->gso, r, o.to, o.dontFragment, &v, 1);
        else stats.udpSendErrors.add();
        break;
      }
      case Outgoing::Kind::ReleaseRelay: break;
      case Outgoing::Kind::Stream:
        if (auto it = connections.find(o.connection); it != connections.end()) writeTo(*it->second, &v, 1);
        break;  // else: closed meanwhile
    }
  }
  sendQueued();
  for (auto& o : sending) {
    if (o.kind == Outgoing::Kind::ReleaseRelay) releaseRelay(o.relay);
    if (o.bytes.capacity() != 0) service.recycle(std::move(o.bytes));
  }
  sending.clear();
  service.clearForwards();
}

}  // namespace rdv::node
