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
    c.tls->takeOutgoing(tlsOut);  // handshake messages, alerts
    if (!tlsOut.empty()) writeRaw(c, tlsOut);
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
  // The frames of this read are the batch: the relayed ones go out as slices of c.inbound, so it is
  // trimmed only after the flush. (A closing connection is freed by its close callback, later.)
  size_t consumed = 0;
  const bool ok = drainFrames(c, consumed);
  if (!ok) {
    stats.tcpMalformedClosed.add();
    closeConnection(c);
  }
  flush();
  if (ok) c.inbound.erase(c.inbound.begin(), c.inbound.begin() + static_cast<std::ptrdiff_t>(consumed));
}

bool Worker::Impl::drainFrames(Connection& c, size_t& consumed) {
  inputs.clear();
  while (true) {
    ByteSpan rest = ByteSpan(c.inbound).subspan(consumed);
    auto frame = stun::nextFrame(rest);
    if (!frame) return false;
    if (!frame->has_value()) break;
    const ByteSpan bytes = rest.first((*frame)->size);
    inputs.push_back(bytes);
    if (!service.onStreamFrame(bytes, c.peer, static_cast<uint32_t>(inputs.size() - 1), now(), out)) return false;
    consumed += (*frame)->size;
    c.gotFrame = true;
    c.lastFrameMs = uv_now(&loop);
  }
  return true;
}

void Worker::Impl::writeTo(Connection& c, const iovec* iov, size_t count) {
  if (!c.tls) {
    writeRaw(c, iov, count);
    return;
  }
  // One TLS record for the whole message: gather it first (a pooled scratch buffer).
  tlsPlain.clear();
  for (size_t i = 0; i < count; ++i) {
    const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
    tlsPlain.insert(tlsPlain.end(), p, p + iov[i].iov_len);
  }
  if (!c.tls->send(tlsPlain)) {
    closeConnection(c);
    return;
  }
  c.tls->takeOutgoing(tlsOut);
  if (!tlsOut.empty()) writeRaw(c, tlsOut);
}

// Writes at once what the socket takes (uv_try_write: no copy, no request); the rest waits in a pooled
// WriteRequest. A client whose queue passes kMaxWriteQueue is dropped.
void Worker::Impl::writeRaw(Connection& c, const iovec* iov, size_t count) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&c.handle);
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&c.handle))) return;
  constexpr size_t kMaxPieces = 4;
  if (count > kMaxPieces) return;  // the callers pass at most 3
  uv_buf_t bufs[kMaxPieces];
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) {
    bufs[i] = uv_buf_init(static_cast<char*>(iov[i].iov_base), static_cast<unsigned>(iov[i].iov_len));
    total += iov[i].iov_len;
  }
  size_t written = 0;
  if (uv_stream_get_write_queue_size(stream) == 0) {
    const int r = uv_try_write(stream, bufs, static_cast<unsigned>(count));
    if (r >= 0) {
      written = static_cast<size_t>(r);
    } else if (r != UV_EAGAIN) {
      closeConnection(c);
      return;
    }
  } else if (uv_stream_get_write_queue_size(stream) > kMaxWriteQueue) {
    stats.tcpSlowReaderClosed.add();
    closeConnection(c);
    return;
  }
  if (written == total) return;
  WriteRequest* w = nullptr;
  if (!writePool.empty()) {
    w = writePool.back();
    writePool.pop_back();
    w->data.clear();
  } else {
    w = new WriteRequest();
    w->owner = this;
  }
  for (size_t i = 0, skip = written; i < count; ++i) {
    const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
    const size_t n = iov[i].iov_len;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    w->data.insert(w->data.end(), p + skip, p + n);
    skip = 0;
  }
  uv_buf_t buf = uv_buf_init(reinterpret_cast<char*>(w->data.data()), w->data.size());
  const int r = uv_write(&w->req, stream, &buf, 1, [](uv_write_t* req, int) {
    auto* done = reinterpret_cast<WriteRequest*>(req);
    done->owner->recycleWrite(done);
  });
  if (r != 0) {
    recycleWrite(w);
    closeConnection(c);
  }
}

void Worker::Impl::recycleWrite(WriteRequest* w) {
  constexpr size_t kMaxPooledWrites = 256;
  constexpr size_t kMaxPooledBytes = 256 * 1024;  // a huge one is freed, not kept
  if (writePool.size() < kMaxPooledWrites && w->data.capacity() <= kMaxPooledBytes) {
    writePool.push_back(w);
  } else {
    delete w;
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
