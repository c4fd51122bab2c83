// Where the hub keeps envelopes for offline recipients so that an envelope acknowledged as
// "stored" survives a crash. The hub calls put() and acknowledges only after it returned; it
// calls remove() after handing envelopes to the recipient's connection or when they expire, and
// loadAll() once at start. Ids increase with insertion order and are never reused, so ordering by
// id is arrival order (per-sender order included) across restarts.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "signalling/envelope/envelope.h"

namespace rdv::signalling {

using TimePoint = std::chrono::system_clock::time_point;

struct StoreError {
  std::string message;
};

struct StoredEnvelope {
  int64_t id = 0;
  TimePoint expiresAt;
  Envelope envelope;
};

struct LoadedMailbox {
  std::vector<StoredEnvelope> envelopes;  // unexpired at load time, in id order
  size_t skipped = 0;                     // rows that no longer decode (never delivered)
};

class MailboxStore {
 public:
  virtual ~MailboxStore() = default;
  // Durable when it returns a value: the new id.
  virtual Result<int64_t, StoreError> put(const Envelope& e, TimePoint expiresAt) = 0;
  virtual Result<bool, StoreError> remove(std::span<const int64_t> ids) = 0;
  virtual Result<LoadedMailbox, StoreError> loadAll(TimePoint now) = 0;
  // A store shared by several hubs (a fleet's, in Redis) returns what it holds for `recipient` now, so
  // that the hub it authenticates at delivers envelopes other hubs stored; nullopt: this hub's memory
  // is the whole truth (a store of its own), or the shared store cannot be read right now.
  virtual std::optional<std::vector<StoredEnvelope>> loadFor(const NodeId& /*recipient*/, TimePoint /*now*/) {
    return std::nullopt;
  }
};

// Keeps nothing across restarts: for tests and for nodes run without a data directory.
// failNextPut() lets tests exercise the hub's storage-failure path.
class MemoryMailboxStore final : public MailboxStore {
 public:
  Result<int64_t, StoreError> put(const Envelope& e, TimePoint expiresAt) override;
  Result<bool, StoreError> remove(std::span<const int64_t> ids) override;
  Result<LoadedMailbox, StoreError> loadAll(TimePoint now) override;

  void failNextPut() { failNextPut_ = true; }
  size_t size() const { return rows_.size(); }

 private:
  std::map<int64_t, StoredEnvelope> rows_;
  int64_t nextId_ = 1;
  bool failNextPut_ = false;
};

}  // namespace rdv::signalling
