// The operator's controls in the engine (issue 18): bans (403 at Allocate), drain (300 ALTERNATE-SERVER,
// ALTERNATE-DOMAIN over TLS, 508 without an alternate), and a reload (Server::reconfigure) that changes
// credentials and the peer policy under a live allocation; retired REST secrets.
#include "relay/admission.h"
#include "relay/credentials.h"
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

Config withAdmission(std::shared_ptr<AdmissionControl> admission) {
  Config c = baseConfig();
  c.admission = std::move(admission);
  return c;
}

TEST(Admission, BannedIdentityOrUsernameGets403UntilLiftedOrExpired) {
  auto admission = std::make_shared<AdmissionControl>();
  Harness h(withAdmission(admission));
  admission->setBans({{"alice", {"abuse", 0}}});
  TurnClient alice(h, udpTuple());
  const Bytes refused = alice.allocate();
  EXPECT_EQ(errorOf(refused), 403);
  EXPECT_EQ(stun::verifyMessageIntegrity(view(refused), alice.key()), stun::IntegrityCheck::Ok);
  EXPECT_EQ(h.server->allocationCount(), 0u);
  EXPECT_EQ(h.server->stats().allocateBanned, 1u);
  // Someone else is not affected.
  TurnClient bob(h, udpTuple("198.51.100.8:40000"), "bob", "hunter2");
  EXPECT_TRUE(isSuccess(bob.allocate()));
  // A REST identity: the ID part of "EXPIRY:ID" is what gets banned; a ban with an end lapses.
  const std::string user = std::to_string(h.now.unixSeconds + 3600) + ":node-x";
  admission->setBans({{"node-x", {"spam", h.now.unixSeconds + 60}}});
  TurnClient rest(h, udpTuple("198.51.100.9:40000"), user, restPassword("new-secret", user));
  EXPECT_EQ(errorOf(rest.allocate()), 403);
  h.advance(Seconds(61));
  EXPECT_TRUE(isSuccess(rest.allocate()));
  // Lifted: alice allocates again.
  admission->setBans({});
  EXPECT_TRUE(isSuccess(alice.allocate()));
}

TEST(Admission, DrainingAnswers300WithTheAlternateAndKeepsLiveAllocations) {
  auto admission = std::make_shared<AdmissionControl>();
  Harness h(withAdmission(admission));
  TurnClient live(h, udpTuple());
  ASSERT_TRUE(isSuccess(live.allocate()));
  admission->setDraining(true);
  // No alternate configured: 508.
  TurnClient second(h, udpTuple("198.51.100.8:40000"), "bob", "hunter2");
  EXPECT_EQ(errorOf(second.allocate()), 508);
  admission->setAlternate(AlternateServer{ep("192.0.2.50:3478"), "turn2.example.org"});
  const Bytes redirected = second.allocate();
  ASSERT_EQ(errorOf(redirected), 300);
  const auto m = view(redirected);
  EXPECT_EQ(m.address(stun::attr::AlternateServer), ep("192.0.2.50:3478"));
  EXPECT_FALSE(m.has(stun::attr::AlternateDomain));  // over UDP: no domain
  EXPECT_EQ(stun::verifyMessageIntegrity(m, second.key()), stun::IntegrityCheck::Ok);
  // Over TLS the domain comes with it (RFC 8489 §14.16).
  TurnClient tls(h, ClientTuple{ep("198.51.100.10:40000"), ep("10.0.0.1:5349"), Transport::Tls, 7}, "bob", "hunter2");
  const auto tm = view(tls.allocate());
  EXPECT_EQ(tm.string(stun::attr::AlternateDomain), "turn2.example.org");
  // The live allocation goes on: it refreshes.
  EXPECT_TRUE(isSuccess(live.refresh(600)));
  EXPECT_EQ(h.server->allocationCount(), 1u);
  EXPECT_EQ(h.server->stats().allocateDraining, 3u);
  admission->setDraining(false);
  EXPECT_TRUE(isSuccess(second.allocate()));
}

TEST(Reconfigure, NewCredentialsAndPolicyApplyWithoutEndingAllocations) {
  Harness h;
  TurnClient alice(h, udpTuple());
  ASSERT_TRUE(isSuccess(alice.allocate()));
  Config next = *h.config;
  next.users = {{"carol", "pw-carol"}};
  next.policy = next.policy.withLists({}, {parseCidr("8.8.8.0/24").value()});
  h.server->reconfigure(std::make_shared<const Config>(next));
  EXPECT_EQ(h.server->allocationCount(), 1u);
  // alice was removed: her next request fails authentication (401), the allocation stays until it expires.
  EXPECT_EQ(errorOf(alice.refresh(600)), 401);
  EXPECT_EQ(h.server->allocationCount(), 1u);
  TurnClient carol(h, udpTuple("198.51.100.8:40000"), "carol", "pw-carol");
  ASSERT_TRUE(isSuccess(carol.allocate()));
  EXPECT_EQ(errorOf(carol.permit(ep("8.8.8.8:53"))), 403);
  EXPECT_TRUE(isSuccess(carol.permit(ep("8.8.4.4:53"))));
}

TEST(Credentials, RetiredSecretChecksOnlyWhatItCouldHaveIssued) {
  Config c = baseConfig();
  c.authSecrets = {"current-secret"};
  c.retiredSecrets = {{"retired-secret", 1'700'000'000}};
  c.retiredSecretGrace = Seconds(86400);
  CredentialStore store(c);
  const std::string issuedBefore = "1700003600:node-a";  // expires 1 h after the retirement
  const auto before = store.lookup(issuedBefore, 1'700'000'100);
  ASSERT_EQ(before.status, LookupStatus::Found);
  EXPECT_EQ(before.passwords.size(), 2u);
  EXPECT_EQ(before.passwords[1], restPassword("retired-secret", issuedBefore));
  const std::string tooLate = "1700172800:node-a";  // 48 h after: not something it issued before
  const auto late = store.lookup(tooLate, 1'700'000'100);
  ASSERT_EQ(late.passwords.size(), 1u);
  EXPECT_EQ(late.passwords[0], restPassword("current-secret", tooLate));
  // Only retired secrets, none covering the username: unknown (401), not a list of zero passwords.
  c.authSecrets.clear();
  CredentialStore retiredOnly(c);
  EXPECT_EQ(retiredOnly.lookup(tooLate, 1'700'000'100).status, LookupStatus::Unknown);
}

TEST(AdminView, ListsAllocationsAndEndsOneByIdAtOnce) {
  Harness h;
  TurnClient alice(h, udpTuple());
  TurnClient bob(h, udpTuple("198.51.100.8:40000"), "bob", "hunter2");
  ASSERT_TRUE(isSuccess(alice.allocate()));
  ASSERT_TRUE(isSuccess(bob.allocate()));
  const auto list = h.server->allocations();
  ASSERT_EQ(list.size(), 2u);
  uint64_t aliceId = 0;
  for (const auto& a : list)
    if (a.identity == "alice") aliceId = a.id;
  ASSERT_NE(aliceId, 0u);
  const RelayPort relay = alice.relayPort();
  EXPECT_FALSE(h.server->endById(987654321, h.now));
  ASSERT_TRUE(h.server->endById(aliceId, h.now));
  const auto out = h.drain();
  const auto ended = Harness::only<AllocationEnded>(out);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::Admin);
  EXPECT_EQ(toString(ended[0].reason), "ended-by-admin");
  EXPECT_EQ(ended[0].info.id, aliceId);
  EXPECT_FALSE(h.binder.isBound(relay.family, relay.port));  // the relay socket is released at once
  EXPECT_EQ(h.server->allocationCount(), 1u);
  EXPECT_EQ(h.server->stats().allocationsEndedByAdmin, 1u);
  // Her next Refresh finds no allocation.
  EXPECT_EQ(errorOf(alice.refresh(600)), 437);
}

}  // namespace
}  // namespace rdv::relay::test
