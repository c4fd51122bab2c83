// ReplayCache: a signed request is accepted once inside the skew window, refused again, forgotten
// after the window, and memory stays bounded under a flood without opening a replay.
#include "rendezvous/identity/replay_cache.h"

#include <gtest/gtest.h>

namespace rdv::identity {
namespace {

NodeId idOf(uint8_t n) {
  NodeId id;
  id.bytes[0] = n;
  return id;
}
Hash256 digestOf(uint8_t n) {
  Hash256 d{};
  d[0] = n;
  return d;
}

TEST(ReplayCache, AcceptsOnceRefusesAgain) {
  ReplayCache cache(60, 1000);
  const int64_t now = 1'700'000'000;
  EXPECT_EQ(cache.check(idOf(1), now, digestOf(1), now), ReplayVerdict::Fresh);
  EXPECT_EQ(cache.check(idOf(1), now, digestOf(1), now + 30), ReplayVerdict::Replayed);
  // Another identity, time or digest is another request.
  EXPECT_EQ(cache.check(idOf(2), now, digestOf(1), now), ReplayVerdict::Fresh);
  EXPECT_EQ(cache.check(idOf(1), now + 1, digestOf(1), now), ReplayVerdict::Fresh);
  EXPECT_EQ(cache.check(idOf(1), now, digestOf(2), now), ReplayVerdict::Fresh);
}

TEST(ReplayCache, OutsideTheWindowIsStaleAndForgotten) {
  ReplayCache cache(60, 1000);
  const int64_t now = 1'700'000'000;
  EXPECT_EQ(cache.check(idOf(1), now - 61, digestOf(1), now), ReplayVerdict::Stale);
  EXPECT_EQ(cache.check(idOf(1), now + 61, digestOf(1), now), ReplayVerdict::Stale);
  EXPECT_EQ(cache.check(idOf(1), now - 60, digestOf(1), now), ReplayVerdict::Fresh);
  EXPECT_EQ(cache.size(), 1u);
  // Once the window has passed, the entry is gone and the request is stale anyway.
  EXPECT_EQ(cache.check(idOf(1), now - 60, digestOf(1), now + 1), ReplayVerdict::Stale);
  EXPECT_EQ(cache.check(idOf(2), now + 1, digestOf(1), now + 1), ReplayVerdict::Fresh);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ReplayCache, BoundedUnderAFloodAndNoReplayOfWhatWasDropped) {
  ReplayCache cache(60, 100);
  const int64_t now = 1'700'000'000;
  for (int i = 0; i < 1000; ++i) {
    const int64_t ts = now - 60 + (i % 121);
    (void)cache.check(idOf(static_cast<uint8_t>(i % 250)), ts, digestOf(static_cast<uint8_t>(i / 250)), now);
    ASSERT_LE(cache.size(), 100u);
  }
  // Whatever was accepted before is refused now, dropped or not.
  ReplayCache small(60, 2);
  EXPECT_EQ(small.check(idOf(1), now - 10, digestOf(1), now), ReplayVerdict::Fresh);
  EXPECT_EQ(small.check(idOf(2), now - 5, digestOf(1), now), ReplayVerdict::Fresh);
  EXPECT_EQ(small.check(idOf(3), now, digestOf(1), now), ReplayVerdict::Fresh);  // drops the oldest
  EXPECT_EQ(small.size(), 2u);
  EXPECT_EQ(small.check(idOf(1), now - 10, digestOf(1), now), ReplayVerdict::Replayed);
  EXPECT_EQ(small.check(idOf(9), now - 10, digestOf(9), now), ReplayVerdict::Replayed);  // at the floor
  EXPECT_EQ(small.check(idOf(2), now - 5, digestOf(1), now), ReplayVerdict::Replayed);
}

}  // namespace
}  // namespace rdv::identity
