// The token bucket with fractional rates (the hub's frames, the relay's 401 answers): starts full,
// refills at the rate up to the burst, a refused take takes nothing.
#include "rendezvous/base/token_bucket.h"

#include <gtest/gtest.h>

namespace rdv {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(TokenBucket, StartsFullAndRefillsAtTheRate) {
  TokenBucket b(2.0, 3.0);
  const int64_t t0 = 7 * kSecond;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.take(1, t0)) << i;
  EXPECT_FALSE(b.take(1, t0));
  EXPECT_TRUE(b.take(1, t0 + kSecond / 2));  // one token back
  EXPECT_FALSE(b.take(1, t0 + kSecond / 2));
  // Idle for long: full again, not beyond.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.take(1, t0 + 100 * kSecond)) << i;
  EXPECT_FALSE(b.take(1, t0 + 100 * kSecond));
}

TEST(TokenBucket, FractionalBurstAndCopies) {
  TokenBucket b(1.0, 1.5);
  EXPECT_TRUE(b.take(1, 0));
  EXPECT_FALSE(b.take(1, 0));
  EXPECT_TRUE(b.take(1, kSecond / 2));  // 0.5 left + 0.5 refilled
  const TokenBucket copy = b;
  TokenBucket c = copy;
  EXPECT_FALSE(c.take(1, kSecond / 2));
}

TEST(TokenBucket, FullOnlyOnceEverythingTakenIsRefilled) {
  TokenBucket b(5.0, 20.0);
  EXPECT_TRUE(b.full(0));
  EXPECT_TRUE(b.take(1, 0));
  EXPECT_FALSE(b.full(0));
  EXPECT_FALSE(b.full(kSecond / 5 - 1));
  EXPECT_TRUE(b.full(kSecond / 5));  // one token at 5/s
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(b.take(1, kSecond)) << i;
  EXPECT_FALSE(b.full(kSecond + 4 * kSecond - 1));
  EXPECT_TRUE(b.full(kSecond + 4 * kSecond));
}

TEST(TokenBucket, ChargeTakesWhatWasSentAndGoesIntoDebt) {
  TokenBucket b(10.0, 10.0);  // 10 per second, burst 10
  EXPECT_TRUE(b.charge(10, 0)) << "the burst: still conforming";
  EXPECT_FALSE(b.charge(20, 0)) << "20 more already sent: in debt";
  // 30 units at 10/s occupy the bucket until 3 s; a take of 1 (0.1 s) conforms once it ends within the
  // 1 s tolerance: from 2.1 s.
  EXPECT_FALSE(b.take(1, kSecond));
  EXPECT_FALSE(b.take(1, 2 * kSecond + kSecond / 10 - 1));
  EXPECT_TRUE(b.take(1, 2 * kSecond + kSecond / 10));
  TokenBucket unlimited;
  EXPECT_TRUE(unlimited.charge(1e12, 0));
}

TEST(TokenBucket, UnconfiguredIsUnlimited) {
  TokenBucket b;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.take(1e9, 0));
}

}  // namespace
}  // namespace rdv
