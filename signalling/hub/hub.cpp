#include "signalling/hub/hub.h"

#include <algorithm>

#include "signalling/envelope/envelope_codec.h"

namespace rdv::signalling {

const char* closeReasonName(CloseReason r) {
  switch (r) {
    case CloseReason::Replaced: return "replaced";
    case CloseReason::AuthFailed: return "auth-failed";
    case CloseReason::AuthTimeout: return "auth-timeout";
    case CloseReason::ProtocolErrors: return "protocol-errors";
  }
  return "auth-failed";
}

uint16_t closeCode(CloseReason r) {
  switch (r) {
    case CloseReason::Replaced: return 4000;
    case CloseReason::AuthFailed: return 4001;
    case CloseReason::AuthTimeout: return 4002;
    case CloseReason::ProtocolErrors: return 4003;
  }
  return 4001;
}

size_t maxEnvelopeFrameBytes(size_t ciphertextBytes) {
  // {"type":"envelope","envelope":{...}}: base64url(ct) plus ~560 bytes of keys, hex fields and
  // two 20-digit integers; 1024 leaves room for whitespace and unknown keys a client may add.
  return (ciphertextBytes + 2) / 3 * 4 + 1024;
}

std::optional<HubConfigError> validateConfig(const HubConfig& c) {
  using F = HubConfigField;
  auto fail = [](F field, std::string message) { return HubConfigError{field, std::move(message)}; };
  if (c.hubId == NodeId{}) return fail(F::HubId, "the hub id (the node's id) is not set");
  if (c.challengeTtl.count() <= 0) return fail(F::ChallengeTtl, "the challenge TTL must be positive");
  if (c.mailboxTtl.count() <= 0) return fail(F::MailboxTtl, "the mailbox TTL must be positive");
  if (c.unknownRecipientTtl.count() <= 0 || c.unknownRecipientTtl > c.mailboxTtl) {
    return fail(F::UnknownRecipientTtl, "must be positive and at most the mailbox TTL");
  }
  if (c.mailbox.perSender == 0) return fail(F::MailboxPerSender, "must be at least 1");
  if (c.mailbox.perSenderRecipient == 0) return fail(F::MailboxPerSenderRecipient, "must be at least 1");
  if (c.mailbox.perSenderBytes < c.maxCiphertextBytes + kBinaryFixedSize) {
    return fail(F::MailboxPerSenderBytes, "must hold at least one envelope of the largest allowed size (" +
                                              std::to_string(c.maxCiphertextBytes + kBinaryFixedSize) + " bytes)");
  }
  if (c.maxPreAuthErrors == 0) return fail(F::MaxPreAuthErrors, "must be at least 1");
  if (c.mailbox.perRecipient == 0) return fail(F::MailboxPerRecipient, "must be at least 1");
  if (c.mailbox.total == 0) return fail(F::MailboxTotal, "must be at least 1");
  if (c.mailbox.totalBytes == 0) return fail(F::MailboxBytes, "must be at least 1");
  if (c.maxCiphertextBytes < kGcmTagSize || c.maxCiphertextBytes > kMaxCiphertextSize) {
    return fail(F::MaxCiphertextBytes,
                "must be between " + std::to_string(kGcmTagSize) + " and " + std::to_string(kMaxCiphertextSize) + " bytes");
  }
  if (c.maxFrameBytes < 1024) return fail(F::MaxFrameBytes, "must be at least 1024 bytes");
  if (c.maxFrameBytes < maxEnvelopeFrameBytes(c.maxCiphertextBytes)) {
    return fail(F::MaxFrameBytes, "must be at least " + std::to_string(maxEnvelopeFrameBytes(c.maxCiphertextBytes)) +
                                      " bytes to carry an envelope of the largest allowed size (" +
                                      std::to_string(c.maxCiphertextBytes) + " bytes)");
  }
  if (!(c.framesPerSecond > 0)) return fail(F::FramesPerSecond, "the frame rate must be positive");
  if (!(c.frameBurst >= 1)) return fail(F::FrameBurst, "the burst must be at least 1");
  if (c.mailbox.totalBytes < c.maxCiphertextBytes + kBinaryFixedSize) {
    return fail(F::MailboxBytes, "must hold at least one envelope of the largest allowed size");
  }
  const TopicLimits& t = c.topics;
  if (t.historyMessages > 100'000) return fail(F::TopicHistory, "must be at most 100000 messages");
  if (t.historyTtl.count() <= 0) return fail(F::TopicTtl, "must be positive");
  if (t.maxTopics == 0) return fail(F::TopicMax, "must be at least 1");
  if (t.subscriptionsPerConnection == 0) return fail(F::TopicSubscriptions, "must be at least 1");
  if (t.maxBodyBytes == 0 || t.maxBodyBytes > kMaxTopicBodySize) {
    return fail(F::TopicMaxBytes, "must be between 1 and " + std::to_string(kMaxTopicBodySize) + " bytes");
  }
  if (t.maxBodyBytes / 3 * 4 + 1024 > c.maxFrameBytes) {
    return fail(F::TopicMaxBytes, "a publish frame of this body size would not fit signal-max-frame-bytes");
  }
  if (t.historyBytes < 2 * t.maxBodyBytes + 2048) {
    return fail(F::TopicHistoryBytes, "must hold at least one retained message of the largest allowed size");
  }
  if (!(t.publishPerSecond > 0) || !(t.publishBurst >= 1)) return fail(F::TopicPublishRate, "must be positive");
  if (!(t.topicPerSecond > 0) || !(t.topicBurst >= 1)) return fail(F::TopicRate, "must be positive");
  if (c.presence.watchesPerConnection == 0) return fail(F::PresenceWatches, "must be at least 1");
  return std::nullopt;
}

Hub::Hub(HubConfig config, MailboxStore& store, Rng& rng)
    : config_(config), store_(&store), rng_(&rng), mailbox_(config.mailbox) {}

Result<size_t, StoreError> Hub::load(TimePoint now) {
  auto loaded = store_->loadAll(now);
  if (!loaded) return unexpected(loaded.error());
  const size_t n = loaded->envelopes.size();
  for (auto& e : loaded->envelopes) {
    // Stored with the long TTL: the recipient was known before the restart.
    if (e.expiresAt > now + config_.unknownRecipientTtl) noteKnown(e.envelope.header.to);
    mailbox_.add(std::move(e));
  }
  return n;
}

void Hub::connected(ConnId conn, TimePoint now, Framing framing) {
  latest_ = std::max(latest_, now);
  auto [it, added] = conns_.try_emplace(conn, TokenBucket(config_.framesPerSecond, config_.frameBurst), now);
  if (added) it->second.framing = framing;
  challenge(conn, now);
}

ChallengeNonce Hub::challenge(ConnId conn, TimePoint now) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return {};
  Connection& c = it->second;
  clearChallenge(conn, c);
  PendingChallenge pending{{}, now + config_.challengeTtl};
  if (!rng_->fill(pending.nonce)) {
    sendError(conn, "internal-error", "no randomness for a challenge");
    close(conn, CloseReason::AuthFailed);
    return {};
  }
  c.challenge = pending;
  challengeExpiry_.emplace(pending.expiresAt, conn);
  send(conn, ChallengeFrame{config_.hubId, pending.nonce, static_cast<uint64_t>(config_.challengeTtl.count())});
  return pending.nonce;
}

void Hub::handleFrame(ConnId conn, std::string_view text, TimePoint now) {
  if (!admitFrame(conn, now)) return;
  handleChecked(conn, checkFrame(text, checkContext(conn)), now);
}

bool Hub::admitFrame(ConnId conn, TimePoint now) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return false;
  Connection& c = it->second;
  c.latest = std::max(c.latest, now);
  latest_ = std::max(latest_, now);
  if (c.bucket.take(1, TokenBucket::nanos(c.latest))) return true;
  ++stats_.rateLimited;
  sendError(conn, "rate-limited", "more than the allowed frames per second; frame dropped");
  return false;
}

FrameCheckContext Hub::checkContext(ConnId conn) const {
  FrameCheckContext context{config_.hubId, std::nullopt, config_.maxFrameBytes, config_.verifySignatures};
  if (auto it = conns_.find(conn); it != conns_.end()) {
    if (it->second.challenge) context.pendingChallenge = it->second.challenge->nonce;
    context.framing = it->second.framing;
  }
  return context;
}

void Hub::handleChecked(ConnId conn, CheckedFrame checked, TimePoint now) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  it->second.latest = std::max(it->second.latest, now);
  latest_ = std::max(latest_, now);
  if (checked.tooLarge) {
    sendError(conn, "frame-too-large", "frame larger than " + std::to_string(config_.maxFrameBytes) + " bytes");
    return;
  }
  auto& frame = checked.frame;
  if (!frame) {
    sendError(conn, frameErrorCode(frame.error()), "frame refused: " + frameErrorCode(frame.error()));
    return;
  }
  if (auto* auth = std::get_if<AuthFrame>(&*frame)) {
    authenticateChecked(conn, *auth, &checked, now);
  } else if (auto* env = std::get_if<EnvelopeFrame>(&*frame)) {
    submitChecked(conn, std::move(env->envelope), &checked, now);
  } else if (auto* received = std::get_if<ReceivedFrame>(&*frame)) {
    confirm(conn, received->from, received->seq);
  } else if (auto* report = std::get_if<PathReportFrame>(&*frame)) {
    if (!it->second.identity) {
      sendError(conn, "not-authenticated", "authenticate before reporting a path");
      return;
    }
    ++stats_.pathReports;
    commands_.push_back(PathReported{conn, *it->second.identity, std::move(*report)});
  } else if (!isClientPubSubFrame(*frame)) {
    sendError(conn, "unexpected-frame",
              "clients send only auth, envelope, received, path-report, subscribe, unsubscribe, publish, "
              "topic-members, watch and unwatch frames");
  } else if (!it->second.identity) {
    sendError(conn, "not-authenticated", "authenticate before using topics or presence");
  } else {
    handlePubSub(conn, *it->second.identity, *frame, checked, now);
  }
}

void Hub::authenticate(ConnId conn, const AuthFrame& response, TimePoint now) {
  authenticateChecked(conn, response, nullptr, now);
}

void Hub::authenticateChecked(ConnId conn, const AuthFrame& response, const CheckedFrame* checked, TimePoint now) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Connection& c = it->second;
  if (c.identity) {
    sendError(conn, "already-authenticated", "this connection is already authenticated");
    return;
  }
  if (!c.challenge) {
    ++stats_.authFailed;
    sendError(conn, "no-challenge", "no challenge is pending on this connection");
    close(conn, CloseReason::AuthFailed);
    return;
  }
  const PendingChallenge pending = *c.challenge;
  clearChallenge(conn, c);  // single use, whatever the outcome
  if (now >= pending.expiresAt) {
    ++stats_.authFailed;
    sendError(conn, "challenge-expired", "the challenge expired");
    close(conn, CloseReason::AuthTimeout);
    return;
  }
  // Checked off the hub (checkFrame) against the nonce pending then, or here.
  const bool valid = checked != nullptr
                         ? checked->authValid && checked->nonce && *checked->nonce == pending.nonce
                         : checkChallengeResponse(config_.hubId, pending.nonce, response.node, response.signature);
  if (!valid) {
    ++stats_.authFailed;
    sendError(conn, "auth-failed", "the signature does not match the node id, hub id and challenge");
    close(conn, CloseReason::AuthFailed);
    return;
  }
  if (banned_ && banned_(response.node)) {
    ++stats_.authFailed;
    sendError(conn, "banned", "this identity is banned on this node");
    close(conn, CloseReason::AuthFailed);
    return;
  }
  ++stats_.authSucceeded;
  bind(conn, response.node, response.presence, now);
}

void Hub::bind(ConnId conn, const NodeId& id, bool presence, TimePoint now) {
  auto old = byIdentity_.find(id);
  if (old != byIdentity_.end() && old->second != conn) {
    ++stats_.replaced;
    close(old->second, CloseReason::Replaced);  // also erases the byIdentity_ entry
  }
  Connection& c = conns_.at(conn);
  c.identity = id;
  c.presence = presence;
  byIdentity_[id] = conn;
  noteKnown(id);
  if (router_ != nullptr) router_->bound(id);
  // A store shared with other nodes may hold envelopes stored there: it is the truth for this recipient.
  if (auto shared = store_->loadFor(id, now)) mailbox_.replaceFor(id, std::move(*shared));
  send(conn, WelcomeFrame{id, mailbox_.countFor(id)});
  deliverStored(conn, id);
  if (presence) presence_.online(id, std::max(c.latest, latest_));
}

void Hub::deliverStored(ConnId conn, const NodeId& id) {
  // Sent again on every connection until confirmed: a crash or a dropped socket between the
  // hub's write and the client's read loses nothing.
  for (auto& s : mailbox_.pending(id)) {
    send(conn, EnvelopeFrame{std::move(s.envelope)});
    ++stats_.deliveredStored;
  }
}

void Hub::confirm(ConnId conn, const NodeId& sender, uint64_t uptoSeq) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  if (!it->second.identity) {
    sendError(conn, "not-authenticated", "authenticate before confirming envelopes");
    return;
  }
  auto ids = mailbox_.confirm(*it->second.identity, sender, uptoSeq);
  if (ids.empty()) return;
  stats_.confirmed += ids.size();
  // If this fails the rows come back at the next start and are delivered again; the recipient's
  // ReplayGuard drops them.
  if (!store_->remove(ids)) ++stats_.storeErrors;
}

void Hub::submit(ConnId conn, Envelope envelope, TimePoint now) { submitChecked(conn, std::move(envelope), nullptr, now); }

void Hub::submitChecked(ConnId conn, Envelope envelope, const CheckedFrame* checked, TimePoint now) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  const Connection& c = it->second;
  if (!c.identity) {
    refuseEnvelope(conn, envelope.header, "not-authenticated", "authenticate before sending envelopes");
    return;
  }
  // A v2 envelope's sender is its signature's: recovered before anything else (by checkFrame when the
  // frame came through it), and its short recipient resolved (hub_compact.cpp).
  const bool v2 = envelope.version != kEnvelopeVersion;
  if (v2 && !admitV2(conn, envelope, checked)) return;
  if (envelope.header.from != *c.identity) {
    refuseEnvelope(conn, envelope.header, "spoofed-sender", "the envelope's sender is not this connection's identity");
    return;
  }
  if (envelope.ciphertext.size() > config_.maxCiphertextBytes) {
    refuseEnvelope(conn, envelope.header, "envelope-too-large",
                   "ciphertext larger than " + std::to_string(config_.maxCiphertextBytes) + " bytes");
    return;
  }
  if (config_.verifySignatures && !v2) {
    std::optional<EnvelopeError> bad;
    if (checked != nullptr && checked->envelopeChecked) {
      bad = checked->envelopeError;
    } else if (auto verified = verify(envelope); !verified) {
      bad = verified.error();
    }
    if (bad) {
      refuseEnvelope(conn, envelope.header, errorCode(*bad), describe(*bad));
      return;
    }
  }
  auto recipient = byIdentity_.find(envelope.header.to);
  if (recipient != byIdentity_.end()) {
    // Acknowledged only once the I/O layer says the recipient's connection took it (forwarded()).
    const uint64_t ticket = nextTicket_++;
    commands_.push_back(
        SendFrame{recipient->second, encodeEnvelopeFrameAs(framingOf(recipient->second), envelope), ticket});
    forwards_.emplace(ticket, PendingForward{conn, std::move(envelope)});
    return;
  }
  if (router_ != nullptr && router_->forward(nextTicket_, envelope)) {
    forwards_.emplace(nextTicket_++, PendingForward{conn, std::move(envelope)});
    return;
  }
  store(conn, envelope, now);
}

bool Hub::deliverRemote(Envelope envelope, uint64_t ref) {
  auto recipient = byIdentity_.find(envelope.header.to);
  if (recipient == byIdentity_.end()) return false;
  const uint64_t ticket = nextTicket_++;
  commands_.push_back(SendFrame{recipient->second, encodeEnvelopeFrameAs(framingOf(recipient->second), envelope), ticket});
  forwards_.emplace(ticket, PendingForward{0, std::move(envelope), ref});
  return true;
}

void Hub::forwarded(uint64_t ticket, bool written, TimePoint now) {
  auto it = forwards_.find(ticket);
  if (it == forwards_.end()) return;
  PendingForward f = std::move(it->second);
  forwards_.erase(it);
  if (f.remoteRef) {  // for another node: its hub acknowledges or stores (peer_router.h)
    if (written) ++stats_.delivered;
    if (router_ != nullptr) router_->delivered(*f.remoteRef, written);
    return;
  }
  if (written) {
    ++stats_.delivered;
    if (conns_.contains(f.sender)) send(f.sender, AckFrame{f.envelope.header.to, f.envelope.header.seq, AckStatus::Delivered});
    return;
  }
  // Back-pressure: the recipient is not reading. Keep the envelope for its next connection, or refuse.
  ++stats_.congested;
  if (!conns_.contains(f.sender)) {
    // The sender left; store what can be stored, there is no one to tell otherwise.
    if (!mailbox_.admit(f.envelope).refused) {
      const TimePoint expiresAt = now + ttlFor(f.envelope.header.to);
      if (auto id = store_->put(f.envelope, expiresAt)) mailbox_.add(StoredEnvelope{*id, expiresAt, f.envelope});
    }
    return;
  }
  store(f.sender, f.envelope, now);
}

std::chrono::seconds Hub::ttlFor(const NodeId& id) const {
  if (isKnown(id)) return config_.mailboxTtl;
  return std::min(config_.mailboxTtl, std::chrono::duration_cast<std::chrono::seconds>(config_.unknownRecipientTtl));
}

bool Hub::isKnown(const NodeId& id) const {
  if (known_.contains(id)) return true;
  return knownCheck_ && knownCheck_(id);
}

void Hub::noteKnown(const NodeId& id) {
  if (!known_.insert(id).second) return;
  knownOrder_.push_back(id);
  knownByPrefix_.emplace(shortIdKey(id), id);
  while (known_.size() > config_.maxKnownIdentities) {
    forgetPrefix(knownOrder_.front());
    known_.erase(knownOrder_.front());
    knownOrder_.pop_front();
  }
}

void Hub::tellEvicted(const std::vector<StoredEnvelope>& evicted) {
  if (evicted.empty()) return;
  stats_.evicted += evicted.size();
  std::vector<int64_t> ids;
  ids.reserve(evicted.size());
  for (const auto& s : evicted) {
    ids.push_back(s.id);
    auto sender = byIdentity_.find(s.envelope.header.from);
    if (sender != byIdentity_.end()) {
      sendError(sender->second, "evicted",
                "a stored envelope was evicted to make room: this sender has the most waiting", &s.envelope.header);
    }
  }
  if (!store_->remove(ids)) ++stats_.storeErrors;  // load() would bring them back: the caps evict again
}

void Hub::store(ConnId conn, const Envelope& e, TimePoint now) {
  Admission admission = mailbox_.admit(e);
  tellEvicted(admission.evicted);
  if (admission.refused) {
    refuseEnvelope(conn, e.header, limitCode(*admission.refused),
                   "the recipient is offline or not reading and the mailbox limit is reached");
    return;
  }
  const TimePoint expiresAt = now + ttlFor(e.header.to);
  auto id = store_->put(e, expiresAt);
  if (!id) {
    ++stats_.storeErrors;
    refuseEnvelope(conn, e.header, "storage-failed", "the mailbox could not store the envelope");
    return;
  }
  mailbox_.add(StoredEnvelope{*id, expiresAt, e});
  ++stats_.stored;
  send(conn, AckFrame{e.header.to, e.header.seq, AckStatus::Stored});
}

void Hub::disconnected(ConnId conn, std::optional<TimePoint> now) {
  // Forwards to or from this connection still pending are answered by the I/O layer's forwarded():
  // a closed recipient fails the write (the envelope is stored), a closed sender gets no ack.
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  if (now) latest_ = std::max(latest_, *now);
  clearChallenge(conn, it->second);
  topics_.dropConnection(conn);
  presence_.dropConnection(conn);
  std::optional<NodeId> leaving;
  if (it->second.identity) {
    auto owner = byIdentity_.find(*it->second.identity);
    if (owner != byIdentity_.end() && owner->second == conn) {
      byIdentity_.erase(owner);
      if (it->second.presence) leaving = *it->second.identity;
      if (router_ != nullptr) router_->unbound(*it->second.identity);
    }
  }
  conns_.erase(it);
  if (leaving) presence_.offline(*leaving, now.value_or(latest_));
}

std::optional<TimePoint> Hub::nextDeadline() const {
  std::optional<TimePoint> next = mailbox_.nextExpiry();
  if (auto t = topics_.nextDeadline(); t && (!next || *t < *next)) next = t;
  if (!challengeExpiry_.empty()) {
    const TimePoint c = challengeExpiry_.begin()->first;
    if (!next || c < *next) next = c;
  }
  return next;
}

void Hub::handleTimeout(TimePoint now) {
  latest_ = std::max(latest_, now);
  topics_.expire(now);
  while (!challengeExpiry_.empty() && challengeExpiry_.begin()->first <= now) {
    const ConnId conn = challengeExpiry_.begin()->second;
    challengeExpiry_.erase(challengeExpiry_.begin());
    auto it = conns_.find(conn);
    if (it == conns_.end() || it->second.identity) continue;
    it->second.challenge.reset();
    ++stats_.authFailed;
    sendError(conn, "challenge-expired", "no valid answer to the challenge in time");
    close(conn, CloseReason::AuthTimeout);
  }
  auto expired = mailbox_.expire(now);
  if (!expired.empty()) {
    stats_.expired += expired.size();
    if (!store_->remove(expired)) ++stats_.storeErrors;  // load() skips expired rows anyway
  }
}

std::optional<HubCommand> Hub::nextCommand() {
  if (commands_.empty()) return std::nullopt;
  HubCommand c = std::move(commands_.front());
  commands_.pop_front();
  return c;
}

std::vector<HubCommand> Hub::drainCommands() {
  std::vector<HubCommand> out(std::make_move_iterator(commands_.begin()), std::make_move_iterator(commands_.end()));
  commands_.clear();
  return out;
}

std::optional<NodeId> Hub::identityOf(ConnId conn) const {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return std::nullopt;
  return it->second.identity;
}

std::optional<ConnId> Hub::connectionOf(const NodeId& id) const {
  auto it = byIdentity_.find(id);
  if (it == byIdentity_.end()) return std::nullopt;
  return it->second;
}

void Hub::send(ConnId conn, const Frame& frame) {
  commands_.push_back(SendFrame{conn, encodeFrameAs(framingOf(conn), frame)});
}

Framing Hub::framingOf(ConnId conn) const {
  auto it = conns_.find(conn);
  return it == conns_.end() ? Framing::Json : it->second.framing;
}

void Hub::sendError(ConnId conn, std::string code, std::string message, const EnvelopeHeader* about) {
  ErrorFrame f{std::move(code), std::move(message), std::nullopt, std::nullopt};
  if (about) {
    f.to = about->to;
    f.seq = about->seq;
  }
  send(conn, f);
  // Before authentication a client has nothing to gain from errors: a few are answered, then the
  // connection is closed (no error frame per junk frame forever).
  auto it = conns_.find(conn);
  if (it != conns_.end() && !it->second.identity && ++it->second.preAuthErrors >= config_.maxPreAuthErrors) {
    ++stats_.protocolCloses;
    close(conn, CloseReason::ProtocolErrors);
  }
}

void Hub::refuseEnvelope(ConnId conn, const EnvelopeHeader& about, std::string code, std::string message) {
  ++stats_.refused;
  sendError(conn, std::move(code), std::move(message), &about);
}

void Hub::clearChallenge(ConnId conn, Connection& c) {
  if (c.challenge) challengeExpiry_.erase({c.challenge->expiresAt, conn});
  c.challenge.reset();
}

void Hub::close(ConnId conn, CloseReason reason) {
  if (!conns_.contains(conn)) return;  // closed already (e.g. by sendError's pre-auth limit)
  commands_.push_back(CloseConnection{conn, reason});
  disconnected(conn);  // forget it now: later frames from it are ignored
}

}  // namespace rdv::signalling
