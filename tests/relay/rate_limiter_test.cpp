// The unauthenticated-answer limiter (relay/rate_limiter.h): exact per-source buckets in a bounded
// table, the global allowance when it saturates, and the engine's use of it for 401, 438 and 400 under
// a spoofed flood (fake clock, no network).
#include "relay/rate_limiter.h"

#include <gtest/gtest.h>

#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using std::chrono::milliseconds;
using stun::Method;

IpAddress spoofed(uint32_t i) { return IpAddress::v4(0x0B000000 + i); }  // 11.0.0.0/8: many distinct sources

TEST(RateLimiter, BucketsRefillAndTableIsBounded) {
  SourceRateLimiter limiter(RateLimit{2.0, 3.0}, RateLimit{1.0, 1.0}, 100, 7);
  EXPECT_EQ(limiter.capacity(), 128u);
  const Instant t0{};
  const IpAddress a = ip("192.0.2.1");
  EXPECT_TRUE(limiter.allow(a, t0));
  EXPECT_TRUE(limiter.allow(a, t0));
  EXPECT_TRUE(limiter.allow(a, t0));
  EXPECT_FALSE(limiter.allow(a, t0));
  EXPECT_TRUE(limiter.allow(a, t0 + milliseconds(500)));  // one token back
  EXPECT_FALSE(limiter.allow(a, t0 + milliseconds(500)));
  // A flood from a million sources touches only the fixed table.
  for (uint32_t i = 0; i < 1'000'000; ++i) limiter.allow(spoofed(i), t0);
  EXPECT_EQ(limiter.capacity(), 128u);
}

TEST(RateLimiter, SourcesNeverShareABucket) {
  // A full table (16 entries, the minimum: one probe window): a source that sent nothing still gets its
  // whole burst once the others' buckets are refilled, because a refilled entry is a free slot.
  SourceRateLimiter limiter(RateLimit{5.0, 20.0}, RateLimit{1.0, 1.0}, 16, 99);
  Instant t{};
  for (uint32_t i = 0; i < 16; ++i)
    for (int k = 0; k < 20; ++k) EXPECT_TRUE(limiter.allow(spoofed(i), t));
  t += std::chrono::seconds(4);  // every one of them refilled: their slots are free again
  const IpAddress honest = ip("192.0.2.200");
  for (int k = 0; k < 20; ++k) EXPECT_TRUE(limiter.allow(honest, t)) << k;
  EXPECT_FALSE(limiter.allow(honest, t));
  EXPECT_EQ(limiter.saturated(), 0u);
}

TEST(RateLimiter, SpoofedFloodOfTwentyThousandPerSecondDoesNotStarveAnHonestSource) {
  // Defaults (16,384 entries, 5/s, burst 20): 20k spoofed requests/s, each from a new source, for 10 s.
  // An honest client asking every 250 ms always gets its answer, and the table never saturates.
  Config c = baseConfig();
  SourceRateLimiter limiter(c.unauthorizedRate, c.unauthorizedGlobalRate, c.unauthorizedBuckets, 0x5eed);
  const IpAddress honest = ip("192.0.2.77");
  Instant t{};
  uint32_t next = 0;
  int honestAnswered = 0, honestAsked = 0;
  for (int ms = 0; ms < 10'000; ++ms) {
    for (int k = 0; k < 20; ++k) limiter.allow(spoofed(next++), t);
    if (ms % 250 == 0) {
      ++honestAsked;
      honestAnswered += limiter.allow(honest, t);
    }
    t += milliseconds(1);
  }
  EXPECT_EQ(honestAnswered, honestAsked);
  EXPECT_EQ(limiter.saturated(), 0u);
}

TEST(RateLimiter, SaturatedTableFallsBackToTheGlobalAllowance) {
  // 16 entries, all held by sources that spent their burst: a new source draws from the global
  // allowance (3 now, then 1/s), so it is neither refused for good nor free to flood.
  SourceRateLimiter limiter(RateLimit{1.0, 10.0}, RateLimit{1.0, 3.0}, 16, 1);
  Instant t{};
  for (uint32_t i = 0; i < 16; ++i)
    for (int k = 0; k < 10; ++k) EXPECT_TRUE(limiter.allow(spoofed(i), t));
  ASSERT_EQ(limiter.saturated(), 0u);
  int answered = 0;
  for (uint32_t j = 0; j < 100; ++j) answered += limiter.allow(spoofed(100000 + j), t);
  EXPECT_EQ(answered, 3);  // the global burst
  EXPECT_EQ(limiter.saturated(), 100u);
  t += std::chrono::seconds(1);
  EXPECT_TRUE(limiter.allow(ip("192.0.2.1"), t));  // one more global token (entries still spent)
}

TEST(RateLimiter, CreditGivesBackOneTokenUpToTheBurst) {
  SourceRateLimiter limiter(RateLimit{1.0, 2.0}, RateLimit{1.0, 1.0}, 16, 3);
  const Instant t{};
  const IpAddress a = ip("192.0.2.1");
  limiter.credit(a, t);  // no entry yet: nothing to give back, and no entry made
  EXPECT_TRUE(limiter.allow(a, t));
  EXPECT_TRUE(limiter.allow(a, t));
  EXPECT_FALSE(limiter.allow(a, t));
  limiter.credit(a, t);
  EXPECT_TRUE(limiter.allow(a, t));  // the credited token
  EXPECT_FALSE(limiter.allow(a, t));
  // Credit never raises a bucket above its burst: three credits on an empty bucket give back two.
  for (int k = 0; k < 3; ++k) limiter.credit(a, t);
  EXPECT_TRUE(limiter.allow(a, t));
  EXPECT_TRUE(limiter.allow(a, t));
  EXPECT_FALSE(limiter.allow(a, t));
  const IpAddress b = ip("192.0.2.2");
  limiter.credit(a, t);
  EXPECT_TRUE(limiter.allow(b, t));  // another source's credit is not b's
  EXPECT_TRUE(limiter.allow(b, t));
  EXPECT_FALSE(limiter.allow(b, t));
}

// The engine: 401, 438 and 400 all count against the source, and an honest client is still challenged
// during a spoofed flood through the real Server.
TEST(UnauthenticatedAnswers, FloodFromManySourcesStillChallengesHonestClient) {
  Harness h;
  TurnClient honest(h, udpTuple("192.0.2.10:5000"));
  uint32_t next = 0;
  int challenged = 0;
  for (int round = 0; round < 40; ++round) {
    // 5,000 spoofed Allocates (one per source) per 250 ms: 20k/s, for 10 s. The honest client asks
    // every 250 ms (4/s, within its own 5/s).
    for (int k = 0; k < 5000; ++k) {
      TurnClient spoof(h, ClientTuple{Endpoint(spoofed(next++), 9), ep("10.0.0.1:3478"), Transport::Udp, 0});
      spoof.sendRaw(spoof.build(Method::Allocate, stun::Class::Request, spoof.nextTid(), {}, false));
    }
    const Bytes challenge = honest.request(Method::Allocate, {}, false);
    challenged += !challenge.empty() && errorOf(challenge) == 401;
    h.now.mono += milliseconds(250);
  }
  EXPECT_EQ(challenged, 40);
  EXPECT_EQ(h.server->stats().unauthorizedRateLimited, 0u);
}

TEST(UnauthenticatedAnswers, StaleNonceAndBadRequestAreLimitedToo) {
  Config cfg = baseConfig();
  cfg.unauthorizedRate = RateLimit{1.0, 5.0};
  Harness h(cfg);
  TurnClient c(h, udpTuple("192.0.2.1:1"));
  c.retryStale = false;
  c.nonce = "obviously-not-a-valid-nonce";
  c.realm = "example.org";
  int answered438 = 0;
  for (int i = 0; i < 20; ++i) {
    const Bytes r = c.request(Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); });
    answered438 += !r.empty() && errorOf(r) == 438;
  }
  EXPECT_EQ(answered438, 5);
  // 400 (PASSWORD-ALGORITHMS without PASSWORD-ALGORITHM) from another source: limited the same way.
  TurnClient d(h, udpTuple("192.0.2.2:1"));
  d.nonce = "x";
  d.realm = "example.org";
  int answered400 = 0;
  const std::vector<stun::PasswordAlgorithm> list = {stun::PasswordAlgorithm::Md5};
  for (int i = 0; i < 20; ++i) {
    const Bytes r = d.request(Method::Allocate, [&](stun::MessageBuilder& b) {
      b.addRequestedTransport(17).addPasswordAlgorithms(list);
    });
    answered400 += !r.empty() && errorOf(r) == 400;
  }
  EXPECT_EQ(answered400, 5);
  EXPECT_EQ(h.server->stats().unauthorizedRateLimited, 30u);
}

TEST(UnauthenticatedAnswers, HonestClientsBehindOneAddressAreNotRefused) {
  // 60 clients behind one NAT address (one port each), all within one second: each is challenged once and
  // then authenticates. The burst is 20, but each authenticated request proves the address receives its
  // nonces and gives the challenge's token back, so every client gets its 401 and its allocation.
  Harness h;
  int challenged = 0, authenticated = 0;
  for (int i = 0; i < 60; ++i) {
    TurnClient c(h, udpTuple("192.0.2.50:" + std::to_string(10000 + i)), "alice", "secret");
    const Bytes challenge = c.request(Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); }, false);
    challenged += !challenge.empty() && errorOf(challenge) == 401;
    if (challenge.empty()) continue;
    c.learn(challenge);
    const Bytes reply = c.request(Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); });
    authenticated += !reply.empty() && errorOf(reply) != 401 && errorOf(reply) != 438;
    h.now.mono += milliseconds(10);
  }
  EXPECT_EQ(challenged, 60);
  EXPECT_EQ(authenticated, 60);  // past the challenge (a quota may still answer 486)
  EXPECT_EQ(h.server->stats().unauthorizedRateLimited, 0u);
}

TEST(UnauthenticatedAnswers, ChallengesNeverFollowedByAuthenticationStayLimited) {
  // The same address sends 60 unauthenticated Allocates in a second (a flood, or spoofed in its name):
  // only the burst is answered, credit or not, since nothing authenticates.
  Harness h;
  int challenged = 0;
  for (int i = 0; i < 60; ++i) {
    TurnClient c(h, udpTuple("192.0.2.51:" + std::to_string(10000 + i)));
    const Bytes challenge = c.request(Method::Allocate, {}, false);
    challenged += !challenge.empty() && errorOf(challenge) == 401;
    h.now.mono += milliseconds(10);
  }
  EXPECT_LE(challenged, 20 + 3);  // burst 20, plus 5/s over the 0.6 s the loop took
  EXPECT_GE(h.server->stats().unauthorizedRateLimited, 37u);
}

TEST(UnauthenticatedAnswers, NoUsernameOracle) {
  // A stale nonce gets 438 whether the username exists or not; with a fresh nonce, an unknown user and
  // a wrong password both get 401.
  Harness h;
  for (const char* user : {"alice", "nobody-here"}) {
    TurnClient c(h, udpTuple("192.0.2.3:1"), user, "wrong");
    c.retryStale = false;
    c.nonce = "stale-or-forged";
    c.realm = "example.org";
    EXPECT_EQ(errorOf(c.request(Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); })), 438)
        << user;
    const Bytes challenge = c.request(Method::Allocate, {}, false);
    c.learn(challenge);
    EXPECT_EQ(errorOf(c.request(Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); })), 401)
        << user;
  }
}

}  // namespace
}  // namespace rdv::relay::test
