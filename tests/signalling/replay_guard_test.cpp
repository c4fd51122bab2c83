#include "signalling/envelope/replay_guard.h"

#include <gtest/gtest.h>

#include "tests/signalling/test_support.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;

class ReplayGuardTest : public ::testing::Test {
 protected:
  PrivateKey alice_ = *PrivateKey::generate();
  PrivateKey carol_ = *PrivateKey::generate();
  PrivateKey bob_ = *PrivateKey::generate();
  CryptoRng rng_;

  VerifiedEnvelope from(const PrivateKey& who, uint64_t seq) {
    EnvelopeHeader h{who.nodeId(), bob_.nodeId(), EnvelopeType::Candidate, seq, 1};
    return *verify(*seal(who, bob_.publicKey(), h, asBytes("c"), rng_));
  }
};

TEST_F(ReplayGuardTest, AcceptsIncreasingRefusesReplayAndOld) {
  ReplayGuard guard;
  EXPECT_TRUE(guard.admit(from(alice_, 0)).ok());
  EXPECT_EQ(guard.admit(from(alice_, 0)).error(), EnvelopeError::Replay);
  EXPECT_TRUE(guard.admit(from(alice_, 5)).ok());
  EXPECT_EQ(guard.admit(from(alice_, 5)).error(), EnvelopeError::Replay);
  EXPECT_EQ(guard.admit(from(alice_, 3)).error(), EnvelopeError::StaleSequence);
  EXPECT_TRUE(guard.admit(from(alice_, 6)).ok());
  EXPECT_EQ(guard.highest(alice_.nodeId()), 6u);
}

TEST_F(ReplayGuardTest, SendersAreIndependent) {
  ReplayGuard guard;
  EXPECT_TRUE(guard.admit(from(alice_, 10)).ok());
  EXPECT_TRUE(guard.admit(from(carol_, 1)).ok());
  EXPECT_EQ(guard.senders(), 2u);
  EXPECT_FALSE(guard.highest(bob_.nodeId()).has_value());
}

// check() before open(), accept() after: the same envelope passes check() until accepted.
TEST_F(ReplayGuardTest, CheckDoesNotConsumeAcceptDoes) {
  ReplayGuard guard;
  auto e = from(alice_, 7);
  EXPECT_TRUE(guard.check(e).ok());
  EXPECT_TRUE(guard.check(e).ok());
  ASSERT_TRUE(open(e, bob_).ok());
  guard.accept(e);
  EXPECT_EQ(guard.check(e).error(), EnvelopeError::Replay);
}

TEST_F(ReplayGuardTest, RestoreNeverLowers) {
  ReplayGuard guard;
  guard.restore(alice_.nodeId(), 9);
  guard.restore(alice_.nodeId(), 4);
  EXPECT_EQ(guard.highest(alice_.nodeId()), 9u);
  EXPECT_EQ(guard.check(from(alice_, 9)).error(), EnvelopeError::Replay);
  EXPECT_TRUE(guard.check(from(alice_, 10)).ok());
}

}  // namespace
}  // namespace rdv::signalling
