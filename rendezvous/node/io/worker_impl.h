// The worker's insides, shared by the files of io/ that implement it (not included elsewhere):
//   worker.cpp         the loop: start, stop, the clock and the one timer
//   datagrams.cpp      UDP in (listening and relay sockets) and the send path (flush, sendAll)
//   relay_sockets.cpp  relay sockets bound on demand for the engine, parked ones (EVEN-PORT)
//   streams.cpp        TCP/TLS connections and their STUN framing (RFC 6062 framing, RFC 8656 §3.1)
// libuv stays inside these files.
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "rendezvous/node/io/parked_sockets.h"
#include "rendezvous/node/io/sockets.h"
#include "rendezvous/node/io/worker.h"

namespace rdv::node {

constexpr size_t kUdpRecvBuffer = 16 * 64 * 1024;  // recvmmsg: up to 16 datagrams of up to 64 KiB per call
constexpr size_t kStreamReadBuffer = 64 * 1024;
constexpr size_t kMaxWriteQueue = 4 * 1024 * 1024;  // a client that reads slower than this is dropped

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
  ParkedSockets& parked;
  std::shared_ptr<TlsContext> tlsContext;
  WorkerSockets sockets;
  NodeStats stats;
  Service service;
  uv_loop_t loop;
  uv_async_t stopAsync;
  uv_async_t reloadAsync;  // a reload waits in `pending` (worker.cpp: applyReload)
  struct PendingReload {
    std::shared_ptr<const relay::Config> relay;
    std::shared_ptr<TlsContext> tls;
  };
  std::mutex pendingMutex;
  std::optional<PendingReload> pending;
  std::vector<Worker::Task> tasks;  // post(): run by applyReload on the loop
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

  Impl(unsigned i, const Config& c, ParkedSockets& p, stun::BindingConfig b, std::shared_ptr<const relay::Config> rc,
       std::shared_ptr<TlsContext> t, WorkerSockets s, MeteringSink* metering,
       std::shared_ptr<ConnectionsPerSource> perSourceCounts)
      : index(i), config(c), parked(p), tlsContext(std::move(t)), sockets(std::move(s)),
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
  void applyReload();
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

}  // namespace rdv::node
