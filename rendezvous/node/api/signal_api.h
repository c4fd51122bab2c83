// The signalling hub on the node: WebSocket /v1/signal on the HTTP API thread, feeding the sans-I/O hub
// core (signalling/hub) and performing its commands. Mailboxes live in the node's SQLite database, so
// an envelope acknowledged "stored" survives a restart.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "rendezvous/identity/node_id.h"
#include "rendezvous/node/config.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/node/api/metrics.h"
#include "rendezvous/node/api/signal_verifier.h"
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
  // `shared` (a fleet's mailbox, docs/fleet.md) replaces the SQLite mailbox when given.
  static Result<std::unique_ptr<SignalApi>, std::string> open(storage::Database& db,
                                                              const signalling::HubConfig& config,
                                                              UsageSink* usage = nullptr,
                                                              std::unique_ptr<signalling::MailboxStore> shared = nullptr);

  // Registers /v1/signal and the expiry timer; call before server.start(). `server` must outlive the
  // registration (this object is used only from the server's API thread afterwards). With
  // `verifyThreads` > 0 frames are decoded and their signatures checked on that many pool threads
  // (signal_verifier.h), else inline on the API thread.
  void attach(HttpServer& server, unsigned verifyThreads = 0);
  // Recipients this predicate accepts count as known (the long mailbox TTL) even before they connect.
  void setKnownCheck(std::function<bool(const identity::NodeId&)> check) { hub_->setKnownCheck(std::move(check)); }
  // Presence by namespace (the registry's view; API thread only).
  void setNamespaceLookup(signalling::Presence::NamespacesOf namespacesOf, signalling::Presence::MembersOf membersOf) {
    hub_->setNamespaceLookup(std::move(namespacesOf), std::move(membersOf));
  }
  // Admin API bans: a banned identity's hub login is refused (Hub::setBanCheck).
  void setBanCheck(std::function<bool(const identity::NodeId&)> banned) { hub_->setBanCheck(std::move(banned)); }
  // Presence events (docs/signalling.md, "Presence") are signed with this key, the node's; without it
  // the hub sends none.
  void setNodeKey(const identity::PrivateKey& key);
  // API thread only.
  const signalling::HubStats& stats() const { return hub_->stats(); }
  // Topic and presence counters and gauges for /metrics (metrics.h).
  void exportTopicGauges(ApiGauges& gauges) const;
  size_t connections() const { return hub_->connections(); }
  size_t mailboxEnvelopes() const { return hub_->mailbox().size(); }
  size_t mailboxBytes() const { return hub_->mailbox().bytes(); }
  // A fleet (docs/fleet.md, signalling/hub/peer_router.h), API thread only: the router sees envelopes for
  // recipients connected elsewhere; it hands in other nodes' envelopes and the answers to its forwards.
  void setRouter(signalling::PeerRouter* router) { hub_->setRouter(router); }
  bool deliverRemote(signalling::Envelope envelope, uint64_t ref);
  void forwarded(uint64_t ticket, bool written);

 private:
  SignalApi() = default;
  void flush();
  void onFrame(uint64_t conn, std::string_view text);
  void drainVerified();  // API thread: the pool's results into the hub

  std::optional<signalling::SqliteMailboxStore> store_;
  std::unique_ptr<signalling::MailboxStore> shared_;  // a fleet's mailbox instead of store_
  signalling::CryptoRng rng_;
  std::unique_ptr<signalling::Hub> hub_;
  HttpServer* server_ = nullptr;
  UsageSink* usage_ = nullptr;
  std::unique_ptr<SignalVerifierPool> verifier_;  // destroyed first: its threads post to server_
  std::atomic<bool> drainPosted_{false};
  std::unordered_set<uint64_t> paused_;  // connections not read while their frames wait in the pool
  std::unordered_map<uint64_t, size_t> outstanding_;  // frames in the pool or not yet drained, by connection
  std::unordered_set<uint64_t> closedWhileChecking_;  // closed; the hub hears it after their frames
  uint64_t topicDropped_ = 0;  // topic frames a subscriber's full output queue refused
};

}  // namespace rdv::node
