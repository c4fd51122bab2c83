#include "signalling/hub/mailbox.h"

#include <algorithm>

#include "signalling/envelope/envelope_codec.h"

namespace rdv::signalling {

const char* limitCode(MailboxLimit l) {
  switch (l) {
    case MailboxLimit::PerRecipient: return "recipient-mailbox-full";
    case MailboxLimit::Total: return "mailbox-full";
    case MailboxLimit::TotalBytes: return "mailbox-bytes-full";
    case MailboxLimit::PerSender: return "sender-mailbox-full";
    case MailboxLimit::PerSenderBytes: return "sender-mailbox-bytes-full";
    case MailboxLimit::PerSenderRecipient: return "sender-recipient-mailbox-full";
  }
  return "mailbox-full";
}

size_t Mailbox::encodedSize(const Envelope& e) { return kBinaryFixedSize + e.ciphertext.size(); }

namespace {
size_t countFromTo(const std::deque<StoredEnvelope>* queue, const NodeId& sender) {
  if (queue == nullptr) return 0;
  return static_cast<size_t>(std::count_if(queue->begin(), queue->end(),
                                           [&](const StoredEnvelope& s) { return s.envelope.header.from == sender; }));
}
}  // namespace

std::optional<MailboxLimit> Mailbox::wouldExceed(const Envelope& e) const {
  auto box = byRecipient_.find(e.header.to);
  const auto* queue = box == byRecipient_.end() ? nullptr : &box->second;
  if (countFromTo(queue, e.header.from) >= limits_.perSenderRecipient) return MailboxLimit::PerSenderRecipient;
  if (countFrom(e.header.from) >= limits_.perSender) return MailboxLimit::PerSender;
  if (bytesFrom(e.header.from) + encodedSize(e) > limits_.perSenderBytes) return MailboxLimit::PerSenderBytes;
  if (countFor(e.header.to) >= limits_.perRecipient) return MailboxLimit::PerRecipient;
  if (total_ >= limits_.total) return MailboxLimit::Total;
  if (bytes_ + encodedSize(e) > limits_.totalBytes) return MailboxLimit::TotalBytes;
  return std::nullopt;
}

Admission Mailbox::admit(const Envelope& e) {
  Admission out;
  const size_t size = encodedSize(e);
  {
    auto box = byRecipient_.find(e.header.to);
    const auto* queue = box == byRecipient_.end() ? nullptr : &box->second;
    // The sender's own caps: nothing else gives way for them.
    if (countFromTo(queue, e.header.from) >= limits_.perSenderRecipient) {
      out.refused = MailboxLimit::PerSenderRecipient;
      return out;
    }
  }
  if (countFrom(e.header.from) >= limits_.perSender) {
    out.refused = MailboxLimit::PerSender;
    return out;
  }
  if (bytesFrom(e.header.from) + size > limits_.perSenderBytes) {
    out.refused = MailboxLimit::PerSenderBytes;
    return out;
  }
  // Shared caps: a heavier sender gives way, or the newcomer is refused.
  while (countFor(e.header.to) >= limits_.perRecipient) {
    if (!evictFromRecipientBox(e, out)) {
      out.refused = MailboxLimit::PerRecipient;
      return out;
    }
  }
  while (total_ >= limits_.total || bytes_ + size > limits_.totalBytes) {
    const MailboxLimit which = total_ >= limits_.total ? MailboxLimit::Total : MailboxLimit::TotalBytes;
    if (!evictHeaviestSender(e, out)) {
      out.refused = which;
      return out;
    }
  }
  return out;
}

bool Mailbox::evictFromRecipientBox(const Envelope& e, Admission& out) {
  auto box = byRecipient_.find(e.header.to);
  if (box == byRecipient_.end()) return false;
  std::unordered_map<NodeId, size_t, identity::NodeIdHash> counts;  // at most perRecipient entries
  for (const auto& s : box->second) ++counts[s.envelope.header.from];
  auto heaviest = std::max_element(counts.begin(), counts.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
  const size_t mine = counts.contains(e.header.from) ? counts[e.header.from] : 0;
  // Evict only a sender still heavier than the newcomer afterwards, so two senders never take turns.
  if (heaviest == counts.end() || heaviest->first == e.header.from || heaviest->second <= mine + 1) return false;
  const NodeId victim = heaviest->first;
  auto oldest = std::find_if(box->second.begin(), box->second.end(),
                             [&](const StoredEnvelope& s) { return s.envelope.header.from == victim; });
  removeById(oldest->id, &out);
  return true;
}

bool Mailbox::evictHeaviestSender(const Envelope& e, Admission& out) {
  if (senderWeight_.empty()) return false;
  const auto [weight, heaviest] = *senderWeight_.rbegin();  // copies: the eviction changes the set
  if (heaviest == e.header.from) return false;
  if (weight <= bytesFrom(e.header.from) + encodedSize(e)) return false;
  const int64_t oldest = *bySender_.at(heaviest).ids.begin();
  removeById(oldest, &out);
  return true;
}

void Mailbox::add(StoredEnvelope e) {
  const NodeId to = e.envelope.header.to;
  account(e);
  auto& queue = byRecipient_[to];
  // Ids arrive increasing (store order); keep the deque sorted even if a caller does not.
  auto pos = std::upper_bound(queue.begin(), queue.end(), e.id,
                              [](int64_t id, const StoredEnvelope& s) { return id < s.id; });
  queue.insert(pos, std::move(e));
}

void Mailbox::account(const StoredEnvelope& s) {
  const size_t size = encodedSize(s.envelope);
  expiry_.emplace(s.expiresAt, s.id);
  recipientOf_.emplace(s.id, s.envelope.header.to);
  ++total_;
  bytes_ += size;
  SenderLoad& load = bySender_[s.envelope.header.from];
  if (load.count > 0) senderWeight_.erase({load.bytes, s.envelope.header.from});
  ++load.count;
  load.bytes += size;
  load.ids.insert(s.id);
  senderWeight_.emplace(load.bytes, s.envelope.header.from);
}

void Mailbox::unaccount(const StoredEnvelope& s) {
  const size_t size = encodedSize(s.envelope);
  expiry_.erase({s.expiresAt, s.id});
  recipientOf_.erase(s.id);
  --total_;
  bytes_ -= size;
  auto it = bySender_.find(s.envelope.header.from);
  if (it == bySender_.end()) return;
  SenderLoad& load = it->second;
  senderWeight_.erase({load.bytes, s.envelope.header.from});
  --load.count;
  load.bytes -= size;
  load.ids.erase(s.id);
  if (load.count == 0) {
    bySender_.erase(it);
  } else {
    senderWeight_.emplace(load.bytes, s.envelope.header.from);
  }
}

void Mailbox::removeById(int64_t id, Admission* out) {
  auto owner = recipientOf_.find(id);
  if (owner == recipientOf_.end()) return;
  auto queueIt = byRecipient_.find(owner->second);
  if (queueIt == byRecipient_.end()) {
    recipientOf_.erase(owner);
    return;
  }
  auto& queue = queueIt->second;
  auto entry = std::find_if(queue.begin(), queue.end(), [id](const StoredEnvelope& s) { return s.id == id; });
  if (entry == queue.end()) {
    recipientOf_.erase(owner);
    return;
  }
  unaccount(*entry);
  if (out != nullptr) out->evicted.push_back(std::move(*entry));
  queue.erase(entry);
  if (queue.empty()) byRecipient_.erase(queueIt);
}

void Mailbox::replaceFor(const NodeId& recipient, std::vector<StoredEnvelope> entries) {
  std::vector<int64_t> held;
  if (auto it = byRecipient_.find(recipient); it != byRecipient_.end())
    for (const auto& s : it->second) held.push_back(s.id);
  for (int64_t id : held) removeById(id, nullptr);
  for (auto& e : entries)
    if (e.envelope.header.to == recipient && !recipientOf_.contains(e.id)) add(std::move(e));
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
  for (const auto& s : it->second) {
    if (s.envelope.header.from == sender && s.envelope.header.seq <= uptoSeq) ids.push_back(s.id);
  }
  for (int64_t id : ids) removeById(id, nullptr);
  return ids;
}

std::vector<int64_t> Mailbox::expire(TimePoint now) {
  std::vector<int64_t> ids;
  while (!expiry_.empty() && expiry_.begin()->first <= now) {
    const int64_t id = expiry_.begin()->second;
    expiry_.erase(expiry_.begin());
    removeById(id, nullptr);
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

size_t Mailbox::countFrom(const NodeId& sender) const {
  auto it = bySender_.find(sender);
  return it == bySender_.end() ? 0 : it->second.count;
}

size_t Mailbox::bytesFrom(const NodeId& sender) const {
  auto it = bySender_.find(sender);
  return it == bySender_.end() ? 0 : it->second.bytes;
}

}  // namespace rdv::signalling
