// The relayed traffic: ChannelData and Send indications from clients, datagrams from peers (RFC 8656
// §10, §12). This is the hot path: every relayed packet becomes one Forward (a slice of the input and a
// header, nothing copied), no heap allocation, no STUN building through the general builder, one hash
// lookup in either direction (ChannelData by (5-tuple, channel) or (relay port, peer); Send by 5-tuple;
// Data indications by relay port).
#include "relay/server.h"
#include "stun/channel_data.h"

namespace rdv::relay {

namespace {

// The most a UDP datagram can carry: 65535 minus the IP (20, IPv4) and UDP (8) headers. IPv6 allows 20
// more, without jumbograms.
constexpr size_t maxUdpPayload(Family f) { return f == Family::V4 ? 65507 : 65527; }
constexpr size_t kMaxStunBody = 65535;

// A Data indication's header (RFC 8656 §10.3): STUN header, XOR-PEER-ADDRESS, DATA's attribute header,
// written into the forward's header; the payload follows as the slice, then the padding to 4. Returns
// false when it would not fit in a STUN message.
bool writeDataIndicationHeader(Forward& f, const stun::TransactionId& tid, const Endpoint& peer, size_t dataSize) {
  const size_t addrLen = peer.family() == Family::V4 ? 8 : 20;
  const size_t padded = (dataSize + 3) & ~size_t{3};
  const size_t body = 4 + addrLen + 4 + padded;
  if (body > kMaxStunBody) return false;
  uint8_t* p = f.header.data();
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
  storeBe16(p + 2, static_cast<uint16_t>(dataSize));
  f.headerSize = static_cast<uint8_t>(stun::kHeaderSize + 4 + addrLen + 4);
  f.padding = static_cast<uint8_t>(padded - dataSize);
  return true;
}

uint32_t offsetIn(ByteSpan packet, ByteSpan part) { return static_cast<uint32_t>(part.data() - packet.data()); }

}  // namespace

void Server::forward(Forward& f) {
  if (batchInput_) {
    f.input = *batchInput_;
    forwards_.push_back(f);
    return;
  }
  Bytes out = takeBuffer();
  appendForwarded(f, currentInput_, out);
  if (f.to == Forward::To::Peer) {
    push(SendToPeer{f.relay, f.peer, std::move(out), f.dontFragment});
  } else {
    push(SendToClient{f.client, std::move(out)});
  }
}

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
  c.toPeer.add(cd->data.size());
  stats_.bytesClientToPeer += cd->data.size();
  ++stats_.packetsClientToPeer;
  Forward f;
  f.to = Forward::To::Peer;
  f.relay = c.relay;
  f.peer = c.peer;
  f.offset = offsetIn(packet, cd->data);
  f.length = static_cast<uint32_t>(cd->data.size());
  forward(f);
}

// RFC 8656 §10.2 (receiving a Send indication): no allocation, no XOR-PEER-ADDRESS or DATA, no
// permission: dropped silently. DONT-FRAGMENT asks for DF on the datagram.
void Server::onSendIndication(const stun::MessageView& m, const ClientTuple& tuple, const Now& now) {
  Allocation* found = allocations_.find(tuple);
  if (found == nullptr) {
    ++stats_.dropNoAllocation;
    return;
  }
  Allocation& a = *found;
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
  Forward f;
  f.to = Forward::To::Peer;
  f.relay = *relay;
  f.peer = *peer;
  f.dontFragment = m.has(stun::attr::DontFragment);
  f.offset = offsetIn(currentInput_, *data);
  f.length = static_cast<uint32_t>(data->size());
  if (!admit(a.meter, true, data->size(), tuple, now)) return;  // a may be gone (quota ended it)
  a.info.toPeer.add(data->size());
  stats_.bytesClientToPeer += data->size();
  ++stats_.packetsClientToPeer;
  ++stats_.sendIndications;
  forward(f);
}

void Server::handlePeerInput(RelayPort relay, const Endpoint& peer, ByteSpan packet, const Now& now) {
  batchInput_.reset();
  currentInput_ = packet;
  peerInput(relay, peer, packet, now);
}

void Server::handlePeerBatch(RelayPort relay, std::span<const PeerDatagram> batch, const Now& now) {
  for (uint32_t i = 0; i < batch.size(); ++i) {
    batchInput_ = i;
    currentInput_ = batch[i].packet;
    peerInput(relay, batch[i].peer, batch[i].packet, now);
  }
  batchInput_.reset();
}

// RFC 8656 §11.4/§12.4 and §10.3: a datagram from a peer goes to the client as ChannelData when a
// channel is bound to that peer, else as a Data indication; either way only with a permission.
void Server::peerInput(RelayPort relay, const Endpoint& peer, ByteSpan packet, const Now& now) {
  if (const auto byPeer = channelByPeer_.find(PeerKey{relay, peer}); byPeer != channelByPeer_.end()) {
    ChannelBinding& c = *byPeer->second;
    if (c.expires > now.mono) {
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
      const size_t padded = stream ? (packet.size() + 3) & ~size_t{3} : packet.size();
      const size_t size = stun::kChannelDataHeaderSize + padded;
      if (packet.size() > 0xFFFF || (!stream && size > maxUdpPayload(c.client.client.family()))) {
        ++stats_.dropOversize;
        return;
      }
      Forward f;
      f.to = Forward::To::Client;
      f.client = c.client;
      f.length = static_cast<uint32_t>(packet.size());
      f.headerSize = stun::kChannelDataHeaderSize;
      f.padding = static_cast<uint8_t>(padded - packet.size());
      storeBe16(f.header.data(), c.channel);
      storeBe16(f.header.data() + 2, static_cast<uint16_t>(packet.size()));
      if (!admit(*c.meter, false, packet.size(), f.client, now)) return;  // c may be gone (quota ended it)
      c.toClient.add(packet.size());
      stats_.bytesPeerToClient += packet.size();
      ++stats_.packetsPeerToClient;
      forward(f);
      return;
    }
  }
  Allocation* owner = allocations_.findByRelay(relay);
  if (owner == nullptr) {
    ++stats_.dropUnknownRelayPort;
    return;
  }
  Allocation& a = *owner;
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

void Server::sendDataIndication(Allocation& a, const Endpoint& peer, ByteSpan packet, const Now& now) {
  if (!indicationTidSeeded_) {
    indicationTidState_ = rng_.next();
    indicationTidSeeded_ = true;
  }
  auto splitmix = [this] {
    uint64_t z = (indicationTidState_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  stun::TransactionId tid;
  const uint64_t r1 = splitmix();
  const uint64_t r2 = splitmix();
  for (size_t i = 0; i < 8; ++i) tid.bytes[i] = static_cast<uint8_t>(r1 >> (8 * i));
  for (size_t i = 0; i < 4; ++i) tid.bytes[8 + i] = static_cast<uint8_t>(r2 >> (8 * i));
  Forward f;
  f.to = Forward::To::Client;
  f.client = a.tuple();
  f.length = static_cast<uint32_t>(packet.size());
  if (!writeDataIndicationHeader(f, tid, peer, packet.size()) ||
      (!isStream(f.client.transport) && f.size() > maxUdpPayload(f.client.client.family()))) {
    ++stats_.dropOversize;
    return;
  }
  if (!admit(a.meter, false, packet.size(), f.client, now)) return;  // a may be gone (quota ended it)
  // The allocation's own counters carry the indication path; channel records carry their own.
  a.info.toClient.add(packet.size());
  stats_.bytesPeerToClient += packet.size();
  ++stats_.packetsPeerToClient;
  ++stats_.dataIndications;
  forward(f);
}

}  // namespace rdv::relay
