// The JSON text frames of the signalling WebSocket (/v1/signal); docs/signalling.md lists them.
//   hub -> client: challenge, welcome, envelope, ack, error, subscribed, published, publish, presence
//   client -> hub: auth, envelope, received, path-report, subscribe, unsubscribe, publish, topic-members,
//                  watch, unwatch
// encodeFrame()/decodeFrame() work for both directions, so the rdv CLI uses the same code as the
// hub. Decoding never throws; unknown keys are ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "signalling/envelope/envelope.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/publication.h"

namespace rdv::signalling {

// {"type":"challenge","v":1,"hub":hex32,"nonce":hex32,"expiresInMs":n}
struct ChallengeFrame {
  NodeId hub;
  ChallengeNonce nonce{};
  uint64_t expiresInMs = 0;
  bool operator==(const ChallengeFrame&) const = default;
};

// {"type":"auth","node":hex32,"sig":hex65[,"presence":true]}: presence opts this identity in to
// online/offline events for its watchers (absent: false, nothing is revealed about it).
struct AuthFrame {
  NodeId node;
  identity::RecoverableSignature signature{};
  bool presence = false;
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

// {"type":"error","code":"...","message":"..."[,"to":hex32,"seq":n][,"topic":T]}: "to"/"seq" name the
// envelope refused, when the error is about one; "topic" (with "seq" for a publish) a topic frame refused.
struct ErrorFrame {
  std::string code;
  std::string message;
  std::optional<NodeId> to;
  std::optional<uint64_t> seq;
  std::optional<std::string> topic;
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

// Topics (docs/signalling.md, "Topics"). Both ways:
// {"type":"publish","from":hex32,"topic":T,"seq":n,"ts":n,"body":base64url,"sig":hex65}; the hub fans
// it out unchanged (re-encoded) to every subscriber, retained messages first on subscribe.
struct PublishFrame {
  Publication publication;
  bool operator==(const PublishFrame&) const = default;
};
// {"type":"subscribe","topic":T} / {"type":"unsubscribe","topic":T}
struct SubscribeFrame {
  std::string topic;
  bool operator==(const SubscribeFrame&) const = default;
};
struct UnsubscribeFrame {
  std::string topic;
  bool operator==(const UnsubscribeFrame&) const = default;
};
// {"type":"subscribed","topic":T,"history":n}: n retained publish frames follow, oldest first.
struct SubscribedFrame {
  std::string topic;
  uint64_t history = 0;
  bool operator==(const SubscribedFrame&) const = default;
};
// {"type":"published","topic":T,"seq":n,"subscribers":k}: fanned out to k subscribers.
struct PublishedFrame {
  std::string topic;
  uint64_t seq = 0;
  uint64_t subscribers = 0;
  bool operator==(const PublishedFrame&) const = default;
};
// {"type":"topic-members","topic":T,"owner":hex32,"members":[hex32...],"seq":n,"sig":hex65}: the
// owner restricts its topic ("<owner hex>/...") to these members (and itself); no answer when accepted,
// an error frame otherwise.
struct TopicMembersFrame {
  MembersRecord record;
  bool operator==(const TopicMembersFrame&) const = default;
};
// {"type":"watch","nodes":[hex32...][,"namespace":NS]} / {"type":"unwatch",...}: presence of these
// identities, and of the opted-in identities registered under the namespace NS ("nodes" may then be
// left out).
// Watch lists are bounded per frame as well as per connection (the hub's limit).
inline constexpr size_t kMaxWatchPerFrame = 1024;
struct WatchFrame {
  std::vector<NodeId> nodes;
  std::optional<std::string> ns;
  bool operator==(const WatchFrame&) const = default;
};
struct UnwatchFrame {
  std::vector<NodeId> nodes;
  std::optional<std::string> ns;
  bool operator==(const UnwatchFrame&) const = default;
};
// {"type":"presence","event":"online"|"offline","node":hex32,"last_seen":ms,"sig":hex65}, signed by the
// hub's (node's) key.
struct PresenceFrame {
  PresenceEvent event;
  bool operator==(const PresenceFrame&) const = default;
};

using Frame = std::variant<ChallengeFrame, AuthFrame, WelcomeFrame, EnvelopeFrame, AckFrame, ErrorFrame, ReceivedFrame,
                           PathReportFrame, PublishFrame, SubscribeFrame, UnsubscribeFrame, SubscribedFrame,
                           PublishedFrame, TopicMembersFrame, WatchFrame, UnwatchFrame, PresenceFrame>;

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
