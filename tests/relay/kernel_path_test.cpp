// The engine side of the kernel fast path (relay/kernel_path.cpp, issue 14) against a kernel that does
// what relay_fastpath.bpf.c does with its maps (forward a channel's datagram while it is mirrored and
// within its per-direction allowance, count it; otherwise pass it to user space). The real program is
// tested in tests/rendezvous/node/fastpath; here: which channels go to the kernel and when they leave,
// allowances from caps and budgets, and metering that stays exact when the kernel carries the traffic.
#include <map>

#include "relay/credentials.h"
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

struct Key {
  ClientTuple client;
  uint16_t channel;
  bool operator<(const Key& o) const {
    return std::tie(client.client, channel) < std::tie(o.client.client, o.channel);
  }
};

class FakeKernel final : public KernelPath {
 public:
  struct Entry {
    KernelChannel channel;
    uint64_t allowToPeer = 0, allowToClient = 0;  // left until the next allow()
    KernelTraffic sinceCollect;
  };
  bool add(const KernelChannel& c) override {
    ++adds;
    if (refuse) return false;
    entries[Key{c.client, c.channel}] = Entry{c, 0, 0, {}};
    return true;
  }
  void allow(const KernelChannel& c, uint64_t toPeer, uint64_t toClient) override {
    auto it = entries.find(Key{c.client, c.channel});
    ASSERT_NE(it, entries.end()) << "allowance for a channel not in the kernel";
    it->second.allowToPeer = toPeer;
    it->second.allowToClient = toClient;
  }
  KernelTraffic remove(const KernelChannel& c) override {
    auto it = entries.find(Key{c.client, c.channel});
    EXPECT_NE(it, entries.end()) << "removing a channel not in the kernel";
    if (it == entries.end()) return {};
    KernelTraffic t = it->second.sinceCollect;
    entries.erase(it);
    ++removes;
    return t;
  }
  KernelTraffic collect(const KernelChannel& c) override {
    auto it = entries.find(Key{c.client, c.channel});
    if (it == entries.end()) return {};
    KernelTraffic t = it->second.sinceCollect;
    it->second.sinceCollect = {};
    return t;
  }
  // One datagram of `bytes` payload on the channel: true when the kernel forwarded it.
  bool forward(const ClientTuple& client, uint16_t channel, bool toPeer, uint64_t bytes) {
    auto it = entries.find(Key{client, channel});
    if (it == entries.end()) return false;
    uint64_t& allow = toPeer ? it->second.allowToPeer : it->second.allowToClient;
    if (allow < bytes) return false;
    allow -= bytes;
    (toPeer ? it->second.sinceCollect.toPeer : it->second.sinceCollect.toClient).add(bytes);
    return true;
  }
  std::map<Key, Entry> entries;
  bool refuse = false;
  int adds = 0, removes = 0;
};

Bytes channelData(uint16_t channel, size_t size) {
  Bytes out;
  stun::appendChannelData(out, channel, Bytes(size, 0xcd), false);
  return out;
}

struct KernelHarness : Harness {
  explicit KernelHarness(Config c = baseConfig()) : Harness(std::move(c)) { server->setKernelPath(&kernel); }
  // A client datagram: through the kernel when it takes it, else through the engine. Returns the
  // payload bytes that reached the peer either way.
  uint64_t clientSends(const ClientTuple& t, uint16_t channel, size_t size) {
    if (kernel.forward(t, channel, true, size)) return size;
    server->handleClientInput(channelData(channel, size), t, now);
    uint64_t n = 0;
    for (const auto& p : only<SendToPeer>(drain())) n += p.bytes.size();
    return n;
  }
  uint64_t peerSends(const ClientTuple& t, uint16_t channel, RelayPort relay, const Endpoint& peer, size_t size) {
    if (kernel.forward(t, channel, false, size)) return size;
    uint64_t n = 0;
    for (const auto& s : only<SendToClient>(fromPeer(relay, peer, Bytes(size, 0x11)))) {
      if (auto cd = stun::parseChannelData(s.bytes)) n += cd->data.size();
    }
    return n;
  }
  FakeKernel kernel;
};

TurnClient restClient(Harness& h, const ClientTuple& t, const std::string& id) {
  const std::string user = std::to_string(h.now.unixSeconds + 3600) + ":" + id;
  return TurnClient(h, t, user, restPassword("new-secret", user));
}

TEST(KernelPath, BoundChannelGoesToTheKernelAndMeteringStaysExact) {
  KernelHarness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate([](stun::MessageBuilder& b) {
    b.addRequestedTransport(stun::kTransportUdp).addU32(stun::attr::Lifetime, 3600);
  })));
  const Endpoint peer = ep("9.9.9.9:7000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4001, peer)));
  ASSERT_EQ(h.kernel.entries.size(), 1u);
  const FakeKernel::Entry& e = h.kernel.entries.begin()->second;
  EXPECT_EQ(e.channel.client, c.tuple);
  EXPECT_EQ(e.channel.channel, 0x4001);
  EXPECT_EQ(e.channel.peer, peer);
  EXPECT_EQ(e.channel.relay, c.relayPort());
  EXPECT_GT(e.allowToPeer, 1u << 30) << "static users are unlimited";

  uint64_t toPeer = 0, toClient = 0;
  for (int second = 0; second < 30; ++second) {
    for (int i = 0; i < 10; ++i) {
      toPeer += h.clientSends(c.tuple, 0x4001, 100 + i);
      toClient += h.peerSends(c.tuple, 0x4001, c.relayPort(), peer, 200 + i);
    }
    h.advance(Seconds(1));
    h.drain();
  }
  EXPECT_EQ(toPeer, 30u * (10 * 100 + 45));
  EXPECT_EQ(h.server->stats().bytesClientToPeer, toPeer) << "kernel traffic counted as the engine's";
  uint64_t usage = 0;
  for (const auto& u : Harness::only<AllocationUsage>(h.log)) usage += u.toPeer.bytes;
  EXPECT_EQ(usage, toPeer) << "every tick folds what the kernel forwarded before it reports usage";

  // Traffic after the last tick, then the end: the kernel's last counts are collected at removal.
  toPeer += h.clientSends(c.tuple, 0x4001, 777);
  ASSERT_TRUE(isSuccess(c.refresh(0)));
  EXPECT_TRUE(h.kernel.entries.empty());
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].info.toPeer.bytes, toPeer);
  EXPECT_EQ(ended[0].info.toClient.bytes, toClient);
  EXPECT_EQ(ended[0].info.toPeer.packets, 301u);
}

TEST(KernelPath, LimitedClassCapHoldsWithTheKernelCarryingTheTraffic) {
  KernelHarness h;
  TurnClient c = restClient(h, udpTuple(), "node-x");
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, ep("8.8.8.8:9"))));
  ASSERT_EQ(h.kernel.entries.size(), 1u);
  EXPECT_EQ(h.kernel.entries.begin()->second.allowToPeer, 128u * 1024) << "the whole per-direction cap";
  uint64_t relayed = 0;
  for (int i = 0; i < 200; ++i) {
    relayed += h.clientSends(c.tuple, 0x4000, 1000);
    if (i % 20 == 19) {
      h.advance(Seconds(1));
      h.drain();
    }
  }
  // The kernel stops at its allowance; user space takes the next datagram and ends the allocation at the
  // cap: never more than 128 KiB relayed, as without the kernel.
  EXPECT_EQ(relayed, 131'000u);
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::DataCap);
  EXPECT_EQ(ended[0].info.toPeer.bytes, 131'000u);
  EXPECT_TRUE(h.kernel.entries.empty());
}

TEST(KernelPath, LapsedPermissionAndExpiredChannelLeaveTheKernelWithTheirCounts) {
  Config cfg = baseConfig();
  cfg.usageInterval = Seconds(60);  // ticks far apart: the permission's own deadline takes it out
  KernelHarness h(cfg);
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate([](stun::MessageBuilder& b) {
    b.addRequestedTransport(stun::kTransportUdp).addU32(stun::attr::Lifetime, 3600);
  })));
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4002, ep("9.9.9.9:7000"))));
  EXPECT_EQ(h.clientSends(c.tuple, 0x4002, 500), 500u);
  // Permissions last 300 s, the channel 600 s: at 300 s the channel leaves the kernel (RFC 8656 §9), at
  // the permission's deadline, not at the next metering tick (360 s here).
  h.advance(Seconds(299));
  h.drain();
  EXPECT_EQ(h.kernel.entries.size(), 1u);
  h.advance(Seconds(1));
  h.drain();
  EXPECT_TRUE(h.kernel.entries.empty());
  EXPECT_EQ(h.kernel.removes, 1);
  EXPECT_EQ(h.clientSends(c.tuple, 0x4002, 500), 0u) << "user space drops it: no permission";
  // A fresh permission puts it back at the next tick.
  ASSERT_TRUE(isSuccess(c.permit(ep("9.9.9.9:1"))));
  h.advance(Seconds(60));
  h.drain();
  EXPECT_EQ(h.kernel.entries.size(), 1u);
  EXPECT_EQ(h.clientSends(c.tuple, 0x4002, 300), 300u);
  for (int s = 0; s < 700; ++s) h.advance(Seconds(1));
  h.drain();
  EXPECT_TRUE(h.kernel.entries.empty()) << "the channel expired";
  const Allocation* a = h.server->findAllocation(c.tuple);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->info.toPeer.bytes, 800u) << "what the kernel forwarded stays counted";
}

TEST(KernelPath, OnlyUdpIpv4ChannelsOnASpecificAddressGoToTheKernel) {
  KernelHarness h;
  TurnClient tcp(h, tcpTuple());
  ASSERT_TRUE(isSuccess(tcp.allocate()));
  ASSERT_TRUE(isSuccess(tcp.bindChannel(0x4000, ep("9.9.9.9:1"))));
  TurnClient wildcard(h, ClientTuple{ep("198.51.100.9:1"), ep("0.0.0.0:3478"), Transport::Udp, 0});
  ASSERT_TRUE(isSuccess(wildcard.allocate()));
  ASSERT_TRUE(isSuccess(wildcard.bindChannel(0x4000, ep("9.9.9.9:2"))));
  EXPECT_TRUE(h.kernel.entries.empty());
  // A kernel that refuses (full map): the channel stays in user space and works.
  h.kernel.refuse = true;
  TurnClient udp(h, udpTuple("198.51.100.10:5"));
  ASSERT_TRUE(isSuccess(udp.allocate()));
  ASSERT_TRUE(isSuccess(udp.bindChannel(0x4000, ep("9.9.9.9:3"))));
  EXPECT_EQ(h.kernel.adds, 1);
  EXPECT_TRUE(h.kernel.entries.empty());
  EXPECT_EQ(h.clientSends(udp.tuple, 0x4000, 10), 10u);
}

// An identity whose class has a rate stays in user space: the kernel has no GCRA, and withdrawing the
// channel after a tick over the rate let that whole tick through at any rate (the daemon's 200-allocation
// rate test relayed 18x its cap with the fast path on). Its traffic meets the exact user-space bucket.
TEST(KernelPath, RateClassesStayInUserSpace) {
  auto book = bookWithClass({.name = "capped", .bytesPerSecond = 10'000, .burst = 10'000}, {"node-r"});
  Config cfg = configWith(book);
  KernelHarness h(cfg);
  TurnClient rated = restClient(h, udpTuple("198.51.100.20:5"), "node-r");
  ASSERT_TRUE(isSuccess(rated.allocate()));
  ASSERT_TRUE(isSuccess(rated.bindChannel(0x4000, ep("9.9.9.9:4"))));
  TurnClient unrated = restClient(h, udpTuple("198.51.100.21:5"), "node-f");
  ASSERT_TRUE(isSuccess(unrated.allocate()));
  ASSERT_TRUE(isSuccess(unrated.bindChannel(0x4000, ep("9.9.9.9:5"))));
  ASSERT_EQ(h.kernel.entries.size(), 1u) << "only the identity without a rate";
  EXPECT_EQ(h.kernel.entries.begin()->second.channel.client, unrated.tuple);
  uint64_t relayed = 0;
  for (int i = 0; i < 100; ++i) relayed += h.clientSends(rated.tuple, 0x4000, 1000);
  EXPECT_LE(relayed, 10'000u) << "the burst, then the rate: user space's GCRA, not the kernel";
  EXPECT_GT(relayed, 0u);
  h.advance(Seconds(1));
  h.drain();
  EXPECT_EQ(h.kernel.entries.size(), 1u) << "a tick does not move it into the kernel";
}

// With a fleet (docs/fleet.md, "Quotas") the kernel's share of the daily budget is what the whole fleet
// left, and a fleet tick that brings the other nodes' bytes re-issues it at once: the kernel never spends
// a remainder the fleet has already used (found with the fleet quota test run with the fast path on).
TEST(KernelPath, TheFleetsBytesShrinkTheKernelsShareOfTheDailyBudget) {
  auto book = bookWithClass({.name = "daily", .bytesPerDay = 60'000}, {"node-d"});
  Config cfg = configWith(book);
  KernelHarness h(cfg);
  TurnClient c = restClient(h, udpTuple(), "node-d");
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, ep("9.9.9.9:4"))));
  ASSERT_EQ(h.kernel.entries.size(), 1u);
  EXPECT_EQ(h.kernel.entries.begin()->second.allowToPeer, 30'000u) << "the day's half per direction";

  // Another node relayed 50,000 B for the identity and holds one allocation of it.
  ASSERT_TRUE(book->setFleetUsage({{"rest/node-d", 1, 50'000}}, h.now.unixSeconds));
  EXPECT_FALSE(book->setFleetUsage({{"rest/node-d", 1, 50'000}}, h.now.unixSeconds)) << "nothing new";
  h.server->kernelRefresh(h.now);
  EXPECT_EQ(h.kernel.entries.begin()->second.allowToPeer, 2'500u) << "10,000 left, two directions, two holders";
  uint64_t relayed = 0;
  for (int i = 0; i < 20; ++i) relayed += h.clientSends(c.tuple, 0x4000, 1000);
  EXPECT_EQ(relayed, 10'000u) << "the kernel's share, then user space's exact admission to the fleet's budget";
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::DailyBudget);
  EXPECT_TRUE(h.kernel.entries.empty());
}

}  // namespace
}  // namespace rdv::relay::test
