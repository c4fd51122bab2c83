#include "rendezvous/node/worker.h"

#include <netinet/in.h>
#include <uv.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "rendezvous/node/log.h"
#include "rendezvous/node/sockets.h"
#include "stun/channel_data.h"

namespace rdv::node {

namespace {

constexpr size_t kUdpRecvBuffer = 16 * 64 * 1024;  // recvmmsg: up to 16 datagrams of up to 64 KiB per call
constexpr size_t kStreamReadBuffer = 64 * 1024;
constexpr size_t kMaxWriteQueue = 4 * 1024 * 1024;  // a client that reads slower than this is dropped

}  // namespace

struct Worker::Impl final : relay::RelaySocketBinder {
  struct UdpSocket {
    uv_udp_t handle;
    Endpoint local;
    Impl* owner;
  };
  struct Listener {
    uv_tcp_t handle;
    Endpoint local;
    bool tls;
    Impl* owner;
  };
  struct Connection {
    uv_tcp_t handle;
    Impl* owner;
    StreamPeer peer;
    std::unique_ptr<TlsSession> tls;
    Bytes inbound;
    // Idleness is measured on complete frames (a byte now and then does not keep a connection open);
    // until the first frame, the first-frame deadline applies (it covers the TLS handshake too).
    uint64_t acceptedMs = 0;
    uint64_t lastFrameMs = 0;
    bool gotFrame = false;
    bool counted = false;  // holds a place in ConnectionsPerSource
  };
  // A relay socket (RFC 8656 §2.2 relayed transport address): bound on demand by the engine's Allocate,
  // closed when the engine releases it. Plain bind, no SO_REUSEPORT: a port taken elsewhere fails here.
  struct RelaySocket {
    uv_udp_t handle;
    relay::RelayPort port;
    Impl* owner;
    bool dontFragment = false;  // the socket's current DF setting (RFC 8656 DONT-FRAGMENT)
  };
  struct WriteRequest {
    uv_write_t req;
    Bytes data;
  };

  unsigned index;
  Config config;
  std::shared_ptr<TlsContext> tlsContext;
  WorkerSockets sockets;
  NodeStats stats;
  Service service;
  uv_loop_t loop;
  uv_async_t stopAsync;
  uv_timer_t tick;
  std::thread thread;
  bool loopInitialised = false;
  std::atomic<bool> stopSent{false};
  std::vector<std::unique_ptr<UdpSocket>> udp;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::unordered_map<uint64_t, Connection*> connections;
  uint64_t nextConnectionId = 1;
  Bytes udpBuffer = Bytes(kUdpRecvBuffer);
  Bytes streamBuffer = Bytes(kStreamReadBuffer);
  std::vector<Outgoing> out;
  std::vector<Outgoing> sending;
  std::vector<StreamPeer> closedPeers;

  std::unordered_map<relay::RelayPort, RelaySocket*> relaySockets;
  uint64_t armedAtMs = UINT64_MAX;  // when `tick` fires next
  uint64_t nextIdleSweepMs = 0;
  int64_t unixOffsetMs = 0;  // wall clock minus loop clock, read once at start

  std::shared_ptr<ConnectionsPerSource> perSource;  // node-wide (shared by the workers)

  Impl(unsigned i, const Config& c, stun::BindingConfig b, std::shared_ptr<const relay::Config> rc,
       std::shared_ptr<TlsContext> t, WorkerSockets s, MeteringSink* metering,
       std::shared_ptr<ConnectionsPerSource> perSourceCounts)
      : index(i), config(c), tlsContext(std::move(t)), sockets(std::move(s)),
        service(std::move(b), std::move(rc), *this, stats, metering),
        perSource(perSourceCounts ? std::move(perSourceCounts)
                                  : std::make_shared<ConnectionsPerSource>(c.tcpMaxConnectionsPerIp)) {
    if (config.maxConnectionsPerWorker == 0) config.maxConnectionsPerWorker = defaultMaxConnectionsPerWorker(1);
  }

  bool bind(relay::RelayPort relay, const Endpoint& local) override;
  bool park(relay::RelayPort relay) override;
  bool adopt(relay::RelayPort relay) override;
  void discard(relay::RelayPort relay) override;
  bool wrapRelaySocket(relay::RelayPort relay, int fd);
  void onPeerDatagram(RelaySocket& s, ByteSpan bytes, const sockaddr* from);
  void releaseRelay(relay::RelayPort port);
  void setDontFragment(RelaySocket& s, bool on);
  relay::Now now();
  void armTimer();

  bool open();
  // Every UDP socket of the worker (listening and relay) reads into the one per-worker buffer: the loop
  // runs one callback at a time, and each datagram is handled before the next read.
  static void allocUdp(uv_handle_t* h, size_t, uv_buf_t* buf) {
    auto* self = static_cast<Impl*>(h->loop->data);
    *buf = uv_buf_init(reinterpret_cast<char*>(self->udpBuffer.data()), self->udpBuffer.size());
  }
  void shutdown();
  void onDatagram(UdpSocket& s, ByteSpan bytes, const sockaddr* from);
  void onConnection(Listener& l);
  void onRead(Connection& c, ByteSpan bytes);
  bool drainFrames(Connection& c);
  void flush();
  void sendAll();
  void writeTo(Connection& c, Bytes bytes);
  void closeConnection(Connection& c);
  void onTick();
};

bool Worker::Impl::open() {
  if (int r = uv_loop_init(&loop); r != 0) {
    logEvent(Level::Error, "worker-start-failed", {{"worker", index}, {"reason", uv_strerror(r)}});
    return false;
  }
  loopInitialised = true;
  loop.data = this;
  uv_async_init(&loop, &stopAsync, [](uv_async_t* a) { static_cast<Impl*>(a->loop->data)->shutdown(); });
  uv_timer_init(&loop, &tick);
  uv_update_time(&loop);
  unixOffsetMs = static_cast<int64_t>(uv_now(&loop));
  {
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    unixOffsetMs = tv.tv_sec * 1000 + tv.tv_usec / 1000 - unixOffsetMs;
  }
  nextIdleSweepMs = uv_now(&loop) + 1000;
  armTimer();

  for (const auto& s : sockets.udp) {
    auto sock = std::make_unique<UdpSocket>();
    sock->local = s.local;
    sock->owner = this;
    uv_udp_init_ex(&loop, &sock->handle, AF_UNSPEC | UV_UDP_RECVMMSG);
    sock->handle.data = sock.get();
    if (int r = uv_udp_open(&sock->handle, s.fd); r != 0) {
      logEvent(Level::Error, "udp-open-failed", {{"address", s.local.toString()}, {"reason", uv_strerror(r)}});
      closeSocket(s.fd);
      uv_close(reinterpret_cast<uv_handle_t*>(&sock->handle), nullptr);
      udp.push_back(std::move(sock));
      return false;
    }
    uv_udp_recv_start(
        &sock->handle,
        &Impl::allocUdp,
        [](uv_udp_t* h, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned flags) {
          auto* s = static_cast<UdpSocket*>(h->data);
          if (n <= 0 || from == nullptr) return;  // nothing read, or an error libuv already handled
          if (flags & UV_UDP_PARTIAL) {           // truncated: cannot be a valid STUN/TURN datagram
            s->owner->stats.udpMalformedDropped.add();
            return;
          }
          s->owner->onDatagram(*s, ByteSpan(reinterpret_cast<const uint8_t*>(buf->base), static_cast<size_t>(n)), from);
        });
    udp.push_back(std::move(sock));
  }

  for (const auto& s : sockets.stream) {
    auto l = std::make_unique<Listener>();
    l->local = s.local;
    l->tls = s.tls;
    l->owner = this;
    uv_tcp_init(&loop, &l->handle);
    l->handle.data = l.get();
    int r = uv_tcp_open(&l->handle, s.fd);
    if (r == 0)
      r = uv_listen(reinterpret_cast<uv_stream_t*>(&l->handle), 1024, [](uv_stream_t* server, int status) {
        if (status == 0) {
          auto* listener = static_cast<Listener*>(server->data);
          listener->owner->onConnection(*listener);
        }
      });
    if (r != 0) {
      logEvent(Level::Error, "tcp-listen-failed", {{"address", s.local.toString()}, {"reason", uv_strerror(r)}});
      uv_close(reinterpret_cast<uv_handle_t*>(&l->handle), nullptr);
      listeners.push_back(std::move(l));
      return false;
    }
    listeners.push_back(std::move(l));
  }
  return true;
}

void Worker::Impl::shutdown() {
  // Every allocation ends as "shutdown" first, so metering is exact on SIGTERM (issue 7); its relay
  // sockets are released by the flush.
  if (loopInitialised && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick))) {
    service.endAll(now(), out);
    flush();
  }
  auto closeHandle = [](auto* h) {
    auto* handle = reinterpret_cast<uv_handle_t*>(h);
    if (!uv_is_closing(handle)) uv_close(handle, nullptr);
  };
  for (auto& s : udp) closeHandle(&s->handle);
  for (auto& l : listeners) closeHandle(&l->handle);
  std::vector<Connection*> open;
  for (auto& [id, c] : connections) open.push_back(c);
  for (auto* c : open) closeConnection(*c);
  std::vector<relay::RelayPort> relays;
  for (auto& [port, sock] : relaySockets) relays.push_back(port);
  for (auto port : relays) releaseRelay(port);
  closeHandle(&tick);
  closeHandle(&stopAsync);
}

void Worker::Impl::onDatagram(UdpSocket& s, ByteSpan bytes, const sockaddr* from) {
  auto source = Endpoint::fromSockaddr(from);
  if (!source) return;
  service.onDatagram(bytes, *source, s.local, now(), out);
  flush();
}

relay::Now Worker::Impl::now() {
  const uint64_t ms = uv_now(&loop);
  return relay::Now{relay::Instant(std::chrono::milliseconds(ms)),
                    (static_cast<int64_t>(ms) + unixOffsetMs) / 1000};
}

bool Worker::Impl::bind(relay::RelayPort relay, const Endpoint& local) {
  if (relaySockets.count(relay)) return false;
  auto fd = openBoundSocket(local, SocketType::Udp, false);
  if (!fd) return false;  // taken by another worker or process: the engine tries another port
  return wrapRelaySocket(relay, *fd);
}

// Reserved relay ports (EVEN-PORT R bit) waiting for their RESERVATION-TOKEN, process-wide: the claiming
// Allocate may reach any worker. The socket stays bound (the port stays ours) but no loop reads it.
namespace {
std::mutex parkedMutex;
std::unordered_map<relay::RelayPort, int> parkedSockets;
}  // namespace

bool Worker::Impl::park(relay::RelayPort relay) {
  auto it = relaySockets.find(relay);
  if (it == relaySockets.end()) return false;
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&it->second->handle), &fd) != 0) return false;
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);  // the loop closes its own descriptor below
  if (copy < 0) return false;
  {
    std::lock_guard lock(parkedMutex);
    if (auto old = parkedSockets.find(relay); old != parkedSockets.end()) close(old->second);
    parkedSockets[relay] = copy;
  }
  releaseRelay(relay);
  return true;
}

bool Worker::Impl::adopt(relay::RelayPort relay) {
  int fd = -1;
  {
    std::lock_guard lock(parkedMutex);
    auto it = parkedSockets.find(relay);
    if (it == parkedSockets.end()) return false;
    fd = it->second;
    parkedSockets.erase(it);
  }
  if (relaySockets.count(relay)) {
    close(fd);
    return false;
  }
  return wrapRelaySocket(relay, fd);
}

void Worker::Impl::discard(relay::RelayPort relay) {
  std::lock_guard lock(parkedMutex);
  auto it = parkedSockets.find(relay);
  if (it == parkedSockets.end()) return;
  close(it->second);
  parkedSockets.erase(it);
}

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

void Worker::Impl::onPeerDatagram(RelaySocket& s, ByteSpan bytes, const sockaddr* from) {
  auto peer = Endpoint::fromSockaddr(from);
  if (!peer) return;
  service.onPeerDatagram(s.port, *peer, bytes, now(), out);
  flush();
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

// One timer per worker (STYLE 3): re-armed only when the engine's next deadline moves earlier, so the
// per-packet path does no timer work in the common case.
void Worker::Impl::armTimer() {
  if (uv_is_closing(reinterpret_cast<uv_handle_t*>(&tick))) return;
  const uint64_t nowMs = uv_now(&loop);
  uint64_t due = nextIdleSweepMs;
  if (auto d = service.nextDeadline()) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d->time_since_epoch()).count();
    due = std::min<uint64_t>(due, ms < 0 ? 0 : static_cast<uint64_t>(ms));
  }
  if (due >= armedAtMs) return;
  armedAtMs = due;
  uv_timer_start(&tick, [](uv_timer_t* t) { static_cast<Impl*>(t->loop->data)->onTick(); },
                 due > nowMs ? due - nowMs : 0, 0);
}

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

void Worker::Impl::onTick() {
  armedAtMs = UINT64_MAX;
  const uint64_t nowMs = uv_now(&loop);
  if (nowMs >= nextIdleSweepMs) {
    nextIdleSweepMs = nowMs + 1000;
    const uint64_t idleMs = uint64_t{config.tcpIdleTimeoutSeconds} * 1000;
    const uint64_t firstFrameMs = uint64_t{config.tcpFirstFrameTimeoutSeconds} * 1000;
    std::vector<Connection*> idle, silent;
    for (auto& [id, c] : connections) {
      if (!c->gotFrame && nowMs - c->acceptedMs > firstFrameMs) silent.push_back(c);  // handshake or first frame late
      else if (nowMs - c->lastFrameMs > idleMs) idle.push_back(c);  // no complete frame for a while
    }
    for (auto* c : silent) {
      stats.tcpFirstFrameClosed.add();
      closeConnection(*c);
    }
    for (auto* c : idle) {
      stats.tcpIdleClosed.add();
      closeConnection(*c);
    }
  }
  service.onTimeout(now(), out);
  flush();  // re-arms the timer
}

Worker::Worker(unsigned index, const Config& config, stun::BindingConfig binding,
               std::shared_ptr<const relay::Config> relayConfig, std::shared_ptr<TlsContext> tls, WorkerSockets sockets,
               MeteringSink* metering, std::shared_ptr<ConnectionsPerSource> perSource)
    : impl_(std::make_unique<Impl>(index, config, std::move(binding), std::move(relayConfig), std::move(tls),
                                   std::move(sockets), metering, std::move(perSource))) {}

Worker::~Worker() {
  requestStop();
  join();
  if (impl_->loopInitialised) {
    uv_run(&impl_->loop, UV_RUN_DEFAULT);  // let close callbacks of a failed start finish
    uv_loop_close(&impl_->loop);
  }
}

bool Worker::start() {
  if (!impl_->open()) {
    impl_->shutdown();
    return false;
  }
  impl_->thread = std::thread([impl = impl_.get()] { uv_run(&impl->loop, UV_RUN_DEFAULT); });
  return true;
}

void Worker::requestStop() {
  // Called from the owning (main) thread only; the async handle lives until the loop handles the stop.
  if (impl_->thread.joinable() && !impl_->stopSent.exchange(true)) uv_async_send(&impl_->stopAsync);
}

void Worker::join() {
  if (impl_->thread.joinable()) impl_->thread.join();
}

const NodeStats& Worker::stats() const { return impl_->stats; }
const relay::Stats& Worker::relayStats() const { return impl_->service.relayStats(); }

}  // namespace rdv::node
