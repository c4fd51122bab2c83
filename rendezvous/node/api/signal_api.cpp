#include "rendezvous/node/api/signal_api.h"

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
    case F::HubId:
    case F::ChallengeTtl:
    case F::MaxPreAuthErrors: return "signalling: " + problem->message;  // not configurable
  }
  return "configuration key '" + std::string(key) + "': " + problem->message;
}

Result<std::unique_ptr<SignalApi>, std::string> SignalApi::open(storage::Database& db,
                                                                const signalling::HubConfig& config, UsageSink* usage) {
  if (auto problem = signalling::validateConfig(config)) return unexpected("signalling: " + problem->message);
  std::unique_ptr<SignalApi> api(new SignalApi());
  api->usage_ = usage;
  auto store = signalling::SqliteMailboxStore::open(db);
  if (!store) return unexpected("signalling mailbox store: " + store.error().message);
  api->store_.emplace(std::move(*store));
  api->hub_ = std::make_unique<signalling::Hub>(config, *api->store_, api->rng_);
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
    hub_->disconnected(conn);
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
      if (closedWhileChecking_.erase(done.conn)) hub_->disconnected(done.conn);
    } else if (left->second <= kResumeBacklog && paused_.erase(done.conn)) {
      server_->setReading(done.conn, true);
    }
  }
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
