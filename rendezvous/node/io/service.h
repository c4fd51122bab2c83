// What the node does with a packet, without any I/O: the worker's I/O layer hands it datagrams, stream
// frames, peer datagrams and timeouts, and performs the Outgoing actions it returns. One Service per
// worker (no locks). Binding requests go to the stun/ responder (RFC 5780 included); everything else
// STUN/TURN goes to the relay engine.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "relay/server.h"
#include "rendezvous/node/io/stats.h"
#include "rendezvous/base/address.h"
#include "stun/binding.h"
#include "rendezvous/base/bytes.h"

namespace rdv::node {

using relay::Transport;

struct StreamPeer {
  uint64_t connection = 0;  // the worker's id for the connection
  Transport transport = Transport::Tcp;
  Endpoint remote;
  Endpoint local;
};

struct Outgoing {
  enum class Kind : uint8_t { Udp, Stream, Peer, ReleaseRelay } kind = Kind::Udp;
  Endpoint from;            // Udp: which of the node's sockets sends it
  Endpoint to;              // Udp, Peer: destination
  uint64_t connection = 0;  // Stream: which connection; Udp: the worker's number of the socket `from`, if
                            // it is that one (a search by `from` otherwise, e.g. RFC 5780 CHANGE-REQUEST)
  relay::RelayPort relay;   // Peer, ReleaseRelay: which relay socket
  bool dontFragment = false;
  Bytes bytes;
};

// Where the relay engine's metering events go (issue 7: the usage ledger). Called on the worker threads,
// several at once: implementations must be thread-safe and quick (no I/O on the caller's thread).
class MeteringSink {
 public:
  virtual ~MeteringSink() = default;
  virtual void started(const relay::AllocationStarted& e) = 0;
  virtual void usage(const relay::AllocationUsage& e) = 0;  // a delta since the previous usage event
  virtual void ended(const relay::AllocationEnded& e) = 0;  // final totals
};

class Service {
 public:
  // `metering` may be null (events are then only logged); it must outlive the Service.
  Service(stun::BindingConfig binding, std::shared_ptr<const relay::Config> relayConfig,
          relay::RelaySocketBinder& binder, NodeStats& stats, MeteringSink* metering = nullptr);

  // One read's datagrams: the batch the I/O layer received on the node's `local` socket (the worker's
  // listening socket number `socket`, kept in the tuple so answers need no socket search). Relayed data
  // comes out in forwards() (input = the index in `batch`), the rest in `out`.
  struct Datagram {
    ByteSpan bytes;
    Endpoint source;
  };
  void onDatagrams(std::span<const Datagram> batch, const Endpoint& local, uint32_t socket, const relay::Now& now,
                   std::vector<Outgoing>& out);
  // One complete frame (see stun::nextFrame) from a stream, input number `input` of the current batch (the
  // frames of one read). Returns false when the connection must close.
  bool onStreamFrame(ByteSpan frame, const StreamPeer& peer, uint32_t input, const relay::Now& now,
                     std::vector<Outgoing>& out);
  void onConnectionClosed(const StreamPeer& peer, const relay::Now& now, std::vector<Outgoing>& out);
  // One read's datagrams from peers on one of the relay sockets.
  void onPeerDatagrams(relay::RelayPort relay, std::span<const relay::Server::PeerDatagram> batch,
                       const relay::Now& now, std::vector<Outgoing>& out);
  // The relayed data of the current batch: slices of its inputs. Send them, then clearForwards().
  const std::vector<relay::Forward>& forwards() const { return relay_.forwards(); }
  void clearForwards() { relay_.clearForwards(); }
  void onTimeout(const relay::Now& now, std::vector<Outgoing>& out);
  // The node is stopping: ends every allocation (metered as EndReason::Shutdown).
  void endAll(const relay::Now& now, std::vector<Outgoing>& out);
  std::optional<relay::Instant> nextDeadline() const { return relay_.nextDeadline(); }
  // Hands a sent buffer back to the relay engine's pool (no allocation per relayed packet).
  void recycle(Bytes&& buffer) { relay_.recycle(std::move(buffer)); }
  const relay::Stats& relayStats() const { return relay_.stats(); }
  // A reload (SIGHUP), on the worker's loop: the engine goes on with `next` (relay::Server::reconfigure).
  void reconfigure(std::shared_ptr<const relay::Config> next) { relay_.reconfigure(std::move(next)); }
  // The admin API (issue 18): the engine's allocations, and ending one by id (its commands drained into `out`).
  std::vector<relay::AllocationInfo> allocations() const { return relay_.allocations(); }
  bool endAllocation(uint64_t id, const relay::Now& now, std::vector<Outgoing>& out) {
    const bool found = relay_.endById(id, now);
    drain(out);
    return found;
  }
  // The fleet's quota tick changed some identity's usage elsewhere: the kernel fast path's allowances anew.
  void kernelRefresh(const relay::Now& now, std::vector<Outgoing>& out) {
    relay_.kernelRefresh(now);
    drain(out);
  }

 private:
  bool answerBinding(const stun::MessageView& msg, const stun::BindingRequestContext& ctx, Outgoing::Kind kind,
                     uint64_t connection, std::vector<Outgoing>& out);
  void drain(std::vector<Outgoing>& out);

  stun::BindingConfig binding_;
  NodeStats& stats_;
  MeteringSink* metering_;
  relay::CryptoRng rng_;
  relay::Server relay_;
};

}  // namespace rdv::node
