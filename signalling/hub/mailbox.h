// The hub's in-memory view of the mailboxes: envelopes per recipient in arrival (id) order,
// kept until the recipient confirms them or they expire, the caps, and an expiry index. The MailboxStore holds the durable copy; the hub writes
// there first and adds here after the write returned.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "signalling/hub/mailbox_store.h"

namespace rdv::signalling {

struct MailboxLimits {
  size_t perRecipient = 256;               // envelopes waiting for one recipient
  size_t total = 100'000;                  // envelopes waiting, all recipients
  size_t totalBytes = 256 * 1024 * 1024;  // their encoded size, all recipients
};

enum class MailboxLimit { PerRecipient, Total, TotalBytes };
// "recipient-mailbox-full", "mailbox-full", "mailbox-bytes-full": the error codes of the hub.
const char* limitCode(MailboxLimit l);

class Mailbox {
 public:
  explicit Mailbox(MailboxLimits limits) : limits_(limits) {}

  // Which limit storing `e` would exceed, if any.
  std::optional<MailboxLimit> wouldExceed(const Envelope& e) const;
  // Adds an envelope already written to the store. Does not check the limits (load() must keep
  // everything that was acknowledged, even if the limits were lowered since).
  void add(StoredEnvelope e);
  // Everything waiting for `recipient`, in id order (copies; nothing is removed).
  std::vector<StoredEnvelope> pending(const NodeId& recipient) const;
  // Removes the envelopes from `sender` to `recipient` with seq <= uptoSeq; returns their ids.
  std::vector<int64_t> confirm(const NodeId& recipient, const NodeId& sender, uint64_t uptoSeq);
  // Removes the envelopes with expiresAt <= now; returns their ids.
  std::vector<int64_t> expire(TimePoint now);

  std::optional<TimePoint> nextExpiry() const;
  size_t size() const { return total_; }
  size_t bytes() const { return bytes_; }
  size_t countFor(const NodeId& recipient) const;

  static size_t encodedSize(const Envelope& e);

 private:
  void forget(const StoredEnvelope& s);

  MailboxLimits limits_;
  std::unordered_map<NodeId, std::deque<StoredEnvelope>, identity::NodeIdHash> byRecipient_;
  // (expiry, id) in time order, so expiry needs no scan; the id leads to the recipient below.
  std::set<std::pair<TimePoint, int64_t>> expiry_;
  // id -> recipient: finds the deque an expiring id sits in.
  std::unordered_map<int64_t, NodeId> recipientOf_;
  size_t total_ = 0;
  size_t bytes_ = 0;
};

}  // namespace rdv::signalling
