// The strict CBOR codec (signalling/cbor/cbor.h) against RFC 8949 Appendix A: every example in the
// accepted subset decodes, keeps its value and re-encodes to the same bytes; every other example
// (floats, tags, undefined, simple values, indefinite lengths, integers beyond 64 bits, which are
// tags) is refused with the reason. Then the strictness rules one by one.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "signalling/cbor/cbor.h"

using namespace rdv;
using namespace rdv::signalling::cbor;

namespace {

Bytes hex(const std::string& h) {
  Bytes out;
  EXPECT_TRUE(fromHex(h, out)) << h;
  return out;
}

struct Accepted {
  const char* diagnostic;
  const char* encoded;
};

// RFC 8949 Appendix A, the examples inside the subset the compact wire uses.
const std::vector<Accepted> kAccepted = {
    {"0", "00"}, {"1", "01"}, {"10", "0a"}, {"23", "17"}, {"24", "1818"}, {"25", "1819"}, {"100", "1864"},
    {"1000", "1903e8"}, {"1000000", "1a000f4240"}, {"1000000000000", "1b000000e8d4a51000"},
    {"18446744073709551615", "1bffffffffffffffff"}, {"-18446744073709551616", "3bffffffffffffffff"},
    {"-1", "20"}, {"-10", "29"}, {"-100", "3863"}, {"-1000", "3903e7"},
    {"false", "f4"}, {"true", "f5"}, {"null", "f6"},
    {"h''", "40"}, {"h'01020304'", "4401020304"}, {"\"\"", "60"}, {"\"a\"", "6161"}, {"\"IETF\"", "6449455446"},
    {"\"\\\"\\\\\"", "62225c"}, {"\"\\u00fc\"", "62c3bc"}, {"\"\\u6c34\"", "63e6b0b4"},
    {"\"\\ud800\\udd51\"", "64f0908591"},
    {"[]", "80"}, {"[1, 2, 3]", "83010203"}, {"[1, [2, 3], [4, 5]]", "8301820203820405"},
    {"[1, 2, ..., 25]", "98190102030405060708090a0b0c0d0e0f101112131415161718181819"},
    {"{}", "a0"}, {"{1: 2, 3: 4}", "a201020304"}, {"{\"a\": 1, \"b\": [2, 3]}", "a26161016162820203"},
    {"[\"a\", {\"b\": \"c\"}]", "826161a161626163"},
    {"{\"a\": \"A\", ..., \"e\": \"E\"}", "a56161614161626142616361436164614461656145"},
};

struct Refused {
  const char* diagnostic;
  const char* encoded;
  CborError error;
};

// RFC 8949 Appendix A, the examples outside the subset.
const std::vector<Refused> kRefused = {
    {"18446744073709551616 (tag 2)", "c249010000000000000000", CborError::Tag},
    {"-18446744073709551617 (tag 3)", "c349010000000000000000", CborError::Tag},
    {"0.0", "f90000", CborError::Unsupported}, {"-0.0", "f98000", CborError::Unsupported},
    {"1.0", "f93c00", CborError::Unsupported}, {"1.1", "fb3ff199999999999a", CborError::Unsupported},
    {"1.5", "f93e00", CborError::Unsupported}, {"65504.0", "f97bff", CborError::Unsupported},
    {"100000.0", "fa47c35000", CborError::Unsupported}, {"3.4028234663852886e+38", "fa7f7fffff", CborError::Unsupported},
    {"1.0e+300", "fb7e37e43c8800759c", CborError::Unsupported}, {"5.960464477539063e-8", "f90001", CborError::Unsupported},
    {"0.00006103515625", "f90400", CborError::Unsupported}, {"-4.0", "f9c400", CborError::Unsupported},
    {"-4.1", "fbc010666666666666", CborError::Unsupported}, {"Infinity", "f97c00", CborError::Unsupported},
    {"NaN", "f97e00", CborError::Unsupported}, {"-Infinity", "f9fc00", CborError::Unsupported},
    {"Infinity (single)", "fa7f800000", CborError::Unsupported}, {"NaN (single)", "fa7fc00000", CborError::Unsupported},
    {"-Infinity (single)", "faff800000", CborError::Unsupported},
    {"Infinity (double)", "fb7ff0000000000000", CborError::Unsupported},
    {"NaN (double)", "fb7ff8000000000000", CborError::Unsupported},
    {"-Infinity (double)", "fbfff0000000000000", CborError::Unsupported},
    {"undefined", "f7", CborError::Unsupported}, {"simple(16)", "f0", CborError::Unsupported},
    {"simple(255)", "f8ff", CborError::Unsupported},
    {"0(\"2013-03-21T20:04:00Z\")", "c074323031332d30332d32315432303a30343a30305a", CborError::Tag},
    {"1(1363896240)", "c11a514b67b0", CborError::Tag}, {"1(1363896240.5)", "c1fb41d452d9ec200000", CborError::Tag},
    {"23(h'01020304')", "d74401020304", CborError::Tag}, {"24(h'6449455446')", "d818456449455446", CborError::Tag},
    {"32(\"http://www.example.com\")", "d82076687474703a2f2f7777772e6578616d706c652e636f6d", CborError::Tag},
    {"(_ h'0102', h'030405')", "5f42010243030405ff", CborError::Indefinite},
    {"(_ \"strea\", \"ming\")", "7f657374726561646d696e67ff", CborError::Indefinite},
    {"[_ ]", "9fff", CborError::Indefinite},
    {"[_ 1, [2, 3], [_ 4, 5]]", "9f018202039f0405ffff", CborError::Indefinite},
    {"[_ 1, [2, 3], [4, 5]]", "9f01820203820405ff", CborError::Indefinite},
    {"[1, [2, 3], [_ 4, 5]]", "83018202039f0405ff", CborError::Indefinite},
    {"[1, [_ 2, 3], [4, 5]]", "83019f0203ff820405", CborError::Indefinite},
    {"[_ 1, ..., 25]", "9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", CborError::Indefinite},
    {"{_ \"a\": 1, \"b\": [_ 2, 3]}", "bf61610161629f0203ffff", CborError::Indefinite},
    {"[\"a\", {_ \"b\": \"c\"}]", "826161bf61626163ff", CborError::Indefinite},
    {"{_ \"Fun\": true, \"Amt\": -2}", "bf6346756ef563416d7421ff", CborError::Indefinite},
};

}  // namespace

TEST(Cbor, AppendixAAcceptedExamplesRoundTrip) {
  for (const auto& c : kAccepted) {
    const Bytes in = hex(c.encoded);
    auto v = decode(in);
    ASSERT_TRUE(v) << c.diagnostic << ": " << describe(v.error());
    EXPECT_EQ(toHex(asBytes(encode(*v))), c.encoded) << c.diagnostic;
  }
}

TEST(Cbor, AppendixAValues) {
  auto big = decode(hex("1bffffffffffffffff"));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->type, Type::Unsigned);
  EXPECT_EQ(big->number, 18446744073709551615ull);
  auto neg = decode(hex("3903e7"));
  ASSERT_TRUE(neg);
  EXPECT_EQ(neg->type, Type::Negative);
  EXPECT_EQ(neg->number, 999u);  // -1 - 999 = -1000
  const Bytes waterBytes = hex("63e6b0b4");  // text values are views into the input: keep it alive
  auto water = decode(waterBytes);
  ASSERT_TRUE(water);
  EXPECT_EQ(water->text(), "\xe6\xb0\xb4");
  auto map = decode(hex("a201020304"));
  ASSERT_TRUE(map);
  ASSERT_NE(map->find(3), nullptr);
  EXPECT_EQ(map->find(3)->number, 4u);
  EXPECT_EQ(map->find(2), nullptr);
  auto nested = decode(hex("a26161016162820203"));
  ASSERT_TRUE(nested);
  ASSERT_EQ(nested->items.size(), 4u);
  EXPECT_EQ(nested->items[3].items[1].number, 3u);
}

TEST(Cbor, AppendixARefusedExamples) {
  for (const auto& c : kRefused) {
    auto v = decode(hex(c.encoded));
    ASSERT_FALSE(v) << c.diagnostic;
    EXPECT_EQ(v.error(), c.error) << c.diagnostic << ": " << describe(v.error());
  }
}

TEST(Cbor, WriterMakesTheShortestForms) {
  std::string out;
  Writer w(out);
  for (uint64_t v : {0ull, 23ull, 24ull, 255ull, 256ull, 65535ull, 65536ull, 4294967295ull, 4294967296ull})
    w.unsignedInt(v);
  w.integer(-1);
  w.integer(-1000);
  w.integer(INT64_MIN);
  EXPECT_EQ(toHex(asBytes(out)),
            "00" "17" "1818" "18ff" "190100" "19ffff" "1a00010000" "1affffffff" "1b0000000100000000"
            "20" "3903e7" "3b7fffffffffffffff");
}

TEST(Cbor, RefusesNonShortestIntegersAndLengths) {
  for (const char* h : {"1800", "1817", "190017", "1900ff", "1a0000ffff", "1b00000000ffffffff", "3800", "5800",
                        "7800", "9800", "b800", "f800", "f813"}) {
    auto v = decode(hex(h));
    ASSERT_FALSE(v) << h;
    EXPECT_EQ(v.error(), CborError::NotShortest) << h;
  }
}

TEST(Cbor, RefusesMalformedInput) {
  struct Case {
    const char* hex;
    CborError error;
  };
  for (const Case& c : std::vector<Case>{
           {"", CborError::Truncated},
           {"19", CborError::Truncated},
           {"1b00", CborError::Truncated},
           {"44010203", CborError::Truncated},              // 4 bytes announced, 3 there
           {"5b7fffffffffffffff00", CborError::Truncated},  // a huge length is not trusted
           {"9b0000000100000000", CborError::Truncated},    // nor a huge count
           {"bb7fffffffffffffff", CborError::Truncated},
           {"0000", CborError::TrailingBytes},
           {"1c", CborError::Reserved}, {"3d", CborError::Reserved}, {"fe", CborError::Reserved},
           {"ff", CborError::Unsupported},                  // a lone break
           {"62c328", CborError::BadUtf8},                  // bad continuation
           {"62c0af", CborError::BadUtf8},                  // overlong
           {"63eda080", CborError::BadUtf8},                // a surrogate
           {"64f4908080", CborError::BadUtf8},              // past U+10FFFF
           {"a2030401 02", CborError::KeyOrder},            // {3: 4, 1: 2}
           {"a201020102", CborError::KeyOrder},             // {1: 2, 1: 2}
           {"a2616201616102", CborError::KeyOrder},         // {"b": 1, "a": 2}
           {"a1400102", CborError::KeyType},                // a byte-string key
           {"a1800102", CborError::KeyType},                // an array key
       }) {
    auto v = decode(hex(c.hex));
    ASSERT_FALSE(v) << c.hex;
    EXPECT_EQ(v.error(), c.error) << c.hex << ": " << describe(v.error());
  }
}

TEST(Cbor, BoundsDepthAndItemCount) {
  // Nine nested one-element arrays around a 0: depth 9 > 8.
  EXPECT_EQ(decode(hex("81818181818181818100")).error(), CborError::TooDeep);
  EXPECT_TRUE(decode(hex("818181818181818100")));
  Limits small;
  small.maxItems = 4;
  EXPECT_TRUE(decode(hex("83010203"), small));
  EXPECT_EQ(decode(hex("8401020304"), small).error(), CborError::TooManyItems);
}

TEST(Cbor, ByteStringsAreViewsOfTheInput) {
  const Bytes in = hex("4401020304");
  auto v = decode(in);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->bytes.data(), in.data() + 1);
  EXPECT_EQ(v->bytes.size(), 4u);
}
