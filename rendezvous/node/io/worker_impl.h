// The worker's insides, shared by the files of io/ that implement it (not included elsewhere):
//   worker.cpp         the loop: start, stop, the clock and the one timer
//   datagrams.cpp      UDP in, a batch per recvmmsg (listening and relay sockets), and flush()
//   udp_send.cpp       the send path: sendAll(), sendmmsg with UDP GSO per socket (send_plan.h)
//   relay_sockets.cpp  relay sockets bound on demand for the engine, parked ones (EVEN-PORT)
//   relay_pool.cpp     relay sockets bound ahead of time (a few per family), taken by Allocates
//   streams.cpp        TCP/TLS connections and their STUN framing (RFC 6062 framing, RFC 8656 §3.1)
// libuv stays inside these files.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <uv.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "rendezvous/node/io/parked_sockets.h"
#include "rendezvous/node/io/send_plan.h"
#include "rendezvous/node/io/sockets.h"
#include "rendezvous/node/io/worker.h"

namespace rdv::node {

constexpr size_t kRecvBatch = 32;                 // recvmmsg: up to 32 datagrams per call...
constexpr size_t kRecvSlot = 64 * 1024;           // ...of up to 64 KiB each
constexpr size_t kMaxBatchesPerWakeup = 4;        // then the loop serves the other sockets
constexpr size_t kStreamReadBuffer = 64 * 1024;
constexpr size_t kMaxWriteQueue = 4 * 1024 * 1024;  // a client that reads slower than this is dropped

struct Worker::Impl final : relay::RelaySocketBinder {
  // Every UDP socket (listening or relay) is a non-blocking fd polled by the loop; the worker reads it
  // with recvmmsg and writes it with sendmmsg itself (libuv 1.44 has neither a batch send nor GSO).
  // `gso` drops to false for good once the kernel refused GSO on the socket (EIO/EINVAL).
  struct UdpSocket {
    uv_poll_t poll;
    int fd = -1;
    Endpoint local;
    Impl* owner;
    uint32_t index = 0;  // in `udp`: the ClientTuple's connection id for UDP clients of this socket
    bool gso = true;
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
  // No libuv handle of its own (a uv_poll_t is 160 bytes, most of a relay socket's memory): every relay
  // socket of the worker is in one epoll set (relayEpoll), which the loop polls as one descriptor.
  struct RelaySocket {
    int fd = -1;  // -1 once closed (an event already read for it is then skipped)
    relay::RelayPort port;
    bool dontFragment = false;  // the socket's current DF setting (RFC 8656 DONT-FRAGMENT)
    bool gso = true;
  };
  // A stream write that could not complete at once: its bytes wait in `data`. Pooled (writePool), so a
  // relayed packet allocates nothing once the pool is warm.
  struct WriteRequest {
    uv_write_t req;
    Impl* owner;
    Bytes data;
  };
  // The receive side of one recvmmsg: slots of kRecvSlot bytes (left untouched until used, so idle
  // workers do not pay for them in RSS).
  struct RecvBatch {
    std::unique_ptr<uint8_t[]> buffer{new uint8_t[kRecvBatch * kRecvSlot]};
    mmsghdr msgs[kRecvBatch];
    iovec iov[kRecvBatch];
    sockaddr_storage names[kRecvBatch];
  };
  // One datagram of a send batch, as iovecs over its pieces (header, payload slice, padding).
  struct SendPiece {
    int fd = -1;
    bool* gso = nullptr;          // the socket's GSO flag
    RelaySocket* relay = nullptr;  // set for relay sockets (DF)
    sockaddr_storage to;
    socklen_t toLen = 0;
    uint32_t iovFirst = 0;
    uint32_t iovCount = 0;
  };
  struct SendState {
    std::vector<SendItem> items;
    std::vector<SendPiece> pieces;
    std::vector<iovec> iovs;
    std::vector<uint32_t> order;
    std::vector<SendRun> runs;
    std::vector<mmsghdr> msgs;
    std::vector<uint32_t> runOf;  // the run each message of `msgs` carries
    std::vector<iovec> msgIovs;
    std::vector<std::array<uint64_t, 4>> control;  // one cmsg (UDP_SEGMENT) per message, aligned
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
  std::unique_ptr<RecvBatch> recv = std::make_unique<RecvBatch>();
  // The current batch's inputs (datagrams or stream frames): Forward::input indexes this.
  std::vector<ByteSpan> inputs;
  std::vector<Service::Datagram> clientBatch;
  std::vector<relay::Server::PeerDatagram> peerBatch;
  SendState send;
  std::vector<WriteRequest*> writePool;
  Bytes tlsPlain;  // a TLS message gathered before encryption
  Bytes tlsOut;    // ciphertext waiting for writeRaw
  Bytes streamBuffer = Bytes(kStreamReadBuffer);
  std::vector<Outgoing> out;
  std::vector<Outgoing> sending;
  std::vector<StreamPeer> closedPeers;

  std::unordered_map<relay::RelayPort, RelaySocket*> relaySockets;
  // relay_sockets.cpp: the epoll set of every relay socket (pooled ones too), polled by the loop through
  // relayPoll. Sockets closed while its events are dispatched are freed after the dispatch (closedRelays).
  int relayEpoll = -1;
  uv_poll_t relayPoll;
  bool dispatchingRelays = false;
  std::vector<RelaySocket*> closedRelays;
  // Why: the send path finds a relay socket by index, not by hashing: slot (family, port - min) of the
  // relay port range. relaySockets stays the owner list (and covers ports outside the range).
  std::vector<RelaySocket*> relayByPort;
  // relay_pool.cpp: pre-bound relay sockets by family (V4, V6); poolLow: one was taken since the refill.
  // A released relay socket goes back to the front of its pool (recyclePrebound), up to recycleLimit.
  std::shared_ptr<const relay::Config> relayConfig;
  std::vector<RelaySocket*> prebound[2];
  relay::CryptoRng poolRng;
  bool poolLow = true;
  uint64_t armedAtMs = UINT64_MAX;  // when `tick` fires next
  uint64_t nextIdleSweepMs = 0;
  int64_t unixOffsetMs = 0;  // wall clock minus loop clock, read once at start
  std::shared_ptr<ConnectionsPerSource> perSource;  // node-wide (shared by the workers)

  Impl(unsigned i, const Config& c, ParkedSockets& p, stun::BindingConfig b, std::shared_ptr<const relay::Config> rc,
       std::shared_ptr<TlsContext> t, WorkerSockets s, MeteringSink* metering,
       std::shared_ptr<ConnectionsPerSource> perSourceCounts)
      : index(i), config(c), parked(p), tlsContext(std::move(t)), sockets(std::move(s)),
        service(std::move(b), rc, *this, stats, metering),
        perSource(perSourceCounts ? std::move(perSourceCounts)
                                  : std::make_shared<ConnectionsPerSource>(c.tcpMaxConnectionsPerIp)) {
    if (config.maxConnectionsPerWorker == 0) config.maxConnectionsPerWorker = defaultMaxConnectionsPerWorker(1);
    relayConfig = std::move(rc);
  }
  ~Impl() override {
    for (WriteRequest* w : writePool) delete w;
  }

  bool bind(relay::RelayPort relay, const Endpoint& local) override;
  bool park(relay::RelayPort relay) override;
  bool adopt(relay::RelayPort relay) override;
  void discard(relay::RelayPort relay) override;
  std::optional<relay::RelayPort> takePrebound(Family f) override;
  bool wrapRelaySocket(relay::RelayPort relay, int fd);
  RelaySocket* openRelaySocket(relay::RelayPort relay, int fd);  // polled, DF off, not yet the engine's
  void registerRelaySocket(RelaySocket* s);
  void closeRelaySocket(RelaySocket* s);
  bool openRelayEpoll();
  void onRelayEvents();
  void closeRelayEpoll();
  bool poolEnabled() const;
  void refillPrebound(size_t atMost);
  bool recyclePrebound(RelaySocket* s);
  size_t recycleLimit() const;  // a released relay socket back into the pool, emptied; false: close it
  void closePrebound();
  void onPeerReadable(RelaySocket& s);
  RelaySocket* relayAt(relay::RelayPort port) const;
  size_t relaySlot(relay::RelayPort port) const;
  // Takes the socket from the engine's ports: back into the pool when `recycle` allows it, else closed.
  void releaseRelay(relay::RelayPort port, bool recycle = true);
  void setDontFragment(RelaySocket& s, bool on);
  relay::Now now();
  void armTimer();

  bool open();
  // Every UDP socket of the worker (listening and relay) reads into the one per-worker RecvBatch: the
  // loop runs one callback at a time, and a batch is handled and sent before the next read.
  int receive(int fd);
  void shutdown();
  void onReadable(UdpSocket& s);
  void applyReload();
  void onConnection(Listener& l);
  void onRead(Connection& c, ByteSpan bytes);
  bool drainFrames(Connection& c, size_t& consumed);
  void flush();
  void sendAll();
  // udp_send.cpp
  void queueUdp(int fd, bool* gso, RelaySocket* relay, const Endpoint& to, bool dontFragment, const iovec* iov,
                uint32_t iovCount);
  void sendQueued();
  void sendMessages(int fd, RelaySocket* relay, bool* gso, size_t firstRun, size_t endRun);
  UdpSocket* listeningSocket(uint64_t index, const Endpoint& local) const;
  // streams.cpp: writes `iov` in order (what the socket does not take at once is copied into a pooled
  // WriteRequest), through the TLS session when there is one.
  void writeTo(Connection& c, const iovec* iov, size_t count);
  void writeTo(Connection& c, ByteSpan bytes) {
    iovec v{const_cast<uint8_t*>(bytes.data()), bytes.size()};
    writeTo(c, &v, 1);
  }
  void writeRaw(Connection& c, const iovec* iov, size_t count);
  void writeRaw(Connection& c, const Bytes& bytes) {
    iovec v{const_cast<uint8_t*>(bytes.data()), bytes.size()};
    writeRaw(c, &v, 1);
  }
  void recycleWrite(WriteRequest* w);
  void closeConnection(Connection& c);
  void onTick();
};

}  // namespace rdv::node
