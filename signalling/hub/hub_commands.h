// What the hub core asks of the I/O layer (hub.h explains the loop): write a frame, close a connection,
// count a reported ICE path. Plain structs, shared by the hub and its parts (topics.h, presence.h).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "signalling/hub/frames.h"
#include "signalling/hub/framing.h"

namespace rdv::signalling {

using ConnId = uint64_t;

enum class CloseReason {
  Replaced,     // the same identity authenticated on a newer connection
  AuthFailed,   // bad signature, wrong hub id, no challenge
  AuthTimeout,  // the challenge expired before a valid answer
  ProtocolErrors,  // too many refused frames before authenticating
};
// "replaced", "auth-failed", "auth-timeout", "protocol-errors"
const char* closeReasonName(CloseReason r);
// A WebSocket close code from the private range (4000 replaced, 4001 auth-failed, 4002 auth-timeout,
// 4003 protocol-errors).
uint16_t closeCode(CloseReason r);

struct SendFrame {
  ConnId conn = 0;
  // One frame in the connection's framing (Hub::connected): JSON text, or CBOR bytes to be written as a
  // binary WebSocket message.
  std::string text;
  // Set when the frame forwards an envelope to a live recipient: the I/O layer must answer
  // Hub::forwarded(*forward, written, now), and only then is the sender acknowledged.
  std::optional<uint64_t> forward;
  // A topic message fanned out (or replayed from history) to a subscriber: the I/O layer counts one the
  // subscriber's full output queue refused (dropped, never buffered without bound).
  bool topic = false;
};
struct CloseConnection {
  ConnId conn = 0;
  CloseReason reason = CloseReason::AuthFailed;
};
// An authenticated peer reported the ICE path of a session (path-report frame): the daemon counts it
// in the usage ledger's sessions table.
struct PathReported {
  ConnId conn = 0;
  NodeId node;
  PathReportFrame report;
};
using HubCommand = std::variant<SendFrame, CloseConnection, PathReported>;

// The framing a connection negotiated (the Hub's record; Topics and Presence ask it per recipient).
using FramingLookup = std::function<Framing(ConnId)>;

// One frame, encoded at most once per framing: a fan-out to many connections encodes it once for the
// JSON ones and once for the CBOR ones, never once per recipient.
class EncodedOnce {
 public:
  explicit EncodedOnce(const Frame& frame) : frame_(&frame) {}
  const std::string& as(Framing framing) {
    auto& slot = encoded_[framing == Framing::Cbor ? 1 : 0];
    if (!slot) slot = encodeFrameAs(framing, *frame_);
    return *slot;
  }

 private:
  const Frame* frame_;
  std::array<std::optional<std::string>, 2> encoded_;
};

}  // namespace rdv::signalling
