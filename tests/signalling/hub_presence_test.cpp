// Presence on the hub core with a fake clock: opted-in identities are online/offline to their
// watchers with signed events; identities that did not opt in look exactly like unknown ones; the
// watch limits.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "tests/signalling/hub_harness.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;
using namespace test;

class HubPresenceTest : public ::testing::Test {
 protected:
  HubPresenceTest() : h_(makeConfig(), store_) {
    h_.hub().setPresenceSigner([this](const identity::Hash256& d) -> std::optional<identity::RecoverableSignature> {
      auto s = hubKey_.signRecoverable(d);
      if (!s) return std::nullopt;
      return *s;
    });
  }
  HubConfig makeConfig() {
    HubConfig c;
    c.hubId = hubKey_.nodeId();
    c.framesPerSecond = 10000;
    c.frameBurst = 10000;
    c.presence.watchesPerConnection = 3;
    return c;
  }
  // Logs in with or without the presence opt-in.
  std::vector<HubCommand> login(const Client& c, bool presence) {
    const auto challenge = h_.connect(c.conn);
    AuthFrame auth{c.key.nodeId(), *signChallenge(c.key, challenge.hub, challenge.nonce), presence};
    h_.hub().handleFrame(c.conn, encodeFrame(auth), h_.now);
    return h_.drain();
  }
  std::vector<HubCommand> watch(const Client& c, std::vector<NodeId> ids) {
    h_.hub().handleFrame(c.conn, encodeFrame(WatchFrame{std::move(ids)}), h_.now);
    return h_.drain();
  }
  std::vector<PresenceEvent> events(const std::vector<HubCommand>& cmds, const Client& c) {
    std::vector<PresenceEvent> out;
    for (const auto& p : only<PresenceFrame>(framesTo(cmds, c.conn))) {
      EXPECT_TRUE(verifyPresence(hubKey_.nodeId(), p.event));  // signed by the node
      out.push_back(p.event);
    }
    return out;
  }
  uint64_t nowMs() const {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(h_.now.time_since_epoch()).count());
  }

  PrivateKey hubKey_ = *PrivateKey::generate();
  MemoryMailboxStore store_;
  HubHarness h_;
  Client watcher_{1, *PrivateKey::generate()};
  Client peer_{2, *PrivateKey::generate()};
  Client shy_{3, *PrivateKey::generate()};
};

TEST_F(HubPresenceTest, OptedInPeerIsOnlineThenOfflineWithLastSeen) {
  login(watcher_, false);
  auto initial = events(watch(watcher_, {peer_.key.nodeId()}), watcher_);
  ASSERT_EQ(initial.size(), 1u);
  EXPECT_EQ(initial[0].event, PresenceState::Offline);
  EXPECT_EQ(initial[0].lastSeenMs, 0u);
  auto on = events(login(peer_, true), watcher_);
  ASSERT_EQ(on.size(), 1u);
  EXPECT_EQ(on[0].event, PresenceState::Online);
  EXPECT_EQ(on[0].node, peer_.key.nodeId());
  EXPECT_EQ(on[0].lastSeenMs, nowMs());
  h_.advance(5s);
  h_.hub().disconnected(peer_.conn, h_.now);  // the socket closed (kill -9 included)
  auto off = events(h_.drain(), watcher_);
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].event, PresenceState::Offline);
  EXPECT_EQ(off[0].lastSeenMs, nowMs());
  // A later watcher learns the last-seen time at once.
  Client late{4, *PrivateKey::generate()};
  login(late, false);
  auto seen = events(watch(late, {peer_.key.nodeId()}), late);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].lastSeenMs, nowMs());
  EXPECT_TRUE(h_.hub().presence().stats().signatures >= 3u);
}

TEST_F(HubPresenceTest, AnIdentityThatDidNotOptInLooksExactlyLikeAnUnknownOne) {
  login(watcher_, false);
  login(shy_, false);  // online, but not opted in
  NodeId nobody;
  nobody.bytes[0] = 0x42;
  auto cmds = watch(watcher_, {shy_.key.nodeId(), nobody});
  auto ev = events(cmds, watcher_);
  ASSERT_EQ(ev.size(), 2u);
  for (auto& e : ev) {
    EXPECT_EQ(e.event, PresenceState::Offline);
    EXPECT_EQ(e.lastSeenMs, 0u);
  }
  h_.hub().disconnected(shy_.conn, h_.now);
  EXPECT_TRUE(events(h_.drain(), watcher_).empty());  // nothing told when it leaves
  login(shy_, false);
  EXPECT_TRUE(events(h_.drain(), watcher_).empty());
}

TEST_F(HubPresenceTest, ReplacedConnectionIsOfflineThenOnlineAndUnwatchStopsEvents) {
  login(watcher_, false);
  login(peer_, true);
  watch(watcher_, {peer_.key.nodeId()});
  Client again{5, peer_.key};
  auto ev = events(login(again, true), watcher_);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].event, PresenceState::Offline);
  EXPECT_EQ(ev[1].event, PresenceState::Online);
  h_.hub().handleFrame(watcher_.conn, encodeFrame(UnwatchFrame{{peer_.key.nodeId()}}), h_.now);
  h_.drain();
  h_.hub().disconnected(again.conn, h_.now);
  EXPECT_TRUE(events(h_.drain(), watcher_).empty());
  EXPECT_EQ(h_.hub().presence().watches(), 0u);
}

TEST_F(HubPresenceTest, WatchesPerConnectionAreBoundedAndDroppedWithTheConnection) {
  login(watcher_, false);
  std::vector<NodeId> ids;
  for (uint8_t i = 1; i <= 5; ++i) {
    NodeId id;
    id.bytes[0] = i;
    ids.push_back(id);
  }
  auto cmds = watch(watcher_, ids);
  EXPECT_EQ(events(cmds, watcher_).size(), 3u);
  auto errors = only<ErrorFrame>(framesTo(cmds, watcher_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "watch-limit");
  EXPECT_EQ(h_.hub().presence().stats().watchRefused, 2u);
  h_.hub().disconnected(watcher_.conn, h_.now);
  EXPECT_EQ(h_.hub().presence().watches(), 0u);
}

TEST_F(HubPresenceTest, NewWatchesAreRateLimitedAcrossUnwatch) {
  login(watcher_, false);
  auto churn = [&](uint8_t tag) {
    NodeId id;
    id.bytes[1] = tag;
    auto n = events(watch(watcher_, {id}), watcher_).size();
    h_.hub().handleFrame(watcher_.conn, encodeFrame(UnwatchFrame{{id}}), h_.now);
    h_.drain();
    return n;
  };
  size_t answered = 0;
  for (uint8_t i = 0; i < 10; ++i) answered += churn(i);
  EXPECT_EQ(answered, 3u);  // the burst: each watch costs the node a signature
  h_.advance(20s);          // 3 per minute: one more
  EXPECT_EQ(churn(100), 1u);
}

// Watching a namespace: events for the opted-in identities registered under it (the registry's answer,
// here a map), nothing for the others; a watcher of the identity and of its namespace gets one event.
TEST_F(HubPresenceTest, ANamespaceWatchSeesItsOptedInRegisteredIdentities) {
  std::map<std::string, std::vector<NodeId>> registered{{"raiden", {peer_.key.nodeId(), shy_.key.nodeId()}}};
  h_.hub().setNamespaceLookup(
      [&](const NodeId& id) {
        std::vector<std::string> out;
        for (const auto& [ns, ids] : registered)
          if (std::find(ids.begin(), ids.end(), id) != ids.end()) out.push_back(ns);
        return out;
      },
      [&](const std::string& ns) { return registered.count(ns) ? registered[ns] : std::vector<NodeId>{}; });
  login(peer_, true);
  login(shy_, false);  // registered and online, not opted in
  login(watcher_, false);
  h_.hub().handleFrame(watcher_.conn, encodeFrame(WatchFrame{{}, std::string("raiden")}), h_.now);
  auto ev = events(h_.drain(), watcher_);
  ASSERT_EQ(ev.size(), 1u);  // peer online; nothing about shy
  EXPECT_EQ(ev[0].node, peer_.key.nodeId());
  EXPECT_EQ(ev[0].event, PresenceState::Online);
  h_.now += std::chrono::seconds(3);
  h_.hub().disconnected(peer_.conn, h_.now);
  ev = events(h_.drain(), watcher_);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, PresenceState::Offline);
  EXPECT_EQ(ev[0].lastSeenMs, nowMs());
  h_.hub().disconnected(shy_.conn, h_.now);
  EXPECT_TRUE(events(h_.drain(), watcher_).empty());
  // Watching the identity too: still one event per change.
  watch(watcher_, {peer_.key.nodeId()});
  auto cmds = login(peer_, true);
  ev = events(cmds, watcher_);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].event, PresenceState::Online);
  // Unwatching the namespace and the id: silence.
  h_.hub().handleFrame(watcher_.conn, encodeFrame(UnwatchFrame{{peer_.key.nodeId()}, std::string("raiden")}), h_.now);
  h_.drain();
  EXPECT_EQ(h_.hub().presence().watches(), 0u);
  h_.hub().disconnected(peer_.conn, h_.now);
  EXPECT_TRUE(events(h_.drain(), watcher_).empty());
}

TEST(PresenceEvent, SignatureBindsHubNodeEventAndTime) {
  auto hub = *PrivateKey::generate();
  PresenceEvent e{PresenceState::Online, PrivateKey::generate()->nodeId(), 1700000000000ull, {}};
  e.signature = *hub.signRecoverable(presenceDigest(hub.nodeId(), e));
  EXPECT_TRUE(verifyPresence(hub.nodeId(), e));
  PresenceEvent t = e;
  t.event = PresenceState::Offline;
  EXPECT_FALSE(verifyPresence(hub.nodeId(), t));
  t = e;
  t.lastSeenMs += 1;
  EXPECT_FALSE(verifyPresence(hub.nodeId(), t));
  EXPECT_FALSE(verifyPresence(PrivateKey::generate()->nodeId(), e));
}

}  // namespace
}  // namespace rdv::signalling
