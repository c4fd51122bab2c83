// The recipient's defence against replayed envelopes: per sender, the highest sequence number
// accepted so far. An envelope passes only with a seq strictly above it. Apply it to a
// VerifiedEnvelope BEFORE open(): check(), then open(), then accept() once the body decrypted,
// so a forged-but-signed garbage envelope cannot burn a sequence number it never delivered.
// (admit() = check + accept, for callers that do not care.)
//
// State lives in memory; a client that restarts should persist highest() per sender (or refuse
// envelopes whose timestamp predates its start) if replays across restarts matter to it.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "signalling/envelope/envelope.h"

namespace rdv::signalling {

class ReplayGuard {
 public:
  // Replay when seq equals the highest accepted, StaleSequence when below it.
  Result<bool, EnvelopeError> check(const VerifiedEnvelope& e) const;
  // Raises the sender's high-water mark to e's seq (never lowers it).
  void accept(const VerifiedEnvelope& e);
  Result<bool, EnvelopeError> admit(const VerifiedEnvelope& e);

  std::optional<uint64_t> highest(const NodeId& sender) const;
  // Restores a persisted high-water mark (never lowers it).
  void restore(const NodeId& sender, uint64_t highestSeq);
  size_t senders() const { return highest_.size(); }

 private:
  std::unordered_map<NodeId, uint64_t, identity::NodeIdHash> highest_;
};

}  // namespace rdv::signalling
