#include "signalling/envelope/replay_guard.h"

namespace rdv::signalling {

Result<bool, EnvelopeError> ReplayGuard::check(const VerifiedEnvelope& e) const {
  auto it = highest_.find(e.header().from);
  if (it == highest_.end() || e.header().seq > it->second) return true;
  return unexpected(e.header().seq == it->second ? EnvelopeError::Replay : EnvelopeError::StaleSequence);
}

void ReplayGuard::accept(const VerifiedEnvelope& e) { restore(e.header().from, e.header().seq); }

Result<bool, EnvelopeError> ReplayGuard::admit(const VerifiedEnvelope& e) {
  auto ok = check(e);
  if (ok) accept(e);
  return ok;
}

std::optional<uint64_t> ReplayGuard::highest(const NodeId& sender) const {
  auto it = highest_.find(sender);
  if (it == highest_.end()) return std::nullopt;
  return it->second;
}

void ReplayGuard::restore(const NodeId& sender, uint64_t highestSeq) {
  auto [it, inserted] = highest_.try_emplace(sender, highestSeq);
  if (!inserted && highestSeq > it->second) it->second = highestSeq;
}

}  // namespace rdv::signalling
