#include "signalling/hub/mailbox_store.h"

namespace rdv::signalling {

Result<int64_t, StoreError> MemoryMailboxStore::put(const Envelope& e, TimePoint expiresAt) {
  if (failNextPut_) {
    failNextPut_ = false;
    return unexpected(StoreError{"simulated storage failure"});
  }
  const int64_t id = nextId_++;
  rows_.emplace(id, StoredEnvelope{id, expiresAt, e});
  return id;
}

Result<bool, StoreError> MemoryMailboxStore::remove(std::span<const int64_t> ids) {
  for (int64_t id : ids) rows_.erase(id);
  return true;
}

Result<LoadedMailbox, StoreError> MemoryMailboxStore::loadAll(TimePoint now) {
  LoadedMailbox out;
  for (const auto& [id, row] : rows_) {
    if (row.expiresAt > now) out.envelopes.push_back(row);
  }
  return out;
}

}  // namespace rdv::signalling
