// The relayed traffic: ChannelData and Send indications from clients, datagrams from peers (RFC 8656
// §10, §12). This is the hot path: no heap allocation once the buffer pool is warm (buffers come back
// through Server::recycle), no STUN building through the general builder, one hash lookup for
// ChannelData in either direction.
#include "relay/server.h"
#include "stun/channel_data.h"

namespace rdv::relay {

namespace {

// The most a UDP datagram can carry: 65535 minus the IP (20, IPv4) and UDP (8) headers. IPv6 allows 20
// more, without jumbograms.
constexpr size_t maxUdpPayload(Family f) { return f == Family::V4 ? 65507 : 65527; }
constexpr size_t kMaxStunBody = 65535;

// A Data indication (RFC 8656 §10.3): header, XOR-PEER-ADDRESS, DATA (padded to 4), written straight
// into `out`. Returns false when it would not fit in a STUN message.
bool writeDataIndication(Bytes& out, const stun::TransactionId& tid, const Endpoint& peer, ByteSpan data) {
  const size_t addrLen = peer.family() == Family::V4 ? 8 : 20;
  const size_t padded = (data.size() + 3) & ~size_t{3};
  const size_t body = 4 + addrLen + 4 + padded;
  if (body > kMaxStunBody) return false;
  out.resize(stun::kHeaderSize + body);
  uint8_t* p = out.data();
  storeBe16(p, stun::messageType(stun::Method::Data, stun::Class::Indication));
  storeBe16(p + 2, static_cast<uint16_t>(body));
  storeBe32(p + 4, stun::kMagicCookie);
  std::copy(tid.bytes.begin(), tid.bytes.end(), p + 8);
  p += stun::kHeaderSize;
  // XOR-PEER-ADDRESS (RFC 8489 §14.2): port XOR the cookie's top half, address XOR cookie (|| tid).
  storeBe16(p, stun::attr::XorPeerAddress);
  storeBe16(p + 2, static_cast<uint16_t>(addrLen));
  p[4] = 0;
  p[5] = static_cast<uint8_t>(peer.family());
  storeBe16(p + 6, static_cast<uint16_t>(peer.port() ^ (stun::kMagicCookie >> 16)));
  uint8_t mask[16];
  storeBe32(mask, stun::kMagicCookie);
  std::copy(tid.bytes.begin(), tid.bytes.end(), mask + 4);
  for (size_t i = 0; i < peer.ip().size(); ++i) p[8 + i] = peer.ip().data()[i] ^ mask[i];
  p += 4 + addrLen;
  storeBe16(p, stun::attr::Data);
  storeBe16(p + 2, static_cast<uint16_t>(data.size()));
  std::copy(data.begin(), data.end(), p + 4);
  std::fill(p + 4 + data.size(), p + 4 + padded, uint8_t{0});
  return true;
}

}  // namespace

// RFC 8656 §12.3 (receiving ChannelData from a client): an unbound channel is dropped; otherwise the
// data goes to the bound peer, if the peer's permission still holds.
void Server::onClientChannelData(ByteSpan packet, const ClientTuple& tuple, const Now& now) {
  const auto cd = stun::parseChannelData(packet);
  if (!cd) {
    ++stats_.dropMalformed;
    return;
  }
  const auto it = channels_.find(ChannelKey{tuple, cd->channel});
  if (it == channels_.end() || it->second.expires <= now.mono) {
    ++stats_.dropUnknownChannel;
    return;
  }
  ChannelBinding& c = it->second;
  if (c.permissionExpires <= now.mono) {
    ++stats_.dropNoPermission;
    return;
  }
  // A channel to another allocation of this node: only while that allocation lives (its port may now
  // be any local service's ephemeral port).
  if (c.toOwnRelay && config_->policy.check(c.peer, live_.get()) != PolicyVerdict::Allowed) {
    ++stats_.dropPolicy;
    return;
  }
  if (cd->data.size() > maxUdpPayload(c.relay.family)) {
    ++stats_.dropOversize;
    return;
  }
  if (!admit(*c.meter, true, cd->data.size(), tuple, now)) return;  // c may be gone (quota ended it)
  Bytes out = takeBuffer();
  out.assign(cd->data.begin(), cd->data.end());
  c.toPeer.add(cd->data.size());
  stats_.bytesClientToPeer += cd->data.size();
  ++stats_.packetsClientToPeer;
  push(SendToPeer{c.relay, c.peer, std::move(out), false});
}

// RFC 8656 §10.2 (receiving a Send indication): no allocation, no XOR-PEER-ADDRESS or DATA, no
// permission: dropped silently. DONT-FRAGMENT asks for DF on the datagram.
void Server::onSendIndication(const stun::MessageView& m, const ClientTuple& tuple, const Now& now) {
  const auto found = allocations_.find(tuple);
  if (found == allocations_.end()) {
    ++stats_.dropNoAllocation;
    return;
  }
  Allocation& a = found->second;
  const auto peer = m.xorAddress(stun::attr::XorPeerAddress);
  const auto data = m.data();
  const RelayPort* relay = peer ? a.relayFor(peer->family()) : nullptr;
  if (!peer || !data || !relay) {
    ++stats_.dropBadIndication;
    return;
  }
  const Permission* permission = a.findPermission(peer->ip());
  if (!permission || permission->expires <= now.mono) {
    ++stats_.dropNoPermission;
    return;
  }
  if (config_->policy.check(*peer, live_.get()) != PolicyVerdict::Allowed) {
    ++stats_.dropPolicy;
    return;
  }
  if (data->size() > maxUdpPayload(peer->family())) {
    ++stats_.dropOversize;
    return;
  }
  const RelayPort from = *relay;
  const bool dontFragment = m.has(stun::attr::DontFragment);
  if (!admit(*a.meter, true, data->size(), tuple, now)) return;  // a may be gone (quota ended it)
  Bytes out = takeBuffer();
  out.assign(data->begin(), data->end());
  a.info.toPeer.add(data->size());
  stats_.bytesClientToPeer += data->size();
  ++stats_.packetsClientToPeer;
  ++stats_.sendIndications;
  push(SendToPeer{from, *peer, std::move(out), dontFragment});
}

// RFC 8656 §11.4/§12.4 and §10.3: a datagram from a peer goes to the client as ChannelData when a
// channel is bound to that peer, else as a Data indication; either way only with a permission.
void Server::handlePeerInput(RelayPort relay, const Endpoint& peer, ByteSpan packet, const Now& now) {
  if (const auto byPeer = channelByPeer_.find(PeerKey{relay, peer}); byPeer != channelByPeer_.end()) {
    const auto it = channels_.find(byPeer->second);
    if (it != channels_.end() && it->second.expires > now.mono) {
      ChannelBinding& c = it->second;
      if (c.permissionExpires <= now.mono) {
        ++stats_.dropNoPermission;
        return;
      }
      if (c.toOwnRelay && config_->policy.check(peer, live_.get()) != PolicyVerdict::Allowed) {
        ++stats_.dropPolicy;  // the other allocation ended: its port may be anyone's now
        return;
      }
      const bool stream = isStream(c.client.transport);
      // RFC 8656 §12.5: over TCP/TLS, ChannelData is padded to a multiple of 4.
      const size_t size = stun::kChannelDataHeaderSize + (stream ? (packet.size() + 3) & ~size_t{3} : packet.size());
      if (packet.size() > 0xFFFF || (!stream && size > maxUdpPayload(c.client.client.family()))) {
        ++stats_.dropOversize;
        return;
      }
      const ClientTuple client = c.client;
      if (!admit(*c.meter, false, packet.size(), client, now)) return;  // c may be gone (quota ended it)
      Bytes out = takeBuffer();
      stun::appendChannelData(out, c.channel, packet, stream);
      c.toClient.add(packet.size());
      stats_.bytesPeerToClient += packet.size();
      ++stats_.packetsPeerToClient;
      push(SendToClient{c.client, std::move(out)});
      return;
    }
  }
  const auto owner = allocationByRelay_.find(relay);
  if (owner == allocationByRelay_.end()) {
    ++stats_.dropUnknownRelayPort;
    return;
  }
  const auto found = allocations_.find(owner->second);
  if (found == allocations_.end()) {
    ++stats_.dropUnknownRelayPort;
    return;
  }
  Allocation& a = found->second;
  const Permission* permission = a.findPermission(peer.ip());
  if (!permission || permission->expires <= now.mono) {
    ++stats_.dropNoPermission;
    return;
  }
  if (config_->policy.check(peer, live_.get()) != PolicyVerdict::Allowed) {
    ++stats_.dropPolicy;
    return;
  }
  sendDataIndication(a, peer, packet, now);
}

void Server::sendDataIndication(Allocation& a, const Endpoint& peer, ByteSpan data, const Now& now) {
  stun::TransactionId tid;
  const uint64_t r1 = rng_.next();
  const uint64_t r2 = rng_.next();
  for (size_t i = 0; i < 8; ++i) tid.bytes[i] = static_cast<uint8_t>(r1 >> (8 * i));
  for (size_t i = 0; i < 4; ++i) tid.bytes[8 + i] = static_cast<uint8_t>(r2 >> (8 * i));
  Bytes out = takeBuffer();
  const ClientTuple& client = a.tuple();
  if (!writeDataIndication(out, tid, peer, data) ||
      (!isStream(client.transport) && out.size() > maxUdpPayload(client.client.family()))) {
    ++stats_.dropOversize;
    recycle(std::move(out));
    return;
  }
  const ClientTuple tuple = client;
  if (!admit(*a.meter, false, data.size(), tuple, now)) {  // a may be gone (quota ended it)
    recycle(std::move(out));
    return;
  }
  // The allocation's own counters carry the indication path; channel records carry their own.
  a.info.toClient.add(data.size());
  stats_.bytesPeerToClient += data.size();
  ++stats_.packetsPeerToClient;
  ++stats_.dataIndications;
  push(SendToClient{client, std::move(out)});
}

}  // namespace rdv::relay
