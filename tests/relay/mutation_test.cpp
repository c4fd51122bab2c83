// Malformed input never crashes the engine: random mutations (fixed seed) of every kind of message a
// client or peer sends, fed through a live Server with an allocation, permissions and channels.
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using stun::MessageBuilder;
using stun::Method;

Bytes mutate(const Bytes& in, FakeRng& rng) {
  Bytes out = in;
  const int edits = 1 + static_cast<int>(rng.below(4));
  for (int i = 0; i < edits; ++i) {
    switch (rng.below(5)) {
      case 0:  // flip a byte
        if (!out.empty()) out[rng.below(out.size())] ^= static_cast<uint8_t>(1 + rng.below(255));
        break;
      case 1:  // truncate
        if (!out.empty()) out.resize(rng.below(out.size()));
        break;
      case 2:  // extend with garbage
        for (uint64_t k = rng.below(16); k > 0; --k) out.push_back(static_cast<uint8_t>(rng.next()));
        break;
      case 3:  // rewrite a length field (message or ChannelData header, or an attribute)
        if (out.size() >= 4) storeBe16(out.data() + 2, static_cast<uint16_t>(rng.next()));
        break;
      default:  // overwrite a 16-bit word anywhere (attribute types and lengths)
        if (out.size() >= 2) storeBe16(out.data() + rng.below(out.size() - 1), static_cast<uint16_t>(rng.next()));
        break;
    }
  }
  return out;
}

TEST(Mutation, RandomMutationsNeverCrash) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(17).addAdditionalAddressFamily(Family::V6);
  })));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, peer)));
  TurnClient tcp(h, tcpTuple());
  ASSERT_TRUE(isSuccess(tcp.allocate()));

  std::vector<Bytes> seeds;
  auto add = [&](stun::Method m, stun::Class cls, const Attrs& attrs, bool auth) {
    seeds.push_back(c.build(m, cls, c.nextTid(), attrs, auth));
  };
  add(Method::Allocate, stun::Class::Request, [](MessageBuilder& b) {
    b.addRequestedTransport(17).addEvenPort(true).addU32(stun::attr::Lifetime, 900);
  }, true);
  add(Method::Refresh, stun::Class::Request, [](MessageBuilder& b) { b.addU32(stun::attr::Lifetime, 600); }, true);
  add(Method::CreatePermission, stun::Class::Request, [&](MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, peer).addXorAddress(stun::attr::XorPeerAddress, ep("[2606:4700::1]:5"));
  }, true);
  add(Method::ChannelBind, stun::Class::Request, [&](MessageBuilder& b) {
    b.addChannelNumber(0x4001).addXorAddress(stun::attr::XorPeerAddress, ep("1.1.1.1:1"));
  }, true);
  add(Method::Send, stun::Class::Indication, [&](MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, peer).add(stun::attr::Data, asBytes("payload")).addFlag(stun::attr::DontFragment);
  }, false);
  add(Method::Allocate, stun::Class::Request, [](MessageBuilder& b) {
    b.addRequestedTransport(17).addPasswordAlgorithm(stun::PasswordAlgorithm::Sha256);
  }, true);
  Bytes cd;
  stun::appendChannelData(cd, 0x4000, asBytes("channel data payload"), false);
  seeds.push_back(cd);

  FakeRng rng(12345);
  size_t outputs = 0;
  for (int i = 0; i < 20000; ++i) {
    const Bytes& seed = seeds[rng.below(seeds.size())];
    const Bytes packet = mutate(seed, rng);
    const ClientTuple& t = rng.below(2) == 0 ? c.tuple : tcp.tuple;
    h.server->handleClientInput(packet, t, h.now);
    if (rng.below(4) == 0) h.server->handlePeerInput(c.relayPort(), peer, packet, h.now);
    if (rng.below(1000) == 0) h.advance(Seconds(1));
    outputs += h.drain().size();
    h.log.clear();
  }
  EXPECT_GT(outputs, 0u);
  const Stats& s = h.server->stats();
  EXPECT_GT(s.dropMalformed, 0u);
  // The allocations are still usable afterwards: each refreshes (or, when the storm legitimately ended it,
  // e.g. a seed whose mutation kept a valid MAC, allocates again), takes a permission and relays data.
  for (TurnClient* x : {&c, &tcp}) {
    if (h.server->findAllocation(x->tuple) != nullptr) {
      const Bytes reply = x->refresh(600);
      EXPECT_TRUE(isSuccess(reply)) << errorOf(reply);
    } else {
      EXPECT_TRUE(isSuccess(x->allocate()));
    }
    ASSERT_NE(h.server->findAllocation(x->tuple), nullptr);
    ASSERT_TRUE(isSuccess(x->permit(peer)));
    const Bytes send = x->build(Method::Send, stun::Class::Indication, x->nextTid(), [&](MessageBuilder& b) {
      b.addXorAddress(stun::attr::XorPeerAddress, peer).add(stun::attr::Data, asBytes("after"));
    }, false);
    h.server->handleClientInput(send, x->tuple, h.now);
    const auto out = Harness::only<SendToPeer>(h.drain());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].peer, peer);
    EXPECT_EQ(out[0].bytes, (Bytes{'a', 'f', 't', 'e', 'r'}));
  }
}

TEST(Mutation, GarbageOfEverySizeNeverCrashes) {
  Harness h;
  FakeRng rng(99);
  const ClientTuple t = udpTuple();
  for (int i = 0; i < 5000; ++i) {
    Bytes b(rng.below(200));
    for (auto& x : b) x = static_cast<uint8_t>(rng.next());
    if (!b.empty() && rng.below(2) == 0) b[0] = static_cast<uint8_t>(rng.below(4));  // looks like STUN
    if (b.size() >= 8 && rng.below(2) == 0) storeBe32(b.data() + 4, stun::kMagicCookie);
    h.server->handleClientInput(b, t, h.now);
    h.server->handlePeerInput(RelayPort{Family::V4, 50000}, ep("8.8.8.8:1"), b, h.now);
    h.drain();
    h.log.clear();
  }
  EXPECT_EQ(h.server->allocationCount(), 0u);
}

}  // namespace
}  // namespace rdv::relay::test
