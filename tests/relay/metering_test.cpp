// Metering (issue 7): AllocationUsage deltas, final totals, allocation ids, distinct peers, endAll.
// The invariant: the sum of an allocation's usage deltas plus the remainder booked at its end equals its
// final totals, which equal the bytes the engine actually handed to the I/O layer, in both directions,
// over both framings (Send/Data indications and ChannelData), across channel expiry.
#include <atomic>
#include <thread>

#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using stun::MessageBuilder;
using stun::Method;

Bytes sendIndication(TurnClient& c, const Endpoint& peer, size_t size) {
  const Bytes data(size, 0xab);
  return c.build(Method::Send, stun::Class::Indication, c.nextTid(), [&](MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, peer).add(stun::attr::Data, data);
  }, false);
}
Bytes channelData(uint16_t channel, size_t size) {
  Bytes out;
  stun::appendChannelData(out, channel, Bytes(size, 0xcd), false);
  return out;
}

// What came out of the engine, tallied per allocation id, plus what the I/O layer was asked to send.
struct Tally {
  std::map<uint64_t, TrafficCounters> usageToPeer, usageToClient;
  std::map<uint64_t, std::vector<int64_t>> usageTimes;
  std::vector<AllocationEnded> ended;
  TrafficCounters sentToPeer;    // payload bytes of SendToPeer commands
  TrafficCounters sentToClient;  // payload bytes of SendToClient relayed data (ChannelData/Data indications)

  void take(const std::vector<Command>& cs) {
    for (const Command& c : cs) {
      if (const auto* u = std::get_if<AllocationUsage>(&c)) {
        EXPECT_FALSE(u->toPeer.empty() && u->toClient.empty()) << "a usage event that reports nothing";
        usageToPeer[u->id] += u->toPeer;
        usageToClient[u->id] += u->toClient;
        usageTimes[u->id].push_back(u->unixSeconds);
      } else if (const auto* e = std::get_if<AllocationEnded>(&c)) {
        ended.push_back(*e);
      } else if (const auto* p = std::get_if<SendToPeer>(&c)) {
        sentToPeer.add(p->bytes.size());
      } else if (const auto* s = std::get_if<SendToClient>(&c)) {
        const auto kind = stun::classify(s->bytes);
        if (kind == stun::PacketKind::ChannelData) {
          sentToClient.add(stun::parseChannelData(s->bytes)->data.size());
        } else if (kind == stun::PacketKind::Stun) {
          const auto m = stun::MessageView::parse(s->bytes);
          if (m && m->is(Method::Data, stun::Class::Indication)) sentToClient.add(m->data()->size());
        }
      }
    }
  }
};

struct MeteringHarness : Harness {
  Tally tally;
  std::vector<Command> step(Seconds s) {
    advance(s);
    auto out = drain();
    tally.take(out);
    return out;
  }
  void client(const ClientTuple& t, const Bytes& bytes) {
    server->handleClientInput(bytes, t, now);
    tally.take(drain());
  }
  void peer(RelayPort relay, const Endpoint& from, size_t size) { tally.take(fromPeer(relay, from, Bytes(size, 0x11))); }
};

TEST(Metering, UsageDeltasSumExactlyToTotalsAcrossFramingsAndChannelExpiry) {
  MeteringHarness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(stun::kTransportUdp).addU32(stun::attr::Lifetime, 3600);
  })));
  const Endpoint viaIndication = ep("8.8.8.8:9000");
  const Endpoint viaChannel = ep("9.9.9.9:7000");
  const uint16_t channel = 0x4001;
  ASSERT_TRUE(isSuccess(c.permit(viaIndication)));
  ASSERT_TRUE(isSuccess(c.bindChannel(channel, viaChannel)));
  const RelayPort relay = c.relayPort();

  uint64_t expectToPeer = 0, expectToClient = 0;
  // 20 minutes of mixed traffic: every framing in both directions, with ticks between bursts. The
  // channel is left to expire after 10 minutes (its counters fold into the allocation), then rebound.
  for (int second = 0; second < 1200; ++second) {
    const size_t n = 1 + (second * 37) % 500;
    h.client(c.tuple, sendIndication(c, viaIndication, n));
    h.peer(relay, viaIndication, n + 1);
    expectToPeer += n;
    expectToClient += n + 1;
    const bool channelLive = second < 590 || second >= 620;
    if (second == 620) {
      ASSERT_TRUE(isSuccess(c.bindChannel(channel, viaChannel)));
    }
    if (channelLive) {
      h.client(c.tuple, channelData(channel, n + 2));
      h.peer(relay, viaChannel, n + 3);
      expectToPeer += n + 2;
      expectToClient += n + 3;
    }
    if (second % 200 == 0) {  // permissions last 300 s
      ASSERT_TRUE(isSuccess(c.permit(viaIndication)));
    }
    if (second % 200 == 100 && channelLive) {
      ASSERT_TRUE(isSuccess(c.permit(viaChannel)));
    }
    if (second % 900 == 0) {
      ASSERT_TRUE(isSuccess(c.refresh(3600)));
    }
    h.step(Seconds(1));
  }
  EXPECT_EQ(h.tally.sentToPeer.bytes, expectToPeer);
  EXPECT_EQ(h.tally.sentToClient.bytes, expectToClient);

  const uint64_t id = h.server->findAllocation(c.tuple)->info.id;
  ASSERT_TRUE(isSuccess(c.refresh(0)));  // the client helper drains: the end is in the harness log
  h.tally.ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(h.tally.ended.size(), 1u);
  const AllocationEnded& end = h.tally.ended[0];
  EXPECT_EQ(end.reason, EndReason::Deleted);
  EXPECT_EQ(end.info.id, id);
  // Final totals == what was relayed, exactly; usage deltas never exceed them; the remainder is what the
  // consumer books at the end.
  EXPECT_EQ(end.info.toPeer.bytes, expectToPeer);
  EXPECT_EQ(end.info.toClient.bytes, expectToClient);
  EXPECT_EQ(end.info.toPeer, h.tally.sentToPeer);
  EXPECT_EQ(end.info.toClient, h.tally.sentToClient);
  const TrafficCounters remainderToPeer = end.info.toPeer - h.tally.usageToPeer[id];
  const TrafficCounters remainderToClient = end.info.toClient - h.tally.usageToClient[id];
  EXPECT_LE(h.tally.usageToPeer[id].bytes, end.info.toPeer.bytes);
  // Every second had traffic and a tick: only the traffic since the last tick is left over.
  EXPECT_LT(remainderToPeer.bytes, 2000u);
  EXPECT_LT(remainderToClient.bytes, 2000u);
  // Ticks at most one per usageInterval (1 s), so about one per second of traffic.
  const auto& times = h.tally.usageTimes[id];
  EXPECT_GE(times.size(), 1190u);
  for (size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 1], 1);
  EXPECT_EQ(h.server->stats().bytesClientToPeer, expectToPeer);
  EXPECT_EQ(h.server->stats().bytesPeerToClient, expectToClient);
}

TEST(Metering, NoUsageEventWhenNothingMovedAndDeadlineCoversTheTick) {
  MeteringHarness h;
  EXPECT_FALSE(h.server->nextDeadline());
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  // The next deadline is the usage tick, one interval away (before any lifetime or permission expiry).
  ASSERT_TRUE(h.server->nextDeadline());
  EXPECT_EQ(*h.server->nextDeadline(), h.now.mono + Seconds(1));
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(Harness::only<AllocationUsage>(h.step(Seconds(1))).empty());
  }
  ASSERT_TRUE(isSuccess(c.permit(ep("8.8.8.8:1"))));
  h.peer(c.relayPort(), ep("8.8.8.8:1"), 10);
  auto usage = Harness::only<AllocationUsage>(h.step(Seconds(1)));
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].toClient.bytes, 10u);
  EXPECT_EQ(usage[0].toClient.packets, 1u);
  EXPECT_TRUE(usage[0].toPeer.empty());
  EXPECT_EQ(usage[0].identity, "alice");
  EXPECT_EQ(usage[0].unixSeconds, h.now.unixSeconds);
  EXPECT_TRUE(Harness::only<AllocationUsage>(h.step(Seconds(1))).empty());
  // Once no allocation is left, the tick stops.
  ASSERT_TRUE(isSuccess(c.refresh(0)));
  EXPECT_FALSE(h.server->nextDeadline() && *h.server->nextDeadline() <= h.now.mono + Seconds(1));
}

TEST(Metering, AllocationIdsStartAtTheConfiguredFirstId) {
  Config config = baseConfig();
  config.firstAllocationId = (uint64_t{3} << 48) + 1;
  Harness h(config);
  TurnClient a(h, udpTuple("198.51.100.7:40000"));
  TurnClient b(h, udpTuple("198.51.100.7:40001"));
  ASSERT_TRUE(isSuccess(a.allocate()));
  ASSERT_TRUE(isSuccess(b.allocate()));
  const auto started = Harness::only<AllocationStarted>(h.log);
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0].info.id, (uint64_t{3} << 48) + 1);
  EXPECT_EQ(started[1].info.id, (uint64_t{3} << 48) + 2);
}

TEST(Metering, EndAllEndsEveryAllocationAsShutdownWithTotals) {
  MeteringHarness h;
  TurnClient a(h, udpTuple("198.51.100.7:40000"));
  TurnClient b(h, tcpTuple());
  ASSERT_TRUE(isSuccess(a.allocate()));
  ASSERT_TRUE(isSuccess(b.allocate()));
  ASSERT_TRUE(isSuccess(a.bindChannel(0x4000, ep("8.8.8.8:5"))));
  h.client(a.tuple, channelData(0x4000, 100));
  h.step(Seconds(1));  // 100 bytes reported as usage
  h.client(a.tuple, channelData(0x4000, 23));
  const RelayPort ra = a.relayPort(), rb = b.relayPort();
  h.server->endAll(h.now);
  h.tally.take(h.drain());
  ASSERT_EQ(h.tally.ended.size(), 2u);
  for (const AllocationEnded& e : h.tally.ended) EXPECT_EQ(e.reason, EndReason::Shutdown);
  const auto& ea = h.tally.ended[0].info.tuple == a.tuple ? h.tally.ended[0] : h.tally.ended[1];
  EXPECT_EQ(ea.info.toPeer.bytes, 123u);
  EXPECT_EQ(ea.info.toPeer.packets, 2u);
  EXPECT_EQ((ea.info.toPeer - h.tally.usageToPeer[ea.info.id]).bytes, 23u);
  EXPECT_EQ(h.server->allocationCount(), 0u);
  EXPECT_FALSE(h.binder.isBound(ra.family, ra.port));
  EXPECT_FALSE(h.binder.isBound(rb.family, rb.port));
  EXPECT_EQ(h.server->stats().allocationsEndedByShutdown, 2u);
  EXPECT_EQ(h.server->stats().allocationsActive, 0u);
  EXPECT_EQ(h.server->stats().channelsActive, 0u);
  EXPECT_EQ(h.server->stats().permissionsActive, 0u);
}

TEST(Metering, PeersCountsDistinctPeerAddressesOverTheAllocationsLife) {
  MeteringHarness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(c.permit(ep("8.8.8.8:1"))));
  ASSERT_TRUE(isSuccess(c.permit(ep("8.8.8.8:2"))));  // same IP
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, ep("9.9.9.9:3"))));
  h.step(Seconds(400));  // both permissions lapse
  ASSERT_TRUE(isSuccess(c.permit(ep("8.8.8.8:1"))));  // seen before
  ASSERT_TRUE(isSuccess(c.permit(ep("1.1.1.1:1"))));
  ASSERT_TRUE(isSuccess(c.refresh(0)));
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].info.peers, 3u);
}

TEST(Metering, EndReasonNames) {
  EXPECT_EQ(toString(EndReason::Expired), "expired");
  EXPECT_EQ(toString(EndReason::Deleted), "deleted");
  EXPECT_EQ(toString(EndReason::ConnectionClosed), "connection-closed");
  EXPECT_EQ(toString(EndReason::DataCap), "data-cap");
  EXPECT_EQ(toString(EndReason::DailyBudget), "daily-budget");
  EXPECT_EQ(toString(EndReason::Shutdown), "shutdown");
}

TEST(Metering, StatsAreReadableFromAnotherThreadWhileTheWorkerWrites) {
  // Single-writer relaxed atomics: a reader thread sees monotonic values and never a torn one.
  MeteringHarness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, ep("8.8.8.8:5"))));
  const Bytes packet = channelData(0x4000, 8);
  std::atomic<bool> done{false};
  uint64_t lastSeen = 0;
  bool monotonic = true;
  std::thread reader([&] {
    while (!done.load()) {
      const uint64_t v = h.server->stats().bytesClientToPeer;
      if (v < lastSeen || v % 8 != 0) monotonic = false;
      lastSeen = v;
    }
  });
  for (int i = 0; i < 20000; ++i) {
    h.server->handleClientInput(packet, c.tuple, h.now);
    while (auto cmd = h.server->nextCommand()) {
    }
  }
  done = true;
  reader.join();
  EXPECT_TRUE(monotonic);
  EXPECT_EQ(h.server->stats().bytesClientToPeer, 8u * 20000u);
}

}  // namespace
}  // namespace rdv::relay::test
