// Helpers shared by the stun tests.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "rendezvous/base/bytes.h"
#include "stun/message.h"

namespace rdv::stun::test {

inline Bytes hex(std::string_view s) {
  Bytes out;
  EXPECT_TRUE(fromHex(s, out)) << s;
  return out;
}

inline TransactionId tidOf(uint8_t seed) {
  TransactionId t;
  for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<uint8_t>(seed + i * 7);
  return t;
}

inline Endpoint ep(std::string_view text) {
  auto e = Endpoint::parse(text);
  EXPECT_TRUE(e.has_value()) << text;
  return e.value_or(Endpoint());
}

}  // namespace rdv::stun::test
