// CreatePermission (RFC 8656 §9.2), step by step, and installing a permission (shared with ChannelBind).
#include <algorithm>

#include "relay/server.h"

namespace rdv::relay {

Bytes Server::onCreatePermission(const Request& r) {
  const stun::MessageView& m = r.msg;
  // §9.2 via §5: no allocation on this 5-tuple: 437.
  if (!r.allocation) return errorReply(r, noAllocationCode(r));
  Allocation& a = *r.allocation;
  // §9.2: at least one XOR-PEER-ADDRESS, all well formed: else 400.
  const std::vector<Endpoint> peers = m.xorAddresses(stun::attr::XorPeerAddress);
  if (peers.empty()) return errorReply(r, stun::error::BadRequest);
  // §9.2: every peer address of a family the allocation relays: else 443.
  for (const Endpoint& peer : peers) {
    if (!a.hasFamily(peer.family())) return errorReply(r, stun::error::PeerAddressFamilyMismatch);
  }
  // §9.2: local policy (DESIGN principle 6) may forbid an address: 403, and nothing is installed.
  size_t fresh = 0;
  for (const Endpoint& peer : peers) {
    const PolicyVerdict v = config_->policy.checkAddress(peer.ip());
    if (v != PolicyVerdict::Allowed) {
      log(LogLevel::Debug, "permission for " + peer.ip().toString() + " " + std::string(toString(v)));
      return errorReply(r, stun::error::Forbidden);
    }
    if (!a.findPermission(peer.ip())) ++fresh;
  }
  // §9.2: the server may refuse for lack of capacity: 508.
  if (config_->maxPermissionsPerAllocation != 0 &&
      a.permissions.size() + fresh > config_->maxPermissionsPerAllocation) {
    return errorReply(r, stun::error::InsufficientCapacity);
  }
  // §9.2: install or refresh each permission, for the permission lifetime (300 s).
  for (const Endpoint& peer : peers) installPermission(a, peer.ip(), r.now.mono);
  stun::MessageBuilder b = stun::MessageBuilder::responseTo(m, stun::Class::Success);
  return finish(b, m, &r.credentials);
}

// RFC 8656 §2.3 / §9: a permission is keyed by IP address only; refreshing it also refreshes the copy of
// its expiry held in each channel record for that address (see ChannelBinding::permissionExpires).
void Server::installPermission(Allocation& a, const IpAddress& peer, Instant now) {
  const Instant expires = now + config_->permissionLifetime;
  bool found = false;
  for (Permission& p : a.permissions) {
    if (p.peer == peer) {
      p.expires = expires;
      found = true;
    }
  }
  if (!found) {
    a.permissions.push_back(Permission{peer, expires});
    ++stats_.permissionsActive;
    // Metering: distinct peers over the allocation's life, whether or not their permission lapsed since.
    if (std::find(a.peersSeen.begin(), a.peersSeen.end(), peer) == a.peersSeen.end()) {
      ++a.info.peers;
      if (a.peersSeen.size() < Allocation::kMaxPeersRemembered) a.peersSeen.push_back(peer);
    }
  }
  for (uint16_t number : a.channels) {
    const auto it = channels_.find(ChannelKey{a.tuple(), number});
    if (it != channels_.end() && it->second.peer.ip() == peer) it->second.permissionExpires = expires;
  }
  schedule(a, expires);
}

}  // namespace rdv::relay
