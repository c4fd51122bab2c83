#include "rendezvous/enr/rlp.h"

#include <gtest/gtest.h>

#include <string>

namespace rdv::enr {
namespace {

Bytes hex(std::string_view h) {
  Bytes b;
  EXPECT_TRUE(fromHex(h, b)) << h;
  return b;
}

TEST(Rlp, EncodesCanonicalForms) {
  struct Case {
    Bytes input;
    std::string expected;
  };
  const Case cases[] = {
      {{}, "80"},
      {{0x00}, "00"},
      {{0x7f}, "7f"},
      {{0x80}, "8180"},
      {Bytes(asBytes("dog").begin(), asBytes("dog").end()), "83646f67"},
      {Bytes(55, 0xaa), "b7" + std::string(110, 'a')},
      {Bytes(56, 0xaa), "b838" + std::string(112, 'a')},
  };
  for (const auto& c : cases) {
    Bytes out;
    encodeString(out, c.input);
    EXPECT_EQ(toHex(out), c.expected);
  }
  Bytes n;
  encodeUint(n, 0);
  EXPECT_EQ(toHex(n), "80");
  n.clear();
  encodeUint(n, 1024);
  EXPECT_EQ(toHex(n), "820400");
  n.clear();
  encodeUint(n, 0xffffffffffffffffULL);
  EXPECT_EQ(toHex(n), "88ffffffffffffffff");
  Bytes list;
  encodeList(list, hex("83636174" "83646f67"));  // ["cat", "dog"]
  EXPECT_EQ(toHex(list), "c88363617483646f67");
}

TEST(Rlp, DecodesValidItems) {
  const Bytes catBytes = hex("83636174");
  auto cat = decodeItem(catBytes);
  ASSERT_TRUE(cat.ok());
  EXPECT_FALSE(cat->isList);
  EXPECT_EQ(asString(cat->payload), "cat");
  const Bytes listBytes = hex("c88363617483646f67");
  auto list = decodeItem(listBytes);
  ASSERT_TRUE(list.ok());
  auto items = decodeListItems(list->payload);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ(asString((*items)[1].payload), "dog");
  // Set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ]
  EXPECT_TRUE(decodeItem(hex("c7c0c1c0c3c0c1c0")).ok());
  Bytes longString = hex("b838");
  longString.resize(2 + 56, 'x');
  EXPECT_TRUE(decodeItem(longString).ok());
  const Bytes n1024 = hex("820400");
  EXPECT_EQ(*decodeUint(*decodeItem(n1024)), 1024u);
  const Bytes zero = hex("80");
  EXPECT_EQ(*decodeUint(*decodeItem(zero)), 0u);
}

struct MalformedCase {
  const char* name;
  const char* hex;
  RlpError expected;
};

TEST(Rlp, RefusesMalformedInput) {
  const MalformedCase cases[] = {
      {"empty", "", RlpError::Empty},
      {"single byte wrapped", "8100", RlpError::NonCanonicalSingle},
      {"single byte 0x7f wrapped", "817f", RlpError::NonCanonicalSingle},
      {"long string form for short payload", "b80161", RlpError::NonCanonicalLength},
      {"long string form for 55 bytes", "b837", RlpError::NonCanonicalLength},
      {"long list form for short payload", "f80180", RlpError::NonCanonicalLength},
      {"leading zero in string length", "b90038", RlpError::LeadingZeroLength},
      {"leading zero in list length", "f90038", RlpError::LeadingZeroLength},
      {"string truncated", "83646f", RlpError::Truncated},
      {"list truncated", "c88363617483646f", RlpError::Truncated},
      {"length of length truncated", "b9", RlpError::Truncated},
      {"long length past the end", "b8ff00", RlpError::Truncated},
      {"trailing bytes", "8363617400", RlpError::TrailingBytes},
      {"list item truncated inside", "c3836361", RlpError::Truncated},
      {"non-canonical item inside list", "c28100", RlpError::NonCanonicalSingle},
  };
  for (const auto& c : cases) {
    auto r = decodeItem(hex(c.hex));
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error(), c.expected) << c.name << ": " << describe(r.error());
  }
  // 0xbf announces an 8-byte length; 0xff an 8-byte list length: huge values overflow the input.
  EXPECT_EQ(decodeItem(hex("bf0100000000000000")).error(), RlpError::Truncated);
  EXPECT_EQ(decodeItem(hex("ffffffffffffffffff")).error(), RlpError::Truncated);
}

TEST(Rlp, RefusesTooDeepNesting) {
  Bytes nested = hex("c0");
  for (int depth = 1; depth < kMaxRlpDepth; ++depth) {
    Bytes outer;
    encodeList(outer, nested);
    nested = outer;
  }
  EXPECT_TRUE(decodeItem(nested).ok()) << "exactly the limit";
  Bytes deeper;
  encodeList(deeper, nested);
  auto r = decodeItem(deeper);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), RlpError::TooDeep);
  EXPECT_EQ(decodeListItems(nested, kMaxRlpDepth - 1).ok(), false) << "a caller's depth is honoured";
}

TEST(Rlp, RefusesNonCanonicalIntegers) {
  const std::pair<const char*, RlpError> cases[] = {
      {"820001", RlpError::LeadingZeroInteger},
      {"00", RlpError::LeadingZeroInteger},
      {"89010000000000000000", RlpError::IntegerTooLarge},
      {"c0", RlpError::ExpectedString},
  };
  for (const auto& [h, expected] : cases) {
    const Bytes raw = hex(h);
    auto item = decodeItem(raw);
    ASSERT_TRUE(item.ok()) << h;
    EXPECT_EQ(decodeUint(*item).error(), expected) << h;
  }
}

}  // namespace
}  // namespace rdv::enr
