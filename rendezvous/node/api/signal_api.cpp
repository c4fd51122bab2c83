#include "rendezvous/node/api/signal_api.h"

#include <algorithm>
#include <type_traits>

#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {
signalling::TimePoint wallNow() { return std::chrono::system_clock::now(); }
}  // namespace

signalling::HubConfig signalHubConfig(const Config& c, const identity::NodeId& nodeId) {
  signalling::HubConfig h;
  h.hubId = nodeId;
  h.maxCiphertextBytes = c.signalMaxEnvelopeBytes;
  h.maxFrameBytes = c.signalMaxFrameBytes;
  h.framesPerSecond = c.signalRate;
  h.frameBurst = c.signalBurst;
  h.mailbox.perRecipient = c.signalMailboxPerRecipient;
  h.mailbox.total = c.signalMailboxTotal;
  h.mailbox.totalBytes = c.signalMailboxBytes;
  h.mailboxTtl = std::chrono::seconds(c.signalMailboxTtlSeconds);
  h.mailbox.perSender = c.signalMailboxPerSender;
  h.mailbox.perSenderBytes = c.signalMailboxPerSenderBytes;
  h.mailbox.perSenderRecipient = c.signalMailboxPerSenderRecipient;
  h.unknownRecipientTtl = std::chrono::seconds(c.signalMailboxUnknownTtlSeconds);
  h.topics.historyMessages = c.signalTopicHistory;
  h.topics.historyTtl = std::chrono::seconds(c.signalTopicTtlSeconds);
  h.topics.maxTopics = c.signalTopicMax;
  h.topics.subscriptionsPerConnection = c.signalTopicSubscriptions;
  h.topics.historyBytes = c.signalTopicHistoryBytes;
  // At most what a publish frame within signal-max-frame-bytes carries (base64url plus ~1 KiB of fields),
  // so a small frame limit needs no matching topic key.
  const size_t fits = c.signalMaxFrameBytes > 1024 ? (c.signalMaxFrameBytes - 1024) / 4 * 3 : 1;
  h.topics.maxBodyBytes = std::min<size_t>(c.signalTopicMaxBytes, std::max<size_t>(fits, 1));
  h.topics.publishPerSecond = c.signalTopicPublishRate;
  h.topics.publishBurst = 2.0 * c.signalTopicPublishRate;
  h.topics.topicPerSecond = c.signalTopicRate;
  h.topics.topicBurst = 2.0 * c.signalTopicRate;
  h.presence.watchesPerConnection = c.signalPresenceWatches;
  return h;
}

std::optional<std::string> validateSignalConfig(const Config& config) {
  identity::NodeId placeholder;  // the node key is loaded later; any non-zero id checks the limits
  placeholder.bytes[0] = 1;
  auto problem = signalling::validateConfig(signalHubConfig(config, placeholder));
  if (!problem) return std::nullopt;
  using F = signalling::HubConfigField;
  const char* key = "signal-max-envelope-bytes";
  switch (problem->field) {
    case F::MaxCiphertextBytes: key = "signal-max-envelope-bytes"; break;
    case F::MaxFrameBytes: key = "signal-max-frame-bytes"; break;
    case F::FramesPerSecond: key = "signal-rate"; break;
    case F::FrameBurst: key = "signal-burst"; break;
    case F::MailboxPerRecipient: key = "signal-mailbox-per-recipient"; break;
    case F::MailboxTotal: key = "signal-mailbox-total"; break;
    case F::MailboxBytes: key = "signal-mailbox-bytes"; break;
    case F::MailboxTtl: key = "signal-mailbox-ttl"; break;
    case F::MailboxPerSender: key = "signal-mailbox-per-sender"; break;
    case F::MailboxPerSenderBytes: key = "signal-mailbox-per-sender-bytes"; break;
    case F::MailboxPerSenderRecipient: key = "signal-mailbox-per-sender-recipient"; break;
    case F::UnknownRecipientTtl: key = "signal-mailbox-unknown-ttl"; break;
    case F::TopicHistory: key = "signal-topic-history"; break;
    case F::TopicTtl: key = "signal-topic-ttl"; break;
    case F::TopicMax: key = "signal-topic-max"; break;
    case F::TopicSubscriptions: key = "signal-topic-subscriptions"; break;
    case F::TopicHistoryBytes: key = "signal-topic-history-bytes"; break;
    case F::TopicMaxBytes: key = "signal-topic-max-bytes"; break;
    case F::TopicPublishRate: key = "signal-topic-publish-rate"; break;
    case F::TopicRate: key = "signal-topic-rate"; break;
    case F::PresenceWatches: key = "signal-presence-watches"; break;
    case F::HubId:
    case F::ChallengeTtl:
    case F::MaxPreAuthErrors: return "signalling: " + problem->message;  // not configurable
  }
  return "configuration key '" + std::string(key) + "': " + problem->message;
}

Result<std::unique_ptr<SignalApi>, std::string> SignalApi::open(storage::Database& db,
                                                                const signalling::HubConfig& config, UsageSink* usage,
                                                                std::unique_ptr<signalling::MailboxStore> shared) {
  if (auto problem = signalling::validateConfig(config)) return unexpected("signalling: " + problem->message);
  std::unique_ptr<SignalApi> api(new SignalApi());
  api->usage_ = usage;
  auto store = signalling::SqliteMailboxStore::open(db);
  if (!store) return unexpected("signalling mailbox store: " + store.error().message);
  api->store_.emplace(std::move(*store));
  api->shared_ = std::move(shared);
  signalling::MailboxStore& used = api->shared_ ? *api->shared_ : static_cast<signalling::MailboxStore&>(*api->store_);
  api->hub_ = std::make_unique<signalling::Hub>(config, used, api->rng_);
  auto loaded = api->hub_->load(wallNow());
  if (!loaded) return unexpected(std::string("signalling mailboxes: cannot load stored envelopes"));
  logEvent(Level::Info, "signalling-mailboxes-loaded", {{"envelopes", *loaded}});
  return api;
}

void SignalApi::attach(HttpServer& server, unsigned verifyThreads) {
  server_ = &server;
  if (verifyThreads > 0) {
    verifier_ = std::make_unique<SignalVerifierPool>(verifyThreads, [this] {
      if (!drainPosted_.exchange(true)) server_->post([this] { drainVerified(); });
    });
  }
  WebSocketHandlers h;
  h.onOpen = [this](uint64_t conn, const std::string&) {
    // rdv.cbor.1 or rdv.json.1 (lws refuses any other name at the upgrade); none named: JSON.
    const auto framing = signalling::framingOf(server_->subprotocolOf(conn));
    hub_->connected(conn, wallNow(), framing.value_or(signalling::Framing::Json));
    flush();
  };
  h.onMessage = [this](uint64_t conn, std::string_view text) { onFrame(conn, text); };
  h.onClose = [this](uint64_t conn) {
    paused_.erase(conn);
    if (outstanding_.count(conn)) {
      // Frames it sent before closing are still in the pool (a "received" confirmation, say): the hub
      // hears of the close after them, in order (drainVerified).
      closedWhileChecking_.insert(conn);
      return;
    }
    hub_->disconnected(conn, wallNow());
    flush();
  };
  server.websocket("/v1/signal", std::move(h), hub_->config().maxFrameBytes);
  server.websocketSubprotocol(std::string(signalling::kJsonSubprotocol), false);
  server.websocketSubprotocol(std::string(signalling::kCborSubprotocol), true);
  // Challenge and mailbox expiry: the hub's deadlines are coarse (seconds), a 1 s tick serves them.
  server.every(std::chrono::seconds(1), [this] {
    const auto now = wallNow();
    if (auto d = hub_->nextDeadline(); d && *d <= now) {
      hub_->handleTimeout(now);
      flush();
    }
  });
}

// A connection with this many frames in the pool is not read until it is down to kResumeBacklog:
// TCP holds the rest, so a flood costs the node at most kPauseBacklog frames per connection.
constexpr size_t kPauseBacklog = 16;
constexpr size_t kResumeBacklog = 4;

void SignalApi::onFrame(uint64_t conn, std::string_view text) {
  if (!verifier_) {
    hub_->handleFrame(conn, text, wallNow());
    flush();
    return;
  }
  // The frame rate first: a frame over it costs no decoding and no signature recovery. Its error frame
  // may pass results of earlier frames still in the pool (errors name what they refuse).
  if (!hub_->admitFrame(conn, wallNow())) {
    flush();
    return;
  }
  verifier_->submit(conn, std::string(text), hub_->checkContext(conn));
  if (++outstanding_[conn] >= kPauseBacklog && paused_.insert(conn).second) server_->setReading(conn, false);
}

void SignalApi::drainVerified() {
  drainPosted_.store(false);
  for (auto& done : verifier_->takeDone()) {
    hub_->handleChecked(done.conn, std::move(done.checked), wallNow());
    auto left = outstanding_.find(done.conn);
    if (left == outstanding_.end()) continue;
    if (--left->second == 0) {
      outstanding_.erase(left);
      if (closedWhileChecking_.erase(done.conn)) hub_->disconnected(done.conn, wallNow());
    } else if (left->second <= kResumeBacklog && paused_.erase(done.conn)) {
      server_->setReading(done.conn, true);
    }
  }
  flush();
}

void SignalApi::setNodeKey(const identity::PrivateKey& key) {
  hub_->setPresenceSigner([key](const identity::Hash256& digest) -> std::optional<identity::RecoverableSignature> {
    auto sig = key.signRecoverable(digest);
    if (!sig) return std::nullopt;
    return *sig;
  });
}

void SignalApi::exportTopicGauges(ApiGauges& g) const {
  auto set = [](std::atomic<uint64_t>& a, uint64_t v) { a.store(v, std::memory_order_relaxed); };
  const auto& t = hub_->topics().stats();
  set(g.topics, hub_->topics().topics());
  set(g.topicHistoryBytes, hub_->topics().historyBytes());
  set(g.topicPublished, t.published);
  set(g.topicDelivered, t.fannedOut);
  set(g.topicDropped, topicDropped_);
  set(g.topicRefusedPublisherRate, t.rateLimited);
  set(g.topicRefusedTopicRate, t.topicRateLimited);
  set(g.topicRefusedNotMember, t.notMember);
  set(g.topicRefusedLimit, t.limitRefused);
  set(g.topicHistoryEvicted, t.historyEvicted);
  const auto& p = hub_->presence().stats();
  set(g.presenceWatches, hub_->presence().watches());
  set(g.presenceEvents, p.events);
  set(g.presenceWatchRefused, p.watchRefused);
}

bool SignalApi::deliverRemote(signalling::Envelope envelope, uint64_t ref) {
  const bool taken = hub_->deliverRemote(std::move(envelope), ref);
  flush();
  return taken;
}

void SignalApi::forwarded(uint64_t ticket, bool written) {
  hub_->forwarded(ticket, written, wallNow());
  flush();
}

void SignalApi::flush() {
  while (auto command = hub_->nextCommand()) {
    std::visit(
        [this](auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, signalling::SendFrame>) {
            const bool written = server_->sendText(c.conn, std::move(c.text));
            if (!written) logEvent(Level::Debug, "signal-send-dropped", {{"connection", c.conn}});
            if (!written && c.topic) ++topicDropped_;  // a subscriber that does not read misses it
            // A forwarded envelope is acknowledged only now, by what the write did (hub.h): a recipient
            // that does not read gets it stored instead; the hub's new commands join this loop.
            if (c.forward) hub_->forwarded(*c.forward, written, wallNow());
          } else if constexpr (std::is_same_v<T, signalling::PathReported>) {
            const auto unix = std::chrono::duration_cast<std::chrono::seconds>(wallNow().time_since_epoch()).count();
            if (usage_ != nullptr)
              usage_->post(storage::LedgerPathReport{c.report.path, c.report.local, c.report.remote, unix});
            logEvent(Level::Debug, "path-report",
                     {{"node", c.node.hex()}, {"path", c.report.path}, {"local", c.report.local},
                      {"remote", c.report.remote}});
          } else {
            server_->closeWebSocket(c.conn, signalling::closeReasonName(c.reason), signalling::closeCode(c.reason));
          }
        },
        *command);
  }
}

}  // namespace rdv::node
