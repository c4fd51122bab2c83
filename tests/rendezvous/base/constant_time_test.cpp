// The constant-time compare: equal bytes, one byte off, a prefix, empty inputs.
#include "rendezvous/base/constant_time.h"

#include <gtest/gtest.h>

namespace rdv {
namespace {

TEST(ConstantTime, Equal) {
  const Bytes a = {1, 2, 3};
  const Bytes b = {1, 2, 3};
  const Bytes c = {1, 2, 4};
  EXPECT_TRUE(constantTimeEqual(a, b));
  EXPECT_FALSE(constantTimeEqual(a, c));
  EXPECT_FALSE(constantTimeEqual(a, ByteSpan(b).first(2)));
  EXPECT_TRUE(constantTimeEqual({}, {}));
}

}  // namespace
}  // namespace rdv
