// Test support for the TURN engine: a fake clock, a deterministic Rng, a fake relay-socket binder, a
// harness that drains commands, and a TURN client that builds real STUN messages with MessageBuilder.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "relay/server.h"
#include "stun/channel_data.h"
#include "stun/integrity.h"
#include "stun/message.h"

namespace rdv::relay::test {

class FakeRng final : public Rng {
 public:
  explicit FakeRng(uint64_t seed = 1) : state_(seed) {}
  uint64_t next() override {  // splitmix64
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

// Records bound sockets; `refused` ports fail as if another worker held them.
class FakeBinder final : public RelaySocketBinder {
 public:
  bool bind(RelayPort relay, const Endpoint& local) override {
    ++calls;
    const auto key = std::make_pair(relay.family, relay.port);
    if (refused.count(relay.port) != 0 || bound.count(key) != 0) return false;
    bound[key] = local;
    return true;
  }
  void release(RelayPort relay) { bound.erase(std::make_pair(relay.family, relay.port)); }
  bool isBound(Family f, uint16_t port) const { return bound.count(std::make_pair(f, port)) != 0; }

  // Parking (several workers): with a `lot`, shared by the binders of several Servers.
  using Lot = std::map<std::pair<Family, uint16_t>, Endpoint>;
  bool park(RelayPort relay) override {
    const auto key = std::make_pair(relay.family, relay.port);
    if (!lot || bound.count(key) == 0) return false;
    (*lot)[key] = bound[key];
    bound.erase(key);
    return true;
  }
  bool adopt(RelayPort relay) override {
    const auto key = std::make_pair(relay.family, relay.port);
    if (!lot || lot->count(key) == 0) return false;
    bound[key] = (*lot)[key];
    lot->erase(key);
    return true;
  }
  void discard(RelayPort relay) override {
    if (lot) lot->erase(std::make_pair(relay.family, relay.port));
  }
  std::shared_ptr<Lot> lot;

  std::map<std::pair<Family, uint16_t>, Endpoint> bound;
  std::set<uint16_t> refused;
  int calls = 0;
};

inline Endpoint ep(std::string_view text) { return *Endpoint::parse(text); }
inline IpAddress ip(std::string_view text) { return *IpAddress::parse(text); }

inline Config baseConfig() {
  Config c;
  c.realm = "example.org";
  c.software = "rendezvous-test";
  c.users = {{"alice", "secret"}, {"bob", "hunter2"}};
  c.authSecrets = {"new-secret", "old-secret"};
  c.nonceKey = Bytes(32, 0x42);
  c.relayV4 = RelayAddress{ip("10.0.0.1"), ip("203.0.113.10")};
  c.relayV6 = RelayAddress{ip("fd00::1"), std::nullopt};
  c.relayPorts = PortRange{50000, 50099};
  c.policy = PeerPolicy({}, {}, {ip("10.0.0.1"), ip("203.0.113.10"), ip("fd00::1")},
                        {ip("10.0.0.1"), ip("203.0.113.10"), ip("fd00::1")});
  return c;
}

struct Harness {
  explicit Harness(Config c = baseConfig()) : config(std::make_shared<const Config>(std::move(c))) {
    now.mono = Instant{} + std::chrono::hours(1000);
    now.unixSeconds = 1'700'000'000;
    server = std::make_unique<Server>(config, binder, rng);
  }

  // Drains every command; applies releases to the fake binder; keeps them all in `log`.
  std::vector<Command> drain() {
    std::vector<Command> out;
    while (auto c = server->nextCommand()) {
      if (const auto* r = std::get_if<ReleaseRelaySocket>(&*c)) binder.release(r->relay);
      out.push_back(*c);
      log.push_back(std::move(*c));
    }
    return out;
  }
  void advance(Seconds s) {
    now.mono += s;
    now.unixSeconds += s.count();
    server->handleTimeout(now);
  }
  template <class T>
  static std::vector<T> only(const std::vector<Command>& cs) {
    std::vector<T> out;
    for (const Command& c : cs) {
      if (const auto* t = std::get_if<T>(&c)) out.push_back(*t);
    }
    return out;
  }
  // Peer -> relay socket; returns the commands.
  std::vector<Command> fromPeer(RelayPort relay, const Endpoint& peer, ByteSpan data) {
    server->handlePeerInput(relay, peer, data, now);
    return drain();
  }

  std::shared_ptr<const Config> config;
  FakeBinder binder;
  FakeRng rng;
  std::unique_ptr<Server> server;
  Now now;
  std::vector<Command> log;
};

// A quota book whose policy `p` gets one more class, `cls`, with these members (identities or usernames).
inline std::shared_ptr<QuotaBook> bookWithClass(QuotaClass cls, std::initializer_list<std::string> members,
                                                QuotaPolicy p = {}) {
  for (const std::string& m : members) p.members[m] = cls.name;
  p.classes[cls.name] = std::move(cls);
  auto book = std::make_shared<QuotaBook>();
  book->apply(p);
  return book;
}
// baseConfig() with this quota book.
inline Config configWith(std::shared_ptr<QuotaBook> book) {
  Config c = baseConfig();
  c.quota = std::move(book);
  return c;
}

inline stun::MessageView view(const Bytes& b) {
  auto m = stun::MessageView::parse(b);
  EXPECT_TRUE(m.ok());
  return *m;
}
inline uint16_t errorOf(const Bytes& b) {
  const auto m = view(b);
  const auto e = m.errorCode();
  return e ? e->code : 0;
}
inline bool isSuccess(const Bytes& b) { return view(b).cls() == stun::Class::Success; }

using Attrs = std::function<void(stun::MessageBuilder&)>;

struct TurnClient {
  TurnClient(Harness& harness, ClientTuple t, std::string u = "alice", std::string p = "secret")
      : h(harness), tuple(std::move(t)), user(std::move(u)), password(std::move(p)) {}

  stun::TransactionId nextTid() {
    stun::TransactionId tid;
    ++counter;
    for (int i = 0; i < 8; ++i) tid.bytes[i] = static_cast<uint8_t>(counter >> (8 * i));
    tid.bytes[11] = 0x77;
    return tid;
  }
  Bytes key() const { return stun::longTermKey(user, realm, password, alg); }

  Bytes build(stun::Method m, stun::Class cls, const stun::TransactionId& tid, const Attrs& attrs, bool auth) const {
    stun::MessageBuilder b(m, cls, tid);
    if (attrs) attrs(b);
    if (auth && !nonce.empty()) {
      b.addString(stun::attr::Username, user).addString(stun::attr::Realm, realm).addString(stun::attr::Nonce, nonce);
      if (negotiate) b.addPasswordAlgorithms(offered).addPasswordAlgorithm(alg);
      if (sha256Mac) {
        b.addMessageIntegritySha256(key());
      } else {
        b.addMessageIntegrity(key());
      }
    }
    if (fingerprint) b.addFingerprint();
    return std::move(b).finish();
  }

  // Sends raw bytes; returns what came back to this tuple (empty when nothing did).
  Bytes sendRaw(const Bytes& bytes) {
    h.server->handleClientInput(bytes, tuple, h.now);
    Bytes reply;
    for (const Command& c : h.drain()) {
      if (const auto* s = std::get_if<SendToClient>(&c); s && s->tuple == tuple) reply = s->bytes;
    }
    return reply;
  }
  Bytes request(stun::Method m, const Attrs& attrs = {}, bool auth = true) {
    lastTid = nextTid();
    lastRequest = build(m, stun::Class::Request, lastTid, attrs, auth);
    Bytes reply = sendRaw(lastRequest);
    // Like real clients: a 438 (stale nonce) is retried once with the fresh nonce it carries.
    if (auth && retryStale && !reply.empty() && errorOf(reply) == 438) {
      learn(reply);
      lastTid = nextTid();
      lastRequest = build(m, stun::Class::Request, lastTid, attrs, auth);
      reply = sendRaw(lastRequest);
    }
    return reply;
  }
  // Reads REALM, NONCE and PASSWORD-ALGORITHMS from a 401/438.
  void learn(const Bytes& challenge) {
    const auto m = view(challenge);
    if (auto r = m.string(stun::attr::Realm)) realm = std::string(*r);
    if (auto n = m.string(stun::attr::Nonce)) nonce = std::string(*n);
    offered = m.passwordAlgorithms();
  }
  // The 401 dance, then an Allocate with credentials.
  Bytes allocate(const Attrs& attrs = [](stun::MessageBuilder& b) { b.addRequestedTransport(stun::kTransportUdp); }) {
    if (nonce.empty()) {
      const Bytes challenge = request(stun::Method::Allocate, attrs, false);
      EXPECT_EQ(errorOf(challenge), 401);
      learn(challenge);
    }
    Bytes reply = request(stun::Method::Allocate, attrs);
    if (!reply.empty() && isSuccess(reply)) relayed = view(reply).xorAddress(stun::attr::XorRelayedAddress);
    return reply;
  }
  Bytes permit(const Endpoint& peer) {
    return request(stun::Method::CreatePermission,
                   [&](stun::MessageBuilder& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); });
  }
  Bytes bindChannel(uint16_t channel, const Endpoint& peer) {
    return request(stun::Method::ChannelBind, [&](stun::MessageBuilder& b) {
      b.addChannelNumber(channel).addXorAddress(stun::attr::XorPeerAddress, peer);
    });
  }
  Bytes refresh(std::optional<uint32_t> lifetime) {
    return request(stun::Method::Refresh, [&](stun::MessageBuilder& b) {
      if (lifetime) b.addU32(stun::attr::Lifetime, *lifetime);
    });
  }
  // The relay socket the engine bound for this client's (first) relayed address.
  RelayPort relayPort() const {
    const Allocation* a = h.server->findAllocation(tuple);
    EXPECT_NE(a, nullptr);
    return a ? a->info.relays[0] : RelayPort{};
  }

  Harness& h;
  ClientTuple tuple;
  std::string user;
  std::string password;
  std::string realm;
  std::string nonce;
  std::vector<stun::PasswordAlgorithm> offered;
  stun::PasswordAlgorithm alg = stun::PasswordAlgorithm::Md5;
  bool negotiate = false;
  bool sha256Mac = false;
  bool fingerprint = true;
  bool retryStale = true;
  uint64_t counter = 0;
  stun::TransactionId lastTid;
  Bytes lastRequest;
  std::optional<Endpoint> relayed;
};

inline ClientTuple udpTuple(std::string_view client = "198.51.100.7:40000") {
  return ClientTuple{ep(client), ep("10.0.0.1:3478"), Transport::Udp, 0};
}
inline ClientTuple tcpTuple(std::string_view client = "198.51.100.8:40001", uint64_t connection = 7) {
  return ClientTuple{ep(client), ep("10.0.0.1:3478"), Transport::Tcp, connection};
}

}  // namespace rdv::relay::test
