// The TURN engine as a state machine (relay::Server, RFC 8656): each input is a program of steps -- client
// datagrams (raw bytes, or Allocate/Refresh/CreatePermission/ChannelBind/Send/ChannelData built with the
// right credentials so the fuzzer gets past authentication, and byte-flipped copies of them), peer
// datagrams on relay sockets, TCP connections closing, and the fake clock moving -- fed to one Server as
// the daemon feeds it (drain every command after every call, fire the timer at nextDeadline()).
//
// After every step the harness checks what must always hold:
//   * every datagram sent to a client parses (a STUN response/indication, or ChannelData), and goes to a
//     tuple that sent something;
//   * every datagram sent to a peer leaves from a live allocation's relay socket, to a peer the policy
//     allows and the allocation has an unexpired permission for; the bytes sent equal the counter;
//   * allocations start once and end once, a relay socket is released only while bound, usage deltas
//     never add up to more than the final totals;
//   * the allocation count agrees with the gauge and the started/ended events; no allocation outlives
//     its lifetime once the timer has fired (and while allocations exist a deadline is armed, no later
//     than the earliest expiry);
//   * counters never decrease, gauges never wrap;
// and at the end, after endAll() and the reservations' lifetime, no allocation and no bound socket remain.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "relay/credentials.h"
#include "relay/server.h"
#include "stun/channel_data.h"
#include "stun/integrity.h"
#include "stun/message.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/fuzz_input.h"

using namespace rdv;
using namespace rdv::relay;

namespace {

constexpr size_t kMaxSteps = 200;
// RDV_FUZZ_TRACE=1: print every step and every answer (to read what a crashing input does).
const bool kTrace = std::getenv("RDV_FUZZ_TRACE") != nullptr;

class SplitMix final : public Rng {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t next() override {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Binds what is free; a few ports refused as if another process held them.
class Binder final : public RelaySocketBinder {
 public:
  bool bind(RelayPort relay, const Endpoint& local) override {
    const auto key = std::make_pair(relay.family, relay.port);
    FUZZ_CHECK(local.family() == relay.family && local.port() == relay.port);
    if (refused.count(relay.port) != 0 || bound.count(key) != 0) return false;
    bound[key] = local;
    return true;
  }
  std::map<std::pair<Family, uint16_t>, Endpoint> bound;
  std::set<uint16_t> refused;
};

Endpoint ep(const char* text) { return *Endpoint::parse(text); }
IpAddress ip(const char* text) { return *IpAddress::parse(text); }

Config makeConfig(uint8_t variant) {
  Config c;
  c.realm = "example.org";
  c.software = "rendezvous-fuzz";
  c.users = {{"alice", "secret"}};
  c.authSecrets = {"new-secret", "old-secret"};
  c.nonceKey = Bytes(32, 0x42);
  c.relayV4 = RelayAddress{ip("10.0.0.1"), ip("203.0.113.10")};
  if (variant & 1) c.relayV6 = RelayAddress{ip("fd00::1"), std::nullopt};
  // A small range, so that port exhaustion, EVEN-PORT pairs and reservations meet.
  c.relayPorts = (variant & 2) ? PortRange{50000, 50007} : PortRange{50000, 50999};
  const std::vector<IpAddress> own = {ip("10.0.0.1"), ip("203.0.113.10"), ip("fd00::1")};
  c.policy = PeerPolicy({}, {}, own, own);  // relay-to-relay at live relay ports of the relay addresses
  c.defaultLifetime = Seconds(600);
  c.maxLifetime = Seconds(3600);
  c.permissionLifetime = Seconds(300);
  c.channelLifetime = Seconds(600);
  c.reservationLifetime = Seconds(30);
  if (variant & 4) {
    c.maxAllocationsPerUser = 2;
    c.maxAllocations = 3;
    c.maxPermissionsPerAllocation = 2;
    c.maxChannelsPerAllocation = 2;
  }
  if (variant & 8) c.passwordAlgorithms = {stun::PasswordAlgorithm::Md5};
  return c;
}

const Endpoint kPeers[] = {
    ep("93.184.216.34:5000"),         // public, allowed
    ep("93.184.216.35:6000"),         // public, allowed
    ep("[2606:2800:220:1::1]:7000"),  // public IPv6
    ep("10.0.0.1:50001"),             // the node's own relay address, inside the relay range
    ep("127.0.0.1:7"),                // loopback: denied
    ep("[::ffff:93.184.216.34]:5000"),  // IPv4-mapped
};
constexpr size_t kPeerCount = sizeof(kPeers) / sizeof(kPeers[0]);

struct Client {
  ClientTuple tuple;
  std::string user;
  std::string password;
  std::string realm;
  std::string nonce;
  stun::PasswordAlgorithm alg = stun::PasswordAlgorithm::Md5;
  bool negotiate = false;
  uint32_t counter = 0;
  Bytes lastRequest;
  std::optional<uint64_t> token;  // the last RESERVATION-TOKEN a response carried
};

struct Model {
  struct Live {
    AllocationInfo info;
    TrafficCounters usageToPeer;
    TrafficCounters usageToClient;
  };
  std::map<uint64_t, Live> live;
  std::set<uint64_t> ended;
};

class Harness {
 public:
  explicit Harness(uint8_t variant)
      : config_(std::make_shared<const Config>(makeConfig(variant))), rng_(variant), server_(config_, binder_, rng_) {
    if (variant & 16) binder_.refused = {50000, 50002, 50003};
    now_.mono = Instant{} + std::chrono::hours(1000);
    now_.unixSeconds = 1'700'000'000;
    clients_.push_back(Client{ClientTuple{ep("198.51.100.7:40000"), ep("10.0.0.1:3478"), Transport::Udp, 0}, "alice", "secret"});
    clients_.push_back(Client{ClientTuple{ep("198.51.100.9:40002"), ep("10.0.0.1:3478"), Transport::Udp, 0}, "", ""});
    clients_.push_back(Client{ClientTuple{ep("198.51.100.8:40001"), ep("10.0.0.1:3478"), Transport::Tcp, 7}, "alice", "secret"});
    clients_.push_back(Client{ClientTuple{ep("[2001:db8::7]:40003"), ep("[fd00::1]:3478"), Transport::Udp, 0}, "", ""});
    // REST credentials (coturn's use-auth-secret): one current, one signed with the rotated-out secret.
    setRest(clients_[1], 3600, "new-secret");
    setRest(clients_[3], 60, "old-secret");
    snapshot(stats_);
  }

  void run(fuzz::FuzzInput& in) {
    for (size_t step = 0; step < kMaxSteps && !in.empty(); ++step) {
      const uint8_t op = in.u8();
      Client& c = clients_[in.u8() % clients_.size()];
      if (kTrace) std::fprintf(stderr, "step %zu: op %d client %d\n", step, op % 14, static_cast<int>(&c - clients_.data()));
      switch (op % 14) {
        case 0: clientRaw(c, in.bytes(600)); break;
        case 1: allocate(c, in); break;
        case 2: refresh(c, in); break;
        case 3: permission(c, in); break;
        case 4: channelBind(c, in); break;
        case 5: sendIndication(c, in); break;
        case 6: channelData(c, in); break;
        case 7: peerDatagram(in); break;
        case 8: {  // (reads in sequence: argument evaluation order is unspecified)
          const uint32_t seconds = in.u16() % 4000;
          advance(seconds, in.u8());
          break;
        }
        case 9:
          if (isStream(c.tuple.transport)) {
            server_.handleConnectionClosed(c.tuple, now_);
            drain();
            c.tuple.connectionId += 1;  // the client reconnects on a new connection
          }
          break;
        case 10: mutateLast(c, in); break;
        case 11: clientRaw(c, c.lastRequest); break;  // a retransmission
        case 12: otherMethod(c, in); break;
        case 13: {
          const int64_t validFor = static_cast<int64_t>(in.u16()) - 1000;
          setRest(c, validFor, in.flag() ? "new-secret" : "wrong-secret");
          break;
        }
      }
      checkState();
    }
    finish();
  }

 private:
  void setRest(Client& c, int64_t validFor, const std::string& secret) {
    c.user = std::to_string(now_.unixSeconds + validFor) + ":peer" + std::to_string(&c - clients_.data());
    c.password = relay::restPassword(secret, c.user);
    c.nonce.clear();
  }

  stun::TransactionId nextTid(Client& c) {
    stun::TransactionId tid;
    ++c.counter;
    for (int i = 0; i < 4; ++i) tid.bytes[i] = static_cast<uint8_t>(c.counter >> (8 * i));
    tid.bytes[8] = static_cast<uint8_t>(&c - clients_.data());
    tid.bytes[11] = 0x77;
    return tid;
  }

  using Attrs = std::function<void(stun::MessageBuilder&)>;
  Bytes build(Client& c, stun::Method m, stun::Class cls, const Attrs& attrs, bool auth, bool fingerprint = true) {
    stun::MessageBuilder b(m, cls, nextTid(c));
    if (attrs) attrs(b);
    if (auth && !c.nonce.empty()) {
      b.addString(stun::attr::Username, c.user).addString(stun::attr::Realm, c.realm).addString(stun::attr::Nonce, c.nonce);
      const Bytes key = stun::longTermKey(c.user, c.realm, c.password, c.alg);
      if (c.negotiate) {
        const stun::PasswordAlgorithm offered[] = {stun::PasswordAlgorithm::Sha256, stun::PasswordAlgorithm::Md5};
        b.addPasswordAlgorithms(offered).addPasswordAlgorithm(c.alg);
      }
      if (c.alg == stun::PasswordAlgorithm::Sha256) b.addMessageIntegritySha256(key);
      else b.addMessageIntegrity(key);
    }
    if (fingerprint) b.addFingerprint();
    return std::move(b).finish();
  }

  // Sends bytes from a client; returns the last STUN reply to it (empty when none).
  Bytes clientRaw(Client& c, ByteSpan bytes) {
    server_.handleClientInput(bytes, c.tuple, now_);
    return drain(&c);
  }

  // A request with credentials; learns the nonce from a 401/438 and retries once, as clients do.
  Bytes request(Client& c, stun::Method m, const Attrs& attrs, bool auth = true) {
    c.lastRequest = build(c, m, stun::Class::Request, attrs, auth);
    Bytes reply = clientRaw(c, c.lastRequest);
    if (auth && !reply.empty()) {
      const auto v = stun::MessageView::parse(reply);
      const auto e = v ? v->errorCode() : std::nullopt;
      if (e && (e->code == 401 || e->code == 438) && learn(c, *v)) {
        c.lastRequest = build(c, m, stun::Class::Request, attrs, auth);
        reply = clientRaw(c, c.lastRequest);
      }
    }
    return reply;
  }

  // REALM, NONCE, PASSWORD-ALGORITHMS from a challenge; true when something new was learnt.
  bool learn(Client& c, const stun::MessageView& m) {
    const std::string before = c.nonce;
    if (auto r = m.string(stun::attr::Realm)) c.realm = std::string(*r);
    if (auto n = m.string(stun::attr::Nonce)) c.nonce = std::string(*n);
    const auto offered = m.passwordAlgorithms();
    c.negotiate = !offered.empty();
    c.alg = c.negotiate ? offered.front() : stun::PasswordAlgorithm::Md5;
    return c.nonce != before;
  }

  void allocate(Client& c, fuzz::FuzzInput& in) {
    const uint8_t f = in.u8();
    const uint32_t lifetime = in.u16();
    const uint8_t transport = (f & 0x80) ? in.u8() : stun::kTransportUdp;
    const Bytes reply = request(c, stun::Method::Allocate, [&](stun::MessageBuilder& b) {
      b.addRequestedTransport(transport);
      if (f & 1) b.addRequestedAddressFamily(Family::V6);
      if (f & 2) b.addEvenPort((f & 4) != 0);
      if ((f & 8) && c.token) b.addU64(stun::attr::ReservationToken, *c.token);
      if (f & 16) b.addAdditionalAddressFamily(Family::V6);
      if (f & 32) b.addU32(stun::attr::Lifetime, lifetime);
      if (f & 64) b.addFlag(stun::attr::DontFragment);
    });
    if (auto v = stun::MessageView::parse(reply)) {
      if (auto t = v->u64(stun::attr::ReservationToken)) c.token = *t;
    }
  }

  void refresh(Client& c, fuzz::FuzzInput& in) {
    const uint8_t f = in.u8();
    const uint32_t lifetime = (f & 2) ? 0 : in.u16();
    request(c, stun::Method::Refresh, [&](stun::MessageBuilder& b) {
      if (f & 1) b.addU32(stun::attr::Lifetime, lifetime);
      if (f & 4) b.addRequestedAddressFamily(Family::V6);
    });
  }

  void permission(Client& c, fuzz::FuzzInput& in) {
    const Endpoint a = kPeers[in.u8() % kPeerCount];
    const bool two = in.flag();
    const Endpoint b2 = kPeers[in.u8() % kPeerCount];
    request(c, stun::Method::CreatePermission, [&](stun::MessageBuilder& b) {
      b.addXorAddress(stun::attr::XorPeerAddress, a);
      if (two) b.addXorAddress(stun::attr::XorPeerAddress, b2);
    });
  }

  static uint16_t channelNumber(fuzz::FuzzInput& in) {
    const uint8_t pick = in.u8();
    if (pick < 200) return static_cast<uint16_t>(0x4000 + pick % 4);
    return in.u16();
  }

  void channelBind(Client& c, fuzz::FuzzInput& in) {
    const uint16_t channel = channelNumber(in);
    const Endpoint peer = kPeers[in.u8() % kPeerCount];
    request(c, stun::Method::ChannelBind, [&](stun::MessageBuilder& b) {
      b.addChannelNumber(channel).addXorAddress(stun::attr::XorPeerAddress, peer);
    });
  }

  void sendIndication(Client& c, fuzz::FuzzInput& in) {
    const Endpoint peer = kPeers[in.u8() % kPeerCount];
    const bool df = in.flag();
    const ByteSpan payload = in.bytes(1400);
    c.lastRequest = build(c, stun::Method::Send, stun::Class::Indication, [&](stun::MessageBuilder& b) {
      b.addXorAddress(stun::attr::XorPeerAddress, peer).add(stun::attr::Data, payload);
      if (df) b.addFlag(stun::attr::DontFragment);
    }, /*auth=*/false, /*fingerprint=*/false);
    clientRaw(c, c.lastRequest);
  }

  void channelData(Client& c, fuzz::FuzzInput& in) {
    const uint16_t channel = channelNumber(in);
    const ByteSpan payload = in.bytes(1400);
    Bytes out;
    stun::appendChannelData(out, channel, payload, isStream(c.tuple.transport));
    clientRaw(c, out);
  }

  void peerDatagram(fuzz::FuzzInput& in) {
    const uint8_t pick = in.u8();
    RelayPort relay{Family::V4, static_cast<uint16_t>(50000 + pick % 8)};
    if (pick < 192 && !model_.live.empty()) {  // mostly: a live allocation's relay socket
      auto it = model_.live.begin();
      std::advance(it, pick % model_.live.size());
      relay = it->second.info.relays[(pick >> 3) % std::max<uint8_t>(it->second.info.relayCount, 1)];
    }
    const Endpoint peer = kPeers[in.u8() % kPeerCount];
    server_.handlePeerInput(relay, peer, in.bytes(1400), now_);
    drain();
  }

  void mutateLast(Client& c, fuzz::FuzzInput& in) {
    if (c.lastRequest.empty()) return;
    Bytes m = c.lastRequest;
    const int flips = 1 + in.u8() % 4;
    for (int i = 0; i < flips; ++i) {
      const size_t at = in.u16() % m.size();
      m[at] ^= static_cast<uint8_t>(1 + in.u8() % 255);
    }
    if (in.flag()) m.resize(m.size() - std::min<size_t>(m.size(), in.u8()));
    clientRaw(c, m);
  }

  void otherMethod(Client& c, fuzz::FuzzInput& in) {
    const uint16_t method = in.flag() ? static_cast<uint16_t>(stun::Method::Binding) : (in.u16() & 0x0FFF);
    const bool auth = in.flag();
    stun::MessageBuilder b(stun::messageType(method, stun::Class::Request), nextTid(c));
    if (auth && !c.nonce.empty()) {
      b.addString(stun::attr::Username, c.user).addString(stun::attr::Realm, c.realm).addString(stun::attr::Nonce, c.nonce);
      b.addMessageIntegrity(stun::longTermKey(c.user, c.realm, c.password, stun::PasswordAlgorithm::Md5));
    }
    c.lastRequest = std::move(b).finish();
    clientRaw(c, c.lastRequest);
  }

  void advance(uint32_t seconds, uint8_t ms) {
    now_.mono += Seconds(seconds) + std::chrono::milliseconds(ms * 4);
    now_.unixSeconds += seconds;
    // As the daemon's timer does: fire at every deadline that has passed, then once at now.
    server_.handleTimeout(now_);
    drain();
    for (const auto& [id, a] : model_.live) {
      const Allocation* alloc = server_.findAllocation(a.info.tuple);
      FUZZ_CHECK(alloc != nullptr);
      FUZZ_CHECK(alloc->expires > now_.mono);  // nothing outlives its lifetime once the timer fired
    }
  }

  // Drains every command and checks each; returns the last STUN message sent to `to`.
  Bytes drain(const Client* to = nullptr) {
    Bytes reply;
    while (auto cmd = server_.nextCommand()) {
      if (auto* s = std::get_if<SendToClient>(&*cmd)) {
        FUZZ_CHECK(!s->bytes.empty());
        bool known = false;
        for (const Client& c : clients_) known |= c.tuple == s->tuple;
        FUZZ_CHECK(known);
        if (stun::classify(s->bytes) == stun::PacketKind::ChannelData) {
          auto cd = stun::parseChannelData(s->bytes);
          FUZZ_CHECK(cd.ok());
          FUZZ_CHECK(server_.findChannel(s->tuple, cd->channel) != nullptr);
          if (isStream(s->tuple.transport)) FUZZ_CHECK(s->bytes.size() % 4 == 0);
        } else {
          auto m = stun::MessageView::parse(s->bytes);
          FUZZ_CHECK(m.ok());
          if (kTrace) {
            const auto e = m->errorCode();
            std::fprintf(stderr, "  -> client: method %#x class %d error %d\n", m->method(), static_cast<int>(m->cls()), e ? e->code : 0);
          }
          FUZZ_CHECK(m->cls() != stun::Class::Request);
          if (to && s->tuple == to->tuple && m->cls() != stun::Class::Indication) reply = s->bytes;
        }
        server_.recycle(std::move(s->bytes));
      } else if (auto* p = std::get_if<SendToPeer>(&*cmd)) {
        const Model::Live* owner = nullptr;
        for (const auto& [id, a] : model_.live)
          for (uint8_t i = 0; i < a.info.relayCount; ++i)
            if (a.info.relays[i] == p->relay) owner = &a;
        FUZZ_CHECK(owner != nullptr);  // only from a live allocation's relay socket
        FUZZ_CHECK(config_->policy.check(p->peer, &server_.liveRelays()) == PolicyVerdict::Allowed);  // rule 3: live relays
        const Allocation* alloc = server_.findAllocation(owner->info.tuple);
        FUZZ_CHECK(alloc != nullptr);
        const Permission* perm = alloc->findPermission(p->peer.ip());
        FUZZ_CHECK(perm != nullptr && perm->expires > now_.mono);
        FUZZ_CHECK(p->peer.family() == p->relay.family);
        bytesToPeer_ += p->bytes.size();
        if (kTrace) std::fprintf(stderr, "  -> peer %s: %zu bytes\n", p->peer.toString().c_str(), p->bytes.size());
        server_.recycle(std::move(p->bytes));
      } else if (auto* r = std::get_if<ReleaseRelaySocket>(&*cmd)) {
        FUZZ_CHECK(binder_.bound.erase(std::make_pair(r->relay.family, r->relay.port)) == 1);
      } else if (auto* started = std::get_if<AllocationStarted>(&*cmd)) {
        FUZZ_CHECK(model_.live.count(started->info.id) == 0 && model_.ended.count(started->info.id) == 0);
        for (const auto& [id, a] : model_.live) FUZZ_CHECK(!(a.info.tuple == started->info.tuple));
        FUZZ_CHECK(started->info.relayCount >= 1 && started->info.relayCount <= 2);
        for (uint8_t i = 0; i < started->info.relayCount; ++i) {
          const RelayPort rp = started->info.relays[i];
          FUZZ_CHECK(binder_.bound.count(std::make_pair(rp.family, rp.port)) == 1);
          FUZZ_CHECK(config_->relayPorts.contains(rp.port));
        }
        model_.live[started->info.id] = Model::Live{started->info, {}, {}};
        if (kTrace) std::fprintf(stderr, "  allocation %llu started\n", static_cast<unsigned long long>(started->info.id));
      } else if (auto* ended = std::get_if<AllocationEnded>(&*cmd)) {
        auto it = model_.live.find(ended->info.id);
        FUZZ_CHECK(it != model_.live.end());
        FUZZ_CHECK(ended->info.toPeer.bytes >= it->second.usageToPeer.bytes);
        FUZZ_CHECK(ended->info.toClient.bytes >= it->second.usageToClient.bytes);
        FUZZ_CHECK(ended->info.toPeer.packets >= it->second.usageToPeer.packets);
        FUZZ_CHECK(ended->info.toClient.packets >= it->second.usageToClient.packets);
        model_.ended.insert(ended->info.id);
        if (kTrace) std::fprintf(stderr, "  allocation %llu ended: %s\n", static_cast<unsigned long long>(ended->info.id), std::string(toString(ended->reason)).c_str());
        model_.live.erase(it);
      } else if (auto* usage = std::get_if<AllocationUsage>(&*cmd)) {
        auto it = model_.live.find(usage->id);
        FUZZ_CHECK(it != model_.live.end());
        FUZZ_CHECK(!usage->toPeer.empty() || !usage->toClient.empty());
        it->second.usageToPeer += usage->toPeer;
        it->second.usageToClient += usage->toClient;
      }
    }
    return reply;
  }

  using Snapshot = std::vector<std::pair<StatKind, uint64_t>>;
  void snapshot(Snapshot& out) const {
    out.clear();
    server_.stats().forEach([&](std::string_view, StatKind kind, std::string_view, uint64_t v) { out.emplace_back(kind, v); });
  }

  void checkState() {
    Snapshot now;
    snapshot(now);
    for (size_t i = 0; i < now.size(); ++i) {
      if (now[i].first == StatKind::Counter) FUZZ_CHECK(now[i].second >= stats_[i].second);  // never decrease
      else FUZZ_CHECK(now[i].second < (uint64_t{1} << 40));                                   // gauges never wrap
    }
    stats_ = std::move(now);
    const Stats& s = server_.stats();
    FUZZ_CHECK(server_.allocationCount() == model_.live.size());
    FUZZ_CHECK(s.allocationsActive.get() == model_.live.size());
    FUZZ_CHECK(s.bytesClientToPeer.get() == bytesToPeer_);
    std::optional<Instant> earliest;
    for (const auto& [id, a] : model_.live) {
      const Allocation* alloc = server_.findAllocation(a.info.tuple);
      FUZZ_CHECK(alloc != nullptr && alloc->info.id == id);
      if (!earliest || alloc->expires < *earliest) earliest = alloc->expires;
    }
    if (earliest) {
      const auto deadline = server_.nextDeadline();
      FUZZ_CHECK(deadline.has_value() && *deadline <= *earliest);  // the timer will end it in time
    }
  }

  void finish() {
    server_.endAll(now_);
    drain();
    FUZZ_CHECK(model_.live.empty());
    FUZZ_CHECK(server_.allocationCount() == 0);
    advance(static_cast<uint32_t>(config_->reservationLifetime.count()) + 1, 0);
    FUZZ_CHECK(binder_.bound.empty());  // every relay socket released, reservations included
    checkState();
  }

  std::shared_ptr<const Config> config_;
  Binder binder_;
  SplitMix rng_;
  Server server_;
  Now now_;
  std::vector<Client> clients_;
  Model model_;
  Snapshot stats_;
  uint64_t bytesToPeer_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  Harness h(in.u8());
  h.run(in);
  return 0;
}
