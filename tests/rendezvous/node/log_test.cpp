// The text log formatter: values from the network cannot forge a line or smuggle terminal escapes.
#include <gtest/gtest.h>

#include "rendezvous/node/log.h"

namespace rdv::node {
namespace {

using Json = nlohmann::json;

TEST(NodeLogText, PlainValuesStayBare) {
  EXPECT_EQ(formatTextLine("allocate", Json{{"user", "alice"}, {"port", 49152}, {"ok", true}}),
            "allocate ok=true port=49152 user=alice");
  EXPECT_EQ(formatTextLine("x", Json{{"why", "two words"}, {"empty", ""}}), "x empty=\"\" why=\"two words\"");
  EXPECT_EQ(formatTextLine("x", Json{{"q", "a\"b=c\\d"}}), "x q=\"a\\\"b=c\\\\d\"");
}

TEST(NodeLogText, NewlinesCannotForgeALine) {
  const std::string forged = "bob\n2026-12-04T20:00:00.000000Z info admin-login user=root";
  const std::string line = formatTextLine("auth-failed", Json{{"user", forged}, {"cr", "a\rb"}});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  EXPECT_EQ(line, "auth-failed cr=\"a\\rb\" user=\"bob\\n2026-12-04T20:00:00.000000Z info admin-login user=root\"");
}

TEST(NodeLogText, OtherControlCharactersAsHex) {
  const std::string line =
      formatTextLine("x", Json{{"v", std::string("\x1b[31mred\x07\x7f\t", 11)}, {"nul", std::string("a\0b", 3)}});
  EXPECT_EQ(line, "x nul=\"a\\x00b\" v=\"\\x1b[31mred\\x07\\x7f\\t\"");
  for (char c : line) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << line;
}

TEST(NodeLogText, EventKeysAndNestedValuesEscaped) {
  EXPECT_EQ(formatTextLine("ev\nil", Json{{"k\n", 1}}), "ev\\nil k\\n=1");
  const std::string nested = formatTextLine("x", Json{{"list", Json::array({"a\nb"})}});
  EXPECT_EQ(nested.find('\n'), std::string::npos) << nested;
}

TEST(NodeLogText, InvalidUtf8IsReplaced) {
  const std::string line = formatTextLine("x", Json{{"v", std::string("a\xff\n")}});
  EXPECT_EQ(line, "x v=\"a\xEF\xBF\xBD\\n\"");
  EXPECT_EQ(formatTextLine("x", Json{{"v", "\xC3\xBC" "ber"}}), "x v=\xC3\xBC" "ber");
}

}  // namespace
}  // namespace rdv::node
