// ChannelBind (RFC 8656 §11.2), step by step, and the channel records it installs.
#include "relay/server.h"
#include "stun/channel_data.h"

namespace rdv::relay {

Bytes Server::onChannelBind(const Request& r) {
  const stun::MessageView& m = r.msg;
  // §11.2 via §5: no allocation on this 5-tuple: 437.
  if (!r.allocation) return errorReply(r, noAllocationCode(r));
  Allocation& a = *r.allocation;
  // §11.2: CHANNEL-NUMBER missing or out of range, XOR-PEER-ADDRESS missing or malformed: 400. The range
  // is stun::kMinChannel..kMaxChannel, shared with ChannelData framing so both agree: RFC 8656 says
  // 0x4000-0x4FFF; stun/ accepts RFC 5766's 0x7FFF for deployed clients (turnutils_uclient).
  const auto channel = m.channelNumber();
  if (!channel || *channel < stun::kMinChannel || *channel > stun::kMaxChannel) {
    return errorReply(r, stun::error::BadRequest);
  }
  const auto peer = m.xorAddress(stun::attr::XorPeerAddress);
  if (!peer) return errorReply(r, stun::error::BadRequest);
  // §11.2: a peer of a family the allocation does not relay: 443.
  const RelayPort* relay = a.relayFor(peer->family());
  if (!relay) return errorReply(r, stun::error::PeerAddressFamilyMismatch);
  // §11.2 rebinding rules: the channel is bound to another peer, or the peer to another channel: 400.
  // The same channel for the same peer is a refresh.
  const auto byNumber = channels_.find(ChannelKey{a.tuple(), *channel});
  if (byNumber != channels_.end() && byNumber->second.peer != *peer) return errorReply(r, stun::error::BadRequest);
  const auto byPeer = channelByPeer_.find(PeerKey{*relay, *peer});
  if (byPeer != channelByPeer_.end() && byPeer->second->channel != *channel) {
    return errorReply(r, stun::error::BadRequest);
  }
  // §11.2: local policy forbids the peer (DESIGN principle 6): 403.
  if (const PolicyVerdict v = config_->policy.check(*peer, live_.get()); v != PolicyVerdict::Allowed) {
    log(LogLevel::Debug, "channel to " + peer->toString() + " " + std::string(toString(v)));
    return errorReply(r, stun::error::Forbidden);
  }
  // Capacity (channels, and the permission the binding installs): 508.
  const bool newChannel = byNumber == channels_.end();
  const Config& c = *config_;
  if ((newChannel && c.maxChannelsPerAllocation != 0 && a.channels.size() >= c.maxChannelsPerAllocation) ||
      (!a.findPermission(peer->ip()) && c.maxPermissionsPerAllocation != 0 &&
       a.permissions.size() >= c.maxPermissionsPerAllocation)) {
    return errorReply(r, stun::error::InsufficientCapacity);
  }
  // §11.2: bind or refresh the channel (600 s) and install or refresh the peer's permission (300 s).
  bindChannel(a, *channel, *relay, *peer, r.now.mono);
  installPermission(a, peer->ip(), r.now.mono);
  // Both in place: the channel may go to the kernel fast path now (kernel_path.cpp).
  if (const auto bound = channels_.find(ChannelKey{a.tuple(), *channel}); bound != channels_.end()) {
    syncKernel(bound->second, a, r.now);
  }
  stun::MessageBuilder b = stun::MessageBuilder::responseTo(m, stun::Class::Success);
  return finish(b, m, &r.credentials);
}

void Server::bindChannel(Allocation& a, uint16_t channel, RelayPort relay, const Endpoint& peer, Instant now) {
  const ChannelKey key{a.tuple(), channel};
  auto [it, inserted] = channels_.try_emplace(key);
  ChannelBinding& c = it->second;
  if (inserted) {
    c.client = a.tuple();
    c.channel = channel;
    c.relay = relay;
    c.peer = peer;
    c.meter = &a.meter;
    a.channels.push_back(channel);
    channelByPeer_[PeerKey{relay, peer}] = &c;
    ++stats_.channelsActive;
    c.toOwnRelay = config_->policy.check(peer) != PolicyVerdict::Allowed;  // allowed only as a live relay
  }
  c.expires = now + config_->channelLifetime;
  schedule(a, c.expires);
}

void Server::removeChannel(Allocation& a, uint16_t channel, const Now& now) {
  const auto it = channels_.find(ChannelKey{a.tuple(), channel});
  if (it == channels_.end()) return;
  if (it->second.inKernel) {
    // What the kernel forwarded since the last tick joins the channel's counters before they are folded
    // into the allocation's below (the allocation may be ending: no quota ends from here).
    ChannelBinding& c = it->second;
    c.inKernel = false;
    --c.meter->kernelChannels;
    const KernelTraffic t = kernel_->remove(KernelChannel{c.client, c.channel, c.relay, c.peer});
    foldKernel(c, t, now, false);
  }
  a.info.toPeer += it->second.toPeer;  // the allocation's totals keep what the channel relayed
  a.info.toClient += it->second.toClient;
  channelByPeer_.erase(PeerKey{it->second.relay, it->second.peer});
  channels_.erase(it);
  a.channels.eraseIf([&](uint16_t n) { return n == channel; });
  --stats_.channelsActive;
}

}  // namespace rdv::relay
