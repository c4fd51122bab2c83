// The hub's in-memory view of the mailboxes: envelopes per recipient in arrival (id) order,
// kept until the recipient confirms them or they expire, the caps, and an expiry index. The MailboxStore
// holds the durable copy; the hub writes there first and adds here after the write returned.
//
// Hostile by default (issue 12): keys are free, so besides the per-recipient and global caps every
// sender has caps of its own (envelopes and bytes waiting from it, and envelopes from it waiting for one
// recipient). When a shared cap (a recipient's mailbox, the total count or bytes) is reached, room is
// made by evicting the oldest envelope of the heaviest sender in that scope, but only if that sender
// would still be heavier than the newcomer afterwards: a key that floods loses its own envelopes first,
// and an honest sender with a few envelopes waiting is never the one evicted for a heavier one.
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
  size_t perSender = 1024;                 // envelopes waiting from one sender, all recipients
  size_t perSenderBytes = 4 * 1024 * 1024; // their encoded size
  size_t perSenderRecipient = 64;          // envelopes from one sender waiting for one recipient
};

enum class MailboxLimit { PerRecipient, Total, TotalBytes, PerSender, PerSenderBytes, PerSenderRecipient };
// "recipient-mailbox-full", "mailbox-full", "mailbox-bytes-full", "sender-mailbox-full",
// "sender-mailbox-bytes-full", "sender-recipient-mailbox-full": the error codes of the hub.
const char* limitCode(MailboxLimit l);

// What admit() decided: refused (with the cap), or admitted after evicting these envelopes (already
// removed from the mailbox; the hub deletes them from the store and tells their senders).
struct Admission {
  std::optional<MailboxLimit> refused;
  std::vector<StoredEnvelope> evicted;
};

class Mailbox {
 public:
  explicit Mailbox(MailboxLimits limits) : limits_(limits) {}

  // Which limit storing `e` would exceed, if any, counting no eviction.
  std::optional<MailboxLimit> wouldExceed(const Envelope& e) const;
  // Makes room for `e`: refuses when the sender's own caps are reached, or when a shared cap is reached
  // and no heavier sender can give way; otherwise evicts as needed (see the top of this file). Call
  // add() once the envelope is in the store.
  Admission admit(const Envelope& e);
  // Adds an envelope already written to the store. Does not check the limits (load() must keep
  // everything that was acknowledged, even if the limits were lowered since).
  void add(StoredEnvelope e);
  // Replaces what is waiting for `recipient` with `entries` (a shared store's view, mailbox_store.h).
  void replaceFor(const NodeId& recipient, std::vector<StoredEnvelope> entries);
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
  size_t countFrom(const NodeId& sender) const;
  size_t bytesFrom(const NodeId& sender) const;

  static size_t encodedSize(const Envelope& e);

 private:
  // What one sender has waiting, all recipients.
  struct SenderLoad {
    size_t count = 0;
    size_t bytes = 0;
    std::set<int64_t> ids;  // in arrival order: the oldest is evicted first
  };
  bool evictFromRecipientBox(const Envelope& e, Admission& out);
  bool evictHeaviestSender(const Envelope& e, Admission& out);
  void removeById(int64_t id, Admission* out);
  void account(const StoredEnvelope& s);
  void unaccount(const StoredEnvelope& s);

  MailboxLimits limits_;
  std::unordered_map<NodeId, std::deque<StoredEnvelope>, identity::NodeIdHash> byRecipient_;
  // (expiry, id) in time order, so expiry needs no scan; the id leads to the recipient below.
  std::set<std::pair<TimePoint, int64_t>> expiry_;
  // id -> recipient: finds the deque an expiring or evicted id sits in.
  std::unordered_map<int64_t, NodeId> recipientOf_;
  // sender -> its load: the per-sender caps, and the ids eviction takes from.
  std::unordered_map<NodeId, SenderLoad, identity::NodeIdHash> bySender_;
  // (bytes waiting, sender) in weight order: the heaviest sender without a scan.
  std::set<std::pair<size_t, NodeId>> senderWeight_;
  size_t total_ = 0;
  size_t bytes_ = 0;
};

}  // namespace rdv::signalling
