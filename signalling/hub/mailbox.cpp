#include "signalling/hub/mailbox.h"

#include <algorithm>

#include "signalling/envelope/envelope_codec.h"

namespace rdv::signalling {

const char* limitCode(MailboxLimit l) {
  switch (l) {
    case MailboxLimit::PerRecipient: return "recipient-mailbox-full";
    case MailboxLimit::Total: return "mailbox-full";
    case MailboxLimit::TotalBytes: return "mailbox-bytes-full";
  }
  return "mailbox-full";
}

size_t Mailbox::encodedSize(const Envelope& e) { return kBinaryFixedSize + e.ciphertext.size(); }

std::optional<MailboxLimit> Mailbox::wouldExceed(const Envelope& e) const {
  if (countFor(e.header.to) >= limits_.perRecipient) return MailboxLimit::PerRecipient;
  if (total_ >= limits_.total) return MailboxLimit::Total;
  if (bytes_ + encodedSize(e) > limits_.totalBytes) return MailboxLimit::TotalBytes;
  return std::nullopt;
}

void Mailbox::add(StoredEnvelope e) {
  const NodeId to = e.envelope.header.to;
  expiry_.emplace(e.expiresAt, e.id);
  recipientOf_.emplace(e.id, to);
  ++total_;
  bytes_ += encodedSize(e.envelope);
  auto& queue = byRecipient_[to];
  // Ids arrive increasing (store order); keep the deque sorted even if a caller does not.
  auto pos = std::upper_bound(queue.begin(), queue.end(), e.id,
                              [](int64_t id, const StoredEnvelope& s) { return id < s.id; });
  queue.insert(pos, std::move(e));
}

std::vector<StoredEnvelope> Mailbox::pending(const NodeId& recipient) const {
  auto it = byRecipient_.find(recipient);
  if (it == byRecipient_.end()) return {};
  return std::vector<StoredEnvelope>(it->second.begin(), it->second.end());
}

std::vector<int64_t> Mailbox::confirm(const NodeId& recipient, const NodeId& sender, uint64_t uptoSeq) {
  std::vector<int64_t> ids;
  auto it = byRecipient_.find(recipient);
  if (it == byRecipient_.end()) return ids;
  auto& queue = it->second;
  auto confirmed = [&](const StoredEnvelope& s) {
    return s.envelope.header.from == sender && s.envelope.header.seq <= uptoSeq;
  };
  for (const auto& s : queue) {
    if (!confirmed(s)) continue;
    ids.push_back(s.id);
    expiry_.erase({s.expiresAt, s.id});
    forget(s);
  }
  queue.erase(std::remove_if(queue.begin(), queue.end(), confirmed), queue.end());
  if (queue.empty()) byRecipient_.erase(it);
  return ids;
}

void Mailbox::forget(const StoredEnvelope& s) {
  recipientOf_.erase(s.id);
  --total_;
  bytes_ -= encodedSize(s.envelope);
}

std::vector<int64_t> Mailbox::expire(TimePoint now) {
  std::vector<int64_t> ids;
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    const int64_t id = expiry_.begin()->second;
    expiry_.erase(expiry_.begin());
    auto owner = recipientOf_.find(id);
    if (owner == recipientOf_.end()) continue;
    auto queueIt = byRecipient_.find(owner->second);
    recipientOf_.erase(owner);
    if (queueIt == byRecipient_.end()) continue;
    auto& queue = queueIt->second;
    auto entry = std::find_if(queue.begin(), queue.end(), [id](const StoredEnvelope& s) { return s.id == id; });
    if (entry != queue.end()) {
      --total_;
      bytes_ -= encodedSize(entry->envelope);
      queue.erase(entry);
    }
    if (queue.empty()) byRecipient_.erase(queueIt);
    ids.push_back(id);
  }
  return ids;
}

std::optional<TimePoint> Mailbox::nextExpiry() const {
  if (expiry_.empty()) return std::nullopt;
  return expiry_.begin()->first;
}

size_t Mailbox::countFor(const NodeId& recipient) const {
  auto it = byRecipient_.find(recipient);
  return it == byRecipient_.end() ? 0 : it->second.size();
}

}  // namespace rdv::signalling
