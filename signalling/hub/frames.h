// The JSON text frames of the signalling WebSocket (/v1/signal); docs/signalling.md lists them.
//   hub -> client: challenge, welcome, envelope, ack, error
//   client -> hub: auth, envelope, received, path-report
// encodeFrame()/decodeFrame() work for both directions, so the rdv CLI uses the same code as the
// hub. Decoding never throws; unknown keys are ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "signalling/envelope/envelope.h"
#include "signalling/hub/auth.h"

namespace rdv::signalling {

// {"type":"challenge","v":1,"hub":hex32,"nonce":hex32,"expiresInMs":n}
struct ChallengeFrame {
  NodeId hub;
  ChallengeNonce nonce{};
  uint64_t expiresInMs = 0;
  bool operator==(const ChallengeFrame&) const = default;
};

// {"type":"auth","node":hex32,"sig":hex65}
struct AuthFrame {
  NodeId node;
  identity::RecoverableSignature signature{};
  bool operator==(const AuthFrame&) const = default;
};

// {"type":"welcome","node":hex32,"stored":n}: authenticated; n stored envelopes follow.
struct WelcomeFrame {
  NodeId node;
  uint64_t stored = 0;
  bool operator==(const WelcomeFrame&) const = default;
};

// {"type":"envelope","envelope":{...envelope JSON...}}
struct EnvelopeFrame {
  Envelope envelope;
  bool operator==(const EnvelopeFrame&) const = default;
};

enum class AckStatus { Delivered, Stored };
std::string_view ackStatusName(AckStatus s);

// {"type":"ack","to":hex32,"seq":n,"status":"delivered"|"stored"}
struct AckFrame {
  NodeId to;
  uint64_t seq = 0;
  AckStatus status = AckStatus::Delivered;
  bool operator==(const AckFrame&) const = default;
};

// {"type":"error","code":"...","message":"..."[,"to":hex32,"seq":n]}: "to"/"seq" name the
// envelope refused, when the error is about one.
struct ErrorFrame {
  std::string code;
  std::string message;
  std::optional<NodeId> to;
  std::optional<uint64_t> seq;
  bool operator==(const ErrorFrame&) const = default;
};

// {"type":"received","from":hex32,"seq":n}: the recipient has every envelope from `from` up to
// `seq`; the hub deletes those from its mailbox. Until then stored envelopes are delivered again
// on every new connection (the recipient's ReplayGuard drops the repeats).
struct ReceivedFrame {
  NodeId from;
  uint64_t seq = 0;
  bool operator==(const ReceivedFrame&) const = default;
};

// {"type":"path-report","path":"direct"|"relayed","local":T,"remote":T} with T one of host, srflx,
// prflx, relay: the ICE pair a session selected, so the node's ledger can count relayed vs direct
// sessions per day (issue 7). The hub answers nothing (an error frame if malformed).
struct PathReportFrame {
  std::string path;
  std::string local;
  std::string remote;
  bool operator==(const PathReportFrame&) const = default;
};

using Frame = std::variant<ChallengeFrame, AuthFrame, WelcomeFrame, EnvelopeFrame, AckFrame, ErrorFrame, ReceivedFrame,
                           PathReportFrame>;

enum class FrameErrorKind {
  NotJson,      // not a JSON object
  UnknownType,  // "type" missing or not one of the above
  Malformed,    // a field is missing or has the wrong shape
  Envelope,     // the "envelope" member failed to decode (see `envelope`)
};

struct FrameError {
  FrameErrorKind kind = FrameErrorKind::Malformed;
  EnvelopeError envelope = EnvelopeError::Malformed;  // when kind == Envelope
};

// "bad-frame", "unknown-frame-type", or the envelope's error code.
std::string frameErrorCode(const FrameError& e);

std::string encodeFrame(const Frame& f);
// encodeFrame(EnvelopeFrame{e}) without copying `e` into a Frame (the hub's forwarding path).
std::string encodeEnvelopeFrame(const Envelope& e);
// encodeFrame through the generic JSON DOM: the same bytes (tests compare it with the direct writers
// encodeFrame uses for envelope and ack frames).
std::string encodeFrameGeneric(const Frame& f);
Result<Frame, FrameError> decodeFrame(std::string_view text);

}  // namespace rdv::signalling
