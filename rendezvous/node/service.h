// What the node does with a packet, without any I/O: the worker's I/O layer hands it datagrams and
// stream frames and sends what it returns. One Service per worker (no locks).
#pragma once

#include <cstdint>
#include <vector>

#include "rendezvous/node/stats.h"
#include "stun/address.h"
#include "stun/binding.h"
#include "stun/bytes.h"

namespace rdv::node {

enum class Transport : uint8_t { Udp, Tcp, Tls };

struct StreamPeer {
  uint64_t connection = 0;  // the worker's id for the connection
  Transport transport = Transport::Tcp;
  Endpoint remote;
  Endpoint local;
};

struct Outgoing {
  Transport transport = Transport::Udp;
  Endpoint from;            // UDP: which of the node's sockets sends it
  Endpoint to;              // UDP: destination
  uint64_t connection = 0;  // TCP/TLS: which connection
  Bytes bytes;
};

class Service {
 public:
  Service(stun::BindingConfig binding, NodeStats& stats) : binding_(std::move(binding)), stats_(stats) {}

  // A datagram from `source` received on the node's `local` socket.
  void onDatagram(ByteSpan bytes, const Endpoint& source, const Endpoint& local, std::vector<Outgoing>& out);
  // One complete frame (see stun::nextFrame) from a stream. Returns false when the connection must close.
  bool onStreamFrame(ByteSpan frame, const StreamPeer& peer, std::vector<Outgoing>& out);

 private:
  stun::BindingConfig binding_;
  NodeStats& stats_;
};

}  // namespace rdv::node
