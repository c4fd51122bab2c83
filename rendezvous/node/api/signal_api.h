// The signalling hub on the node: WebSocket /v1/signal on the HTTP API thread, feeding the sans-I/O hub
// core (signalling/hub) and performing its commands. Mailboxes live in the node's SQLite database, so
// an envelope acknowledged "stored" survives a restart.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "rendezvous/identity/node_id.h"
#include "rendezvous/node/config.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/node/ledger/ledger.h"
#include "rendezvous/storage/database.h"
#include "signalling/envelope/crypto.h"
#include "signalling/hub/hub.h"
#include "signalling/hub/sqlite_mailbox_store.h"
#include "rendezvous/base/result.h"

namespace rdv::node {

// The hub's limits from the signal-* configuration keys.
signalling::HubConfig signalHubConfig(const Config& config, const identity::NodeId& nodeId);
// signalling::validateConfig() on those limits, the error naming the configuration key
// ("configuration key 'signal-max-frame-bytes': ..."); nullopt when they can run a hub.
std::optional<std::string> validateSignalConfig(const Config& config);

class SignalApi {
 public:
  // Opens the mailbox store in `db` and loads what is waiting. `db` must outlive this object, and so
  // must `usage` (where path-report frames are counted; may be null).
  static Result<std::unique_ptr<SignalApi>, std::string> open(storage::Database& db,
                                                              const signalling::HubConfig& config,
                                                              UsageSink* usage = nullptr);

  // Registers /v1/signal and the expiry timer; call before server.start(). `server` must outlive the
  // registration (this object is used only from the server's API thread afterwards).
  void attach(HttpServer& server);
  // Recipients this predicate accepts count as known (the long mailbox TTL) even before they connect.
  void setKnownCheck(std::function<bool(const identity::NodeId&)> check) { hub_->setKnownCheck(std::move(check)); }
  // API thread only.
  const signalling::HubStats& stats() const { return hub_->stats(); }
  size_t connections() const { return hub_->connections(); }
  size_t mailboxEnvelopes() const { return hub_->mailbox().size(); }
  size_t mailboxBytes() const { return hub_->mailbox().bytes(); }

 private:
  SignalApi() = default;
  void flush();

  std::optional<signalling::SqliteMailboxStore> store_;
  signalling::CryptoRng rng_;
  std::unique_ptr<signalling::Hub> hub_;
  HttpServer* server_ = nullptr;
  UsageSink* usage_ = nullptr;
};

}  // namespace rdv::node
