// The hub's part of envelope version 2 (docs/signalling.md, "Version 2: compact envelopes"): the
// sender is recovered from the signature, and a short (8-byte) recipient is resolved to the one
// identity it names: the live connection with that prefix, else the one known identity with it.
#include <cstring>

#include "signalling/envelope/envelope_v2.h"
#include "signalling/hub/hub.h"

namespace rdv::signalling {

uint64_t Hub::shortIdKey(const NodeId& id) {
  uint64_t key = 0;
  std::memcpy(&key, id.bytes.data(), sizeof key);
  return key;
}

void Hub::forgetPrefix(const NodeId& id) {
  auto [first, last] = knownByPrefix_.equal_range(shortIdKey(id));
  for (auto it = first; it != last; ++it) {
    if (it->second == id) {
      knownByPrefix_.erase(it);
      return;
    }
  }
}

std::optional<NodeId> Hub::resolveShortRecipient(const NodeId& prefix) const {
  auto [first, last] = knownByPrefix_.equal_range(shortIdKey(prefix));
  std::optional<NodeId> live, known;
  size_t lives = 0, knowns = 0;
  for (auto it = first; it != last; ++it) {
    ++knowns;
    known = it->second;
    if (byIdentity_.contains(it->second)) {
      ++lives;
      live = it->second;
    }
  }
  if (lives == 1) return live;
  if (lives == 0 && knowns == 1) return known;
  return std::nullopt;  // nobody, or (2^64 work to make) two identities with that prefix
}

bool Hub::admitV2(ConnId conn, Envelope& envelope, const CheckedFrame* checked) {
  if (checked != nullptr && checked->envelopeChecked) {
    if (checked->envelopeError) {
      refuseEnvelope(conn, envelope.header, errorCode(*checked->envelopeError), describe(*checked->envelopeError));
      return false;
    }
  } else {
    auto verified = verify(envelope);
    if (!verified) {
      refuseEnvelope(conn, envelope.header, errorCode(verified.error()), describe(verified.error()));
      return false;
    }
    envelope.header.from = verified->header().from;
  }
  if (!envelope.shortTo) return true;
  auto to = resolveShortRecipient(envelope.header.to);
  if (!to) {
    refuseEnvelope(conn, envelope.header, "unknown-recipient",
                   "no single identity known to this hub has this 8-byte prefix; send with the full recipient id");
    return false;
  }
  envelope.header.to = *to;
  return true;
}

}  // namespace rdv::signalling
