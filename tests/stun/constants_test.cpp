#include <gtest/gtest.h>

#include "stun/constants.h"

namespace rdv::stun {
namespace {

TEST(Constants, ReasonPhrases) {
  EXPECT_EQ(reasonPhrase(error::Unauthorized), "Unauthorized");
  EXPECT_EQ(reasonPhrase(error::UnknownAttribute), "Unknown Attribute");
  EXPECT_EQ(reasonPhrase(error::StaleNonce), "Stale Nonce");
  EXPECT_EQ(reasonPhrase(error::InsufficientCapacity), "Insufficient Capacity");
  EXPECT_EQ(reasonPhrase(299), "Error");
  for (uint16_t c : {300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 443, 446, 447, 486, 487, 500, 508}) {
    EXPECT_NE(reasonPhrase(c), "Error") << c;
  }
}

TEST(Constants, ComprehensionRange) {
  EXPECT_TRUE(isComprehensionRequired(attr::Username));
  EXPECT_FALSE(isComprehensionRequired(attr::Software));
  EXPECT_EQ(classOf(messageType(Method::Data, Class::Indication)), Class::Indication);
}

}  // namespace
}  // namespace rdv::stun
