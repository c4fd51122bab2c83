#include "rendezvous/node/io/worker_impl.h"

#include "rendezvous/node/log.h"
#include "stun/channel_data.h"

namespace rdv::node {

void Worker::Impl::onConnection(Listener& l) {
  auto* c = new Connection();
  c->owner = this;
  uv_tcp_init(&loop, &c->handle);
  c->handle.data = c;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&l.handle), reinterpret_cast<uv_stream_t*>(&c->handle)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&c->handle), [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
    return;
  }
  auto refuse = [&](Counter& counter) {
    counter.add();
    uv_close(reinterpret_cast<uv_handle_t*>(&c->handle), [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
  };
  if (connections.size() >= config.maxConnectionsPerWorker) return refuse(stats.tcpRefused);
  sockaddr_storage ss;
  int len = sizeof(ss);
  uv_tcp_getpeername(&c->handle, reinterpret_cast<sockaddr*>(&ss), &len);
  c->peer.remote = Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).value_or(Endpoint());
  // Per source (node-wide): one address cannot hold every connection slot.
  if (!perSource->tryAdd(c->peer.remote.ip())) return refuse(stats.tcpPerIpRefused);
  c->counted = true;
  stats.tcpAccepted.add();
  len = sizeof(ss);
  uv_tcp_getsockname(&c->handle, reinterpret_cast<sockaddr*>(&ss), &len);
  c->peer.local = Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).value_or(l.local);
  c->peer.connection = nextConnectionId++;
  c->peer.transport = l.tls ? Transport::Tls : Transport::Tcp;
  if (l.tls) c->tls = std::make_unique<TlsSession>(tlsContext);
  c->acceptedMs = uv_now(&loop);
  c->lastFrameMs = c->acceptedMs;
  uv_tcp_nodelay(&c->handle, 1);
  connections.emplace(c->peer.connection, c);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->handle),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<Connection*>(h->data)->owner;
        *buf = uv_buf_init(reinterpret_cast<char*>(self->streamBuffer.data()), self->streamBuffer.size());
      },
      [](uv_stream_t* h, ssize_t n, const uv_buf_t* buf) {
        auto* conn = static_cast<Connection*>(h->data);
        if (n < 0) {
          Impl* self = conn->owner;
          self->closeConnection(*conn);
          self->flush();
          return;
        }
        if (n > 0)
          conn->owner->onRead(*conn, ByteSpan(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(n)));
      });
}

void Worker::Impl::onRead(Connection& c, ByteSpan bytes) {
  if (c.tls) {
    const bool ok = c.tls->receive(bytes, c.inbound);
    Bytes cipher = c.tls->takeOutgoing();  // handshake messages, alerts
    if (!cipher.empty()) writeTo(c, std::move(cipher));
    if (!ok) {
      if (!c.tls->handshakeDone()) {
        stats.tlsHandshakeFailures.add();
        logEvent(Level::Debug, "tls-handshake-failed", {{"peer", c.peer.remote.toString()}, {"reason", c.tls->error()}});
      }
      closeConnection(c);
      return;
    }
  } else {
    c.inbound.insert(c.inbound.end(), bytes.begin(), bytes.end());
  }
  if (!drainFrames(c)) {
    stats.tcpMalformedClosed.add();
    closeConnection(c);
    return;
  }
  flush();
}

bool Worker::Impl::drainFrames(Connection& c) {
  size_t consumed = 0;
  while (true) {
    ByteSpan rest = ByteSpan(c.inbound).subspan(consumed);
    auto frame = stun::nextFrame(rest);
    if (!frame) return false;
    if (!frame->has_value()) break;
    if (!service.onStreamFrame(rest.first((*frame)->size), c.peer, now(), out)) return false;
    consumed += (*frame)->size;
    c.gotFrame = true;
    c.lastFrameMs = uv_now(&loop);
  }
  c.inbound.erase(c.inbound.begin(), c.inbound.begin() + static_cast<std::ptrdiff_t>(consumed));
  return true;
}

void Worker::Impl::writeTo(Connection& c, Bytes bytes) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&c.handle);
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&c.handle))) return;
  if (uv_stream_get_write_queue_size(stream) > kMaxWriteQueue) {
    stats.tcpSlowReaderClosed.add();
    closeConnection(c);
    return;
  }
  auto* w = new WriteRequest();
  w->data = std::move(bytes);
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->data.data()), w->data.size());
  if (uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int) { delete reinterpret_cast<WriteRequest*>(req); }) != 0) {
    delete w;
    closeConnection(c);
  }
}

void Worker::Impl::closeConnection(Connection& c) {
  auto* handle = reinterpret_cast<uv_handle_t*>(&c.handle);
  if (uv_is_closing(handle)) return;
  connections.erase(c.peer.connection);
  if (c.counted) perSource->remove(c.peer.remote.ip());
  c.counted = false;
  closedPeers.push_back(c.peer);  // the engine ends the connection's allocation (RFC 8656 §3.1)
  uv_close(handle, [](uv_handle_t* h) { delete static_cast<Connection*>(h->data); });
}

}  // namespace rdv::node
