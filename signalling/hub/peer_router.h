// The hub's way to peers connected to other nodes of a fleet (docs/fleet.md, "Signalling"). Without a
// router (a single node) the hub routes locally and stores what it cannot deliver; with one, an envelope
// for a recipient not connected here is offered to the router first. The router answers through the hub
// as the local I/O layer does: Hub::forwarded(ticket, written, now) once the remote node's connection
// took the frame (or did not, or did not answer in time), so the sender's ack means the same as for a
// local recipient. Called on the hub's thread; implementations must not block for long.
#pragma once

#include <cstdint>

#include "signalling/envelope/envelope.h"

namespace rdv::signalling {

class PeerRouter {
 public:
  virtual ~PeerRouter() = default;
  // `e.header.to` is not connected here. True when the router took it under `ticket` (the hub then
  // waits for forwarded(ticket, ...)); false: store it as for an offline recipient.
  virtual bool forward(uint64_t ticket, const Envelope& e) = 0;
  // A remote forward handed to a local connection was written (or not): tell the origin node. `ref` is
  // what the router gave Hub::deliverRemote().
  virtual void delivered(uint64_t ref, bool written) = 0;
  // `id` authenticated on this node / left it (presence for the other nodes).
  virtual void bound(const NodeId& id) = 0;
  virtual void unbound(const NodeId& id) = 0;
};

}  // namespace rdv::signalling
