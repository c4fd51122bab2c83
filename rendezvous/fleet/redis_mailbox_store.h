// The mailbox of a fleet (docs/fleet.md, "Signalling"): envelopes for offline recipients in Redis, one
// sorted set per recipient (score: a fleet-wide id from one counter, so ids increase in arrival order
// across nodes), so the recipient collects them at whichever node it authenticates next: the hub there
// asks loadFor() and delivers. put() returns once Redis has the envelope (durable as Redis's AOF is:
// docs/fleet.md). Nothing is loaded at start (loadAll is empty): each recipient's box is read when it
// authenticates. Runs on the API thread with that thread's RedisClient.
#pragma once

#include <memory>
#include <unordered_map>

#include "rendezvous/fleet/keys.h"
#include "rendezvous/fleet/redis_client.h"
#include "signalling/hub/mailbox_store.h"

namespace rdv::fleet {

class RedisMailboxStore final : public signalling::MailboxStore {
 public:
  // `maxLoad`: envelopes loadFor() reads for one recipient (the per-recipient cap).
  RedisMailboxStore(Keys keys, std::shared_ptr<RedisClient> redis, size_t maxLoad);

  Result<int64_t, signalling::StoreError> put(const signalling::Envelope& e, signalling::TimePoint expiresAt) override;
  Result<bool, signalling::StoreError> remove(std::span<const int64_t> ids) override;
  Result<signalling::LoadedMailbox, signalling::StoreError> loadAll(signalling::TimePoint now) override;
  std::optional<std::vector<signalling::StoredEnvelope>> loadFor(const signalling::NodeId& recipient,
                                                                 signalling::TimePoint now) override;

 private:
  Keys keys_;
  std::shared_ptr<RedisClient> redis_;
  size_t maxLoad_;
  // id -> recipient of every envelope this node put or loaded: remove() takes ids only, and the hub
  // removes only ids it holds.
  std::unordered_map<int64_t, signalling::NodeId> recipientOf_;
};

}  // namespace rdv::fleet
