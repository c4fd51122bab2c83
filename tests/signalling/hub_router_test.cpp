// The hub's fleet hooks with a fake clock and a fake router (signalling/hub/peer_router.h, docs/fleet.md):
// an envelope for a recipient connected elsewhere is offered to the router and acknowledged only by its
// answer (delivered, or stored when not written); a remote envelope is handed to a local recipient and its
// write reported back; presence is told on login and logout; a shared store's view of a recipient's box is
// what the hub delivers when it authenticates.
#include <gtest/gtest.h>

#include "tests/signalling/hub_harness.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;
using namespace test;

struct FakeRouter final : PeerRouter {
  bool take = true;
  std::vector<std::pair<uint64_t, Envelope>> forwards;
  std::vector<std::pair<uint64_t, bool>> deliveries;
  std::vector<NodeId> boundIds, unboundIds;
  bool forward(uint64_t ticket, const Envelope& e) override {
    if (take) forwards.emplace_back(ticket, e);
    return take;
  }
  void delivered(uint64_t ref, bool written) override { deliveries.emplace_back(ref, written); }
  void bound(const NodeId& id) override { boundIds.push_back(id); }
  void unbound(const NodeId& id) override { unboundIds.push_back(id); }
};

// A store shared with other hubs: loadFor() returns what `shared` holds for the recipient.
struct SharedStore final : MailboxStore {
  MemoryMailboxStore local;
  std::vector<StoredEnvelope> shared;
  Result<int64_t, StoreError> put(const Envelope& e, TimePoint at) override { return local.put(e, at); }
  Result<bool, StoreError> remove(std::span<const int64_t> ids) override { return local.remove(ids); }
  Result<LoadedMailbox, StoreError> loadAll(TimePoint now) override { return local.loadAll(now); }
  std::optional<std::vector<StoredEnvelope>> loadFor(const NodeId& recipient, TimePoint) override {
    std::vector<StoredEnvelope> out;
    for (const auto& s : shared)
      if (s.envelope.header.to == recipient) out.push_back(s);
    return out;
  }
};

class HubRouterTest : public ::testing::Test {
 protected:
  HubRouterTest() : h_(makeConfig(), store_) { h_.hub().setRouter(&router_); }
  HubConfig makeConfig() {
    HubConfig c;
    c.hubId = hubKey_.nodeId();
    c.framesPerSecond = 1000;
    c.frameBurst = 1000;
    return c;
  }
  std::vector<AckFrame> acksTo(const std::vector<HubCommand>& cmds, const Client& c) {
    return only<AckFrame>(framesTo(cmds, c.conn));
  }

  PrivateKey hubKey_ = *PrivateKey::generate();
  SharedStore store_;
  FakeRouter router_;
  HubHarness h_;
  Client alice_{1, *PrivateKey::generate()};
  Client bob_{2, *PrivateKey::generate()};
};

TEST_F(HubRouterTest, ARemoteRecipientIsAcknowledgedByTheRoutersAnswer) {
  h_.login(alice_);
  ASSERT_EQ(router_.boundIds, std::vector<NodeId>{alice_.key.nodeId()});
  const auto e = h_.envelope(alice_, bob_.key, "to bob elsewhere");
  auto cmds = h_.send(alice_, e);
  EXPECT_TRUE(acksTo(cmds, alice_).empty());  // nothing until the other node answers
  ASSERT_EQ(router_.forwards.size(), 1u);
  EXPECT_EQ(router_.forwards[0].second, e);
  h_.hub().forwarded(router_.forwards[0].first, true, h_.now);
  auto acks = acksTo(h_.drain(), alice_);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status, AckStatus::Delivered);
  EXPECT_EQ(store_.local.size(), 0u);

  // Not written there (or no answer in time): stored here, acknowledged "stored".
  const auto e2 = h_.envelope(alice_, bob_.key, "second");
  h_.send(alice_, e2);
  ASSERT_EQ(router_.forwards.size(), 2u);
  h_.hub().forwarded(router_.forwards[1].first, false, h_.now);
  acks = acksTo(h_.drain(), alice_);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status, AckStatus::Stored);
  EXPECT_EQ(store_.local.size(), 1u);

  // A router that does not know the recipient: stored at once.
  router_.take = false;
  acks = acksTo(h_.send(alice_, h_.envelope(alice_, bob_.key, "third")), alice_);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status, AckStatus::Stored);
  h_.hub().disconnected(alice_.conn);
  EXPECT_EQ(router_.unboundIds, std::vector<NodeId>{alice_.key.nodeId()});
}

TEST_F(HubRouterTest, AnEnvelopeFromAnotherNodeReachesTheLocalRecipientAndItsWriteIsReported) {
  h_.login(bob_);
  Client remoteAlice{99, *PrivateKey::generate()};
  const auto e = h_.envelope(remoteAlice, bob_.key, "from node A");
  ASSERT_TRUE(h_.hub().deliverRemote(e, 7));
  auto got = only<EnvelopeFrame>(framesTo(h_.drain(), bob_.conn));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].envelope, e);
  ASSERT_EQ(router_.deliveries.size(), 1u);
  EXPECT_EQ(router_.deliveries[0], (std::pair<uint64_t, bool>{7, true}));
  // A recipient that does not read: reported not written (its origin node stores it).
  h_.congested.insert(bob_.conn);
  ASSERT_TRUE(h_.hub().deliverRemote(h_.envelope(remoteAlice, bob_.key, "again"), 8));
  h_.drain();
  ASSERT_EQ(router_.deliveries.size(), 2u);
  EXPECT_EQ(router_.deliveries[1], (std::pair<uint64_t, bool>{8, false}));
  EXPECT_EQ(store_.local.size(), 0u);
  // Not connected here: refused at once.
  Client carol{3, *PrivateKey::generate()};
  EXPECT_FALSE(h_.hub().deliverRemote(h_.envelope(remoteAlice, carol.key, "nobody"), 9));
}

TEST_F(HubRouterTest, TheSharedStoresViewIsWhatARecipientCollects) {
  Client remoteAlice{99, *PrivateKey::generate()};
  const auto e1 = h_.envelope(remoteAlice, bob_.key, "stored at A");
  const auto e2 = h_.envelope(remoteAlice, bob_.key, "stored at C");
  store_.shared = {StoredEnvelope{5, h_.now + 3600s, e1}, StoredEnvelope{9, h_.now + 3600s, e2}};
  auto cmds = h_.login(bob_);
  auto frames = framesTo(cmds, bob_.conn);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(std::get<WelcomeFrame>(frames[0]).stored, 2u);
  EXPECT_EQ(std::get<EnvelopeFrame>(frames[1]).envelope, e1);
  EXPECT_EQ(std::get<EnvelopeFrame>(frames[2]).envelope, e2);
  // Confirmed elsewhere meanwhile: the next login here delivers only what the shared store still holds.
  store_.shared.erase(store_.shared.begin());
  h_.hub().disconnected(bob_.conn);
  auto again = only<EnvelopeFrame>(framesTo(h_.login(bob_), bob_.conn));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].envelope, e2);
  EXPECT_EQ(h_.hub().mailbox().size(), 1u);
}

}  // namespace
}  // namespace rdv::signalling
