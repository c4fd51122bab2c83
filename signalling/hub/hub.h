// The signalling hub: a sans-I/O core (no sockets, no clock). The daemon's WebSocket layer
// assigns each connection an id, feeds the core events, and then drains commands:
//
//   hub.connected(conn, now);              // on upgrade: queues the challenge frame
//   hub.handleFrame(conn, text, now);      // every text frame
//   hub.disconnected(conn);                // when the socket closes, for any reason
//   hub.handleTimeout(now);                // when the timer armed to nextDeadline() fires
//   while (auto c = hub.nextCommand()) ... // SendFrame -> write a text frame; if it carries a
//                                          //   forward ticket, report hub.forwarded(ticket, written, now)
//                                          // CloseConnection -> send its frames first, then close
//                                          // PathReported -> count the session's path (ledger)
//   arm the timer to hub.nextDeadline()    // after every call above
//
// `now` is wall-clock time, because mailbox expiries are persisted and must mean the same after a
// restart. Guarantees: an envelope acknowledged "stored" was committed to the MailboxStore first;
// an envelope acknowledged "delivered" was accepted by the recipient's connection (the I/O layer
// reports each forward; one the recipient's full output queue refused is stored instead, or refused,
// never acknowledged as delivered); an envelope refused gets an error frame naming why (limit,
// signature, sender...), never a silent drop; a stored envelope evicted later to make room (the
// heaviest sender's first, mailbox.h) earns its sender an "evicted" error frame when connected; stored envelopes are delivered in arrival order (so per-sender order is kept) each
// time the recipient authenticates, and deleted only when the recipient confirms them with a
// "received" frame, or at their TTL (at-least-once: the recipient's ReplayGuard drops repeats).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "rendezvous/base/token_bucket.h"
#include "signalling/envelope/crypto.h"
#include "signalling/envelope/envelope.h"
#include "signalling/hub/frame_check.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/framing.h"
#include "signalling/hub/hub_commands.h"
#include "signalling/hub/mailbox.h"
#include "signalling/hub/mailbox_store.h"
#include "signalling/hub/peer_router.h"
#include "signalling/hub/presence.h"
#include "signalling/hub/topics.h"

namespace rdv::signalling {


struct HubConfig {
  NodeId hubId;  // this node's id: challenges bind it
  std::chrono::milliseconds challengeTtl{30'000};
  std::chrono::seconds mailboxTtl{24 * 3600};
  // The TTL of an envelope for a recipient this hub has never seen (never authenticated here since
  // start, and not known to the node otherwise: see Hub::setKnownCheck): random ids cost little.
  std::chrono::seconds unknownRecipientTtl{300};
  size_t maxKnownIdentities = 100'000;    // identities remembered as seen (oldest forgotten first)
  uint32_t maxPreAuthErrors = 8;          // error frames before authenticating; then the hub closes
  MailboxLimits mailbox;
  size_t maxFrameBytes = 96 * 1024;       // a text frame larger than this is refused unread
  size_t maxCiphertextBytes = 64 * 1024;  // envelope body + tag
  double framesPerSecond = 50;            // per connection, every frame counts
  double frameBurst = 100;
  // Check each envelope's signature at the hub (recipients always do). The sender binding
  // (from == the connection's authenticated id) is enforced either way, so turning this off lets
  // no one send as someone else; it only lets a client get its own badly signed envelopes
  // stored and forwarded, to be refused by the recipient. It is most of the hub's CPU per
  // envelope (docs/signalling.md, "Cost").
  bool verifySignatures = true;
  TopicLimits topics;      // publish/subscribe (topics.h)
  PresenceLimits presence; // online/offline events (presence.h)
};

// The HubConfig field a validation problem is about, so that the daemon can name its own
// configuration key (signal-max-envelope-bytes, ...).
enum class HubConfigField {
  HubId, ChallengeTtl, MailboxTtl, MailboxPerRecipient, MailboxTotal, MailboxBytes,
  MaxCiphertextBytes, MaxFrameBytes, FramesPerSecond, FrameBurst,
  MailboxPerSender, MailboxPerSenderBytes, MailboxPerSenderRecipient, UnknownRecipientTtl, MaxPreAuthErrors,
  TopicHistory, TopicTtl, TopicMax, TopicSubscriptions, TopicHistoryBytes, TopicMaxBytes, TopicPublishRate,
  TopicRate, PresenceWatches,
};
struct HubConfigError {
  HubConfigField field = HubConfigField::HubId;
  std::string message;  // the reason, e.g. "must be between 16 and 262144 bytes"
};

// The largest text frame an envelope with `ciphertextBytes` of ciphertext makes (base64url of the
// ciphertext plus the fixed hex fields and keys, with margin for large seq/ts values).
size_t maxEnvelopeFrameBytes(size_t ciphertextBytes);

// Why `config` cannot run a hub (a zero hub id, a zero TTL, limit or rate, a frame limit too small
// for the envelope limit), or nullopt. The daemon calls this when it loads its configuration and
// exits with the message, naming its key for `field`.
std::optional<HubConfigError> validateConfig(const HubConfig& config);

struct HubStats {
  uint64_t authSucceeded = 0;
  uint64_t authFailed = 0;
  uint64_t replaced = 0;
  uint64_t delivered = 0;         // forwarded to a live connection at once (its queue took it)
  uint64_t congested = 0;         // forwards a live recipient's full output queue refused (then stored or refused)
  uint64_t evicted = 0;           // stored envelopes evicted to make room for a lighter sender's
  uint64_t protocolCloses = 0;    // connections closed for repeated errors before authenticating
  uint64_t stored = 0;            // acknowledged as stored
  uint64_t deliveredStored = 0;   // sent from the mailbox on authentication (repeats included)
  uint64_t confirmed = 0;         // mailbox entries the recipient confirmed and the hub deleted
  uint64_t expired = 0;           // mailbox entries dropped at their TTL
  uint64_t refused = 0;           // envelopes answered with an error frame
  uint64_t rateLimited = 0;       // frames refused by the token bucket
  uint64_t pathReports = 0;       // path-report frames accepted
  uint64_t storeErrors = 0;       // MailboxStore failures (a failed put is refused to the sender;
                                  // a failed remove leaves the row to be delivered again)
};

// subscribe, unsubscribe, publish, topic-members, watch, unwatch: the client frames of topics and presence.
bool isClientPubSubFrame(const Frame& f);

class Hub {
 public:
  Hub(HubConfig config, MailboxStore& store, Rng& rng);

  // Loads the unexpired stored envelopes; call once, before the first connection. Returns how
  // many were loaded.
  Result<size_t, StoreError> load(TimePoint now);

  // `framing`: what the connection negotiated (framing.h); every frame sent to it is encoded so, and
  // every frame it sends is decoded so.
  void connected(ConnId conn, TimePoint now, Framing framing = Framing::Json);
  // Issues a fresh challenge (replacing an unanswered one) and queues its frame.
  ChallengeNonce challenge(ConnId conn, TimePoint now);
  // One text frame: admitFrame(), checkFrame() inline, then handleChecked().
  void handleFrame(ConnId conn, std::string_view text, TimePoint now);
  // What checkFrame() needs to know about `conn` now (its pending challenge), for a check done
  // elsewhere (the daemon's verifier pool); the result comes back through handleChecked(), in the
  // order the connection's frames arrived. An auth frame checked against a challenge that is no
  // longer the pending one fails.
  FrameCheckContext checkContext(ConnId conn) const;
  // The connection's frame rate (token bucket), taken before a frame is decoded or its signature
  // checked, so frames over the rate cost no recovery: false when refused (a "rate-limited" error
  // frame is queued). handleChecked() takes only frames admitFrame() let through.
  bool admitFrame(ConnId conn, TimePoint now);
  void handleChecked(ConnId conn, CheckedFrame checked, TimePoint now);
  void authenticate(ConnId conn, const AuthFrame& response, TimePoint now);
  void submit(ConnId conn, Envelope envelope, TimePoint now);
  // The I/O layer's answer to a SendFrame carrying a forward ticket: `written` when the recipient's
  // connection took the frame. Then the sender gets its "delivered" ack; otherwise the envelope goes
  // to the mailbox (ack "stored") or is refused ("recipient-congested" when it cannot be stored).
  void forwarded(uint64_t ticket, bool written, TimePoint now);
  // Who else counts as a known recipient (the daemon: ids with a registry record). Envelopes for an
  // unknown one live only HubConfig::unknownRecipientTtl.
  void setKnownCheck(std::function<bool(const NodeId&)> check) { knownCheck_ = std::move(check); }
  bool isKnown(const NodeId& id) const;
  // A fleet (peer_router.h): envelopes for recipients not connected here are offered to `router` before
  // the mailbox. Null (the default): a single node. The router must outlive the hub.
  void setRouter(PeerRouter* router) { router_ = router; }
  // Bans (the admin API, issue 18): an identity this says is banned is refused at authentication with a
  // "banned" error frame and the connection closed. Unset: nobody is.
  void setBanCheck(std::function<bool(const NodeId&)> banned) { banned_ = std::move(banned); }
  // An envelope another node of the fleet forwards to a recipient connected here (the origin node
  // checked the sender and the signature). False when the recipient is not connected here (any more);
  // otherwise its connection gets the frame and the router hears delivered(ref, written).
  bool deliverRemote(Envelope envelope, uint64_t ref);
  // How long an envelope for `id` waits: the mailbox TTL, shorter for a recipient never seen (never longer).
  std::chrono::seconds ttlFor(const NodeId& id) const;
  // The recipient on `conn` confirms the stored envelopes from `sender` up to `uptoSeq`.
  void confirm(ConnId conn, const NodeId& sender, uint64_t uptoSeq);
  // `now` (when the I/O layer knows it) dates an opted-in identity's "offline" event; else the latest
  // time the hub was given.
  void disconnected(ConnId conn, std::optional<TimePoint> now = std::nullopt);
  // Presence events are signed with the node's key through this (presence.h); without it none are sent.
  void setPresenceSigner(Presence::Signer signer) { presence_.setSigner(std::move(signer)); }
  // Presence by namespace: the registry's answers (presence.h); without them a namespace watch sees nothing.
  void setNamespaceLookup(Presence::NamespacesOf namespacesOf, Presence::MembersOf membersOf) {
    presence_.setNamespaceLookup(std::move(namespacesOf), std::move(membersOf));
  }

  std::optional<TimePoint> nextDeadline() const;
  void handleTimeout(TimePoint now);

  std::optional<HubCommand> nextCommand();
  std::vector<HubCommand> drainCommands();

  std::optional<NodeId> identityOf(ConnId conn) const;
  std::optional<ConnId> connectionOf(const NodeId& id) const;
  size_t connections() const { return conns_.size(); }
  const Mailbox& mailbox() const { return mailbox_; }
  const HubStats& stats() const { return stats_; }
  const Topics& topics() const { return topics_; }
  const Presence& presence() const { return presence_; }
  const HubConfig& config() const { return config_; }

 private:
  struct PendingChallenge {
    ChallengeNonce nonce{};
    TimePoint expiresAt;
  };
  struct Connection {
    Connection(TokenBucket b, TimePoint now) : bucket(b), latest(now) {}
    std::optional<PendingChallenge> challenge;
    std::optional<NodeId> identity;
    TokenBucket bucket;  // frames per second; fed `latest`, so a wall clock stepping back refills nothing
    TimePoint latest;    // the latest time this connection has seen
    uint32_t preAuthErrors = 0;
    Framing framing = Framing::Json;
    bool presence = false;  // opted in to presence events (auth frame)
  };
  struct PendingForward {
    ConnId sender = 0;
    Envelope envelope;
    std::optional<uint64_t> remoteRef;  // set: forwarded for another node (deliverRemote), answer the router
  };

  void authenticateChecked(ConnId conn, const AuthFrame& response, const CheckedFrame* checked, TimePoint now);
  void submitChecked(ConnId conn, Envelope envelope, const CheckedFrame* checked, TimePoint now);
  void send(ConnId conn, const Frame& frame);
  Framing framingOf(ConnId conn) const;
  void sendError(ConnId conn, std::string code, std::string message, const EnvelopeHeader* about = nullptr);
  void refuseEnvelope(ConnId conn, const EnvelopeHeader& about, std::string code, std::string message);
  void clearChallenge(ConnId conn, Connection& c);
  void close(ConnId conn, CloseReason reason);
  void bind(ConnId conn, const NodeId& id, bool presence, TimePoint now);
  // Topic and presence frames of an authenticated connection (hub_pubsub.cpp); false: not one of them.
  bool handlePubSub(ConnId conn, const NodeId& who, Frame& frame, const CheckedFrame& checked, TimePoint now);
  void deliverStored(ConnId conn, const NodeId& id);
  void store(ConnId conn, const Envelope& e, TimePoint now);
  void tellEvicted(const std::vector<StoredEnvelope>& evicted);
  void noteKnown(const NodeId& id);
  // Envelope v2 (hub_compact.cpp): recovers the sender (unless checkFrame did) and resolves a short
  // recipient; false when the envelope was refused (an error frame is queued).
  bool admitV2(ConnId conn, Envelope& envelope, const CheckedFrame* checked);
  std::optional<NodeId> resolveShortRecipient(const NodeId& prefix) const;
  static uint64_t shortIdKey(const NodeId& id);
  void forgetPrefix(const NodeId& id);

  HubConfig config_;
  MailboxStore* store_;
  Rng* rng_;
  std::unordered_map<ConnId, Connection> conns_;
  // identity -> its one live connection: routing looks recipients up here.
  std::unordered_map<NodeId, ConnId, identity::NodeIdHash> byIdentity_;
  // (expiry, conn) of unanswered challenges, in time order: nextDeadline() without a scan.
  std::set<std::pair<TimePoint, ConnId>> challengeExpiry_;
  Mailbox mailbox_;
  // ticket -> the envelope forwarded under it, until the I/O layer reports the write.
  std::unordered_map<uint64_t, PendingForward> forwards_;
  uint64_t nextTicket_ = 1;
  // Identities seen authenticated here, oldest first in knownOrder_ (bounded by maxKnownIdentities).
  std::unordered_set<NodeId, identity::NodeIdHash> known_;
  // known_ by the first 8 bytes of each id: where a v2 envelope's short recipient is looked up.
  std::unordered_multimap<uint64_t, NodeId> knownByPrefix_;
  std::deque<NodeId> knownOrder_;
  std::function<bool(const NodeId&)> knownCheck_;
  PeerRouter* router_ = nullptr;
  std::function<bool(const NodeId&)> banned_;  // setBanCheck
  std::deque<HubCommand> commands_;
  HubStats stats_;
  TimePoint latest_{};  // the latest `now` the hub was given (dates closes that come without one)
  Topics topics_{config_.topics, commands_, [this](ConnId c) { return framingOf(c); }};
  Presence presence_{config_.hubId, config_.presence, commands_, [this](ConnId c) { return framingOf(c); }};
};

}  // namespace rdv::signalling
