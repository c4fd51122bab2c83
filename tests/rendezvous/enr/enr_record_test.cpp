#include "rendezvous/enr/enr_record.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "rendezvous/enr/base64url.h"
#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/enr/rdv_keys.h"
#include "rendezvous/identity/private_key.h"

namespace rdv::enr {
namespace {

constexpr std::string_view kEipRecord =
    "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlw"
    "hH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";
constexpr std::string_view kEipKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
constexpr std::string_view kEipNodeId = "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7";

identity::PrivateKey eipKey() { return *identity::PrivateKey::fromHex(kEipKey); }

// Signs arbitrary [seq, k, v, ...] without the builder's checks, to test what decode refuses.
Bytes signRaw(const identity::PrivateKey& key, uint64_t seq, const std::vector<std::pair<std::string, Bytes>>& kvs) {
  Bytes body;
  encodeUint(body, seq);
  for (const auto& [k, v] : kvs) {
    encodeString(body, asBytes(k));
    encodeString(body, v);
  }
  Bytes content;
  encodeList(content, body);
  auto sig = key.sign(identity::keccak256(content));
  Bytes payload;
  encodeString(payload, *sig);
  payload.insert(payload.end(), body.begin(), body.end());
  Bytes record;
  encodeList(record, payload);
  return record;
}

std::vector<std::pair<std::string, Bytes>> v4Fields(const identity::PrivateKey& key) {
  auto pub = key.publicKey().compressed();
  return {{"id", Bytes{'v', '4'}}, {"secp256k1", Bytes(pub.begin(), pub.end())}};
}

TEST(EnrRecord, EipExampleDecodesAndVerifies) {
  auto rec = EnrRecord::fromText(kEipRecord);
  ASSERT_TRUE(rec.ok()) << describe(rec.error());
  EXPECT_EQ(rec->nodeId().hex(), kEipNodeId);
  EXPECT_EQ(rec->seq(), 1u);
  EXPECT_EQ(rec->id(), "v4");
  EXPECT_EQ(rec->ip(), (std::array<uint8_t, 4>{127, 0, 0, 1}));
  EXPECT_EQ(rec->udp(), 30303);
  EXPECT_FALSE(rec->tcp().has_value());
  EXPECT_EQ(toHex(rec->signature()),
            "7098ad865b00a582051940cb9cf36836572411a47278783077011599ed5cd16b76f2635f4e234738f30813a89eb9137e3e3d"
            "f5266e3a1f11df72ecf1145ccb9c");
  ASSERT_EQ(rec->entries().size(), 4u);
  EXPECT_EQ(rec->entries()[2].key, "secp256k1");
  EXPECT_EQ(rec->toText(), kEipRecord);
}

TEST(EnrRecord, BuildingFromEipKeyReencodesIdentically) {
  auto rec = EnrBuilder().setSeq(1).setIp({127, 0, 0, 1}).setUdp(30303).sign(eipKey());
  ASSERT_TRUE(rec.ok()) << describe(rec.error());
  EXPECT_EQ(rec->toText(), kEipRecord);
  EXPECT_EQ(rec->nodeId().hex(), kEipNodeId);
}

TEST(EnrRecord, MinimalRecordAndFromBuilderRoundTrip) {
  auto key = *identity::PrivateKey::generate();
  auto minimal = EnrBuilder().setSeq(0).sign(key);
  ASSERT_TRUE(minimal.ok());
  EXPECT_EQ(minimal->entries().size(), 2u);  // id, secp256k1
  auto decoded = EnrRecord::fromText(minimal->toText());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, *minimal);
  EXPECT_EQ(decoded->nodeId(), key.nodeId());

  auto updated = EnrBuilder::from(*decoded)
                     .setSeq(7)
                     .setTcp(4001)
                     .setTcp6(4002)
                     .setUdp6(4003)
                     .setIp6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
                     .setText(keys::kNat, formatNatType({NatMapping::EndpointIndependent,
                                                         NatFiltering::AddressAndPortDependent}))
                     .setBytes(keys::kDirect, Bytes{1})
                     .setText(keys::kMailbox, "https://node.example:8080")
                     .sign(key);
  ASSERT_TRUE(updated.ok()) << describe(updated.error());
  EXPECT_EQ(updated->seq(), 7u);
  EXPECT_EQ(updated->tcp(), 4001);
  EXPECT_EQ(updated->tcp6(), 4002);
  EXPECT_EQ(updated->udp6(), 4003);
  EXPECT_EQ((*updated->ip6())[15], 1);
  EXPECT_EQ(parseNatType(*updated->text(keys::kNat))->filtering, NatFiltering::AddressAndPortDependent);
  EXPECT_EQ(updated->uint(keys::kDirect), 1u);
  EXPECT_EQ(updated->text(keys::kMailbox), "https://node.example:8080");
  EXPECT_FALSE(updated->has("nope"));
}

TEST(EnrRecord, SizeBoundary300Accepted301Refused) {
  auto key = eipKey();
  bool saw300 = false;
  bool saw301 = false;
  for (size_t n = 100; n < 250; ++n) {
    auto fields = v4Fields(key);
    fields.insert(fields.begin() + 1, {"pad", Bytes(n, 'p')});  // "id" < "pad" < "secp256k1"
    const Bytes raw = signRaw(key, 1, fields);
    if (raw.size() == 300) {
      saw300 = true;
      EXPECT_TRUE(EnrRecord::decode(raw).ok());
      EXPECT_TRUE(EnrBuilder().setBytes("pad", Bytes(n, 'p')).sign(key).ok());
    } else if (raw.size() == 301) {
      saw301 = true;
      EXPECT_EQ(EnrRecord::decode(raw).error(), EnrError::TooLarge);
      EXPECT_EQ(EnrRecord::fromText("enr:" + base64UrlEncode(raw)).error(), EnrError::TooLarge);
      EXPECT_EQ(EnrBuilder().setBytes("pad", Bytes(n, 'p')).sign(key).error(), EnrError::TooLarge);
    }
  }
  EXPECT_TRUE(saw300 && saw301);
}

TEST(EnrRecord, TextFormIsStrict) {
  const std::string body(kEipRecord.substr(4));
  EXPECT_EQ(EnrRecord::fromText(body).error(), EnrError::MissingPrefix);
  EXPECT_EQ(EnrRecord::fromText("ENR:" + body).error(), EnrError::MissingPrefix);
  std::string padded = std::string(kEipRecord);
  while ((padded.size() - 4) % 4 != 0) padded += '=';
  EXPECT_EQ(EnrRecord::fromText(padded).error(), EnrError::BadBase64);
  std::string standardAlphabet(kEipRecord);
  for (auto& c : standardAlphabet) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  EXPECT_EQ(EnrRecord::fromText(standardAlphabet).error(), EnrError::BadBase64);
  EXPECT_EQ(EnrRecord::fromText(std::string(kEipRecord) + "\n").error(), EnrError::BadBase64);
  EXPECT_EQ(EnrRecord::fromText("enr:").error(), EnrError::MalformedRlp);
}

TEST(EnrRecord, UnsortedAndDuplicateKeysRefused) {
  auto key = eipKey();
  auto fields = v4Fields(key);
  auto unsorted = fields;
  std::swap(unsorted[0], unsorted[1]);
  EXPECT_EQ(EnrRecord::decode(signRaw(key, 1, unsorted)).error(), EnrError::KeysNotSorted);
  auto duplicate = fields;
  duplicate.insert(duplicate.begin() + 1, {"ip", Bytes{1, 2, 3, 4}});
  duplicate.insert(duplicate.begin() + 1, {"ip", Bytes{1, 2, 3, 4}});
  EXPECT_EQ(EnrRecord::decode(signRaw(key, 1, duplicate)).error(), EnrError::DuplicateKey);
  EXPECT_TRUE(EnrRecord::decode(signRaw(key, 1, fields)).ok());
}

TEST(EnrRecord, SignatureAndSchemeChecks) {
  auto key = eipKey();
  Bytes raw = signRaw(key, 1, v4Fields(key));
  Bytes tampered = raw;
  tampered[10] ^= 0x01;  // inside the signature
  EXPECT_EQ(EnrRecord::decode(tampered).error(), EnrError::BadSignature);
  // Signed by another key than the one in "secp256k1".
  auto other = *identity::PrivateKey::generate();
  auto fields = v4Fields(key);
  Bytes body;
  encodeUint(body, 1);
  for (const auto& [k, v] : fields) {
    encodeString(body, asBytes(k));
    encodeString(body, v);
  }
  EXPECT_EQ(EnrRecord::decode(signRaw(other, 1, fields)).error(), EnrError::BadSignature);
  EXPECT_EQ(EnrRecord::decode(signRaw(key, 1, {{"secp256k1", fields[1].second}})).error(), EnrError::MissingId);
  EXPECT_EQ(EnrRecord::decode(signRaw(key, 1, {{"id", Bytes{'v', '5'}}, {"secp256k1", fields[1].second}})).error(),
            EnrError::UnsupportedScheme);
  EXPECT_EQ(EnrRecord::decode(signRaw(key, 1, {{"id", Bytes{'v', '4'}}})).error(), EnrError::MissingPublicKey);
  EXPECT_EQ(EnrRecord::decode(signRaw(key, 1, {{"id", Bytes{'v', '4'}}, {"secp256k1", Bytes(33, 9)}})).error(),
            EnrError::BadPublicKey);
}

TEST(EnrRecord, ShapeErrors) {
  Bytes notList;
  encodeString(notList, asBytes("hello"));
  EXPECT_EQ(EnrRecord::decode(notList).error(), EnrError::NotAList);
  Bytes onlySig;
  Bytes payload;
  encodeString(payload, Bytes(64, 1));
  encodeList(onlySig, payload);
  EXPECT_EQ(EnrRecord::decode(onlySig).error(), EnrError::BadShape);
  Bytes oddPayload = payload;
  encodeUint(oddPayload, 1);
  encodeString(oddPayload, asBytes("id"));
  Bytes odd;
  encodeList(odd, oddPayload);
  EXPECT_EQ(EnrRecord::decode(odd).error(), EnrError::BadShape);
  Bytes badSeqPayload = payload;
  badSeqPayload.push_back(0x00);  // seq encoded with a leading zero
  Bytes badSeq;
  encodeList(badSeq, badSeqPayload);
  EXPECT_EQ(EnrRecord::decode(badSeq).error(), EnrError::BadSeq);
  EXPECT_EQ(EnrRecord::decode(Bytes{0xc1}).error(), EnrError::MalformedRlp);
}

TEST(EnrRecord, BuilderRefusesInvalidRawValue) {
  EXPECT_EQ(EnrBuilder().setRaw("x", Bytes{0x81, 0x05}).sign(eipKey()).error(), EnrError::InvalidValue);
  Bytes list;
  encodeList(list, Bytes{0x01, 0x02});
  auto rec = EnrBuilder().setRaw("eth", list).sign(eipKey());
  ASSERT_TRUE(rec.ok());
  EXPECT_FALSE(rec->bytes("eth").has_value()) << "a list is not a byte string";
  EXPECT_EQ(toHex(*rec->rawValue("eth")), "c20102");
}

// Untrusted bytes never crash the decoder: deterministic mutations of a valid record (bit flips,
// byte changes, truncations, insertions) must each give a record or an error.
TEST(EnrRecord, MutatedInputNeverCrashes) {
  const Bytes valid = EnrRecord::fromText(kEipRecord)->encoded();
  std::mt19937 rng(778);
  size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes b = valid;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      const size_t pos = rng() % b.size();
      switch (rng() % 4) {
        case 0: b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: b[pos] = static_cast<uint8_t>(rng()); break;
        case 2: b.resize(pos); break;
        default: b.insert(b.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<uint8_t>(rng())); break;
      }
    }
    auto r = EnrRecord::decode(b);
    if (r.ok()) {
      ++accepted;
      EXPECT_EQ(r->encoded(), b);
    }
  }
  EXPECT_LT(accepted, 10u) << "a mutated record should almost never still verify";
}

TEST(NatType, FormatParse) {
  NatType t{NatMapping::AddressAndPortDependent, NatFiltering::AddressDependent};
  EXPECT_EQ(formatNatType(t), "apdm/adf");
  EXPECT_EQ(parseNatType("apdm/adf"), t);
  EXPECT_FALSE(parseNatType("eim").has_value());
  EXPECT_FALSE(parseNatType("eim/xyz").has_value());
}

TEST(Base64Url, RoundTripAndStrictness) {
  for (size_t n = 0; n < 40; ++n) {
    Bytes data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 37 + 250);
    auto text = base64UrlEncode(data);
    EXPECT_EQ(text.find('='), std::string::npos);
    EXPECT_EQ(base64UrlDecode(text), data);
  }
  EXPECT_FALSE(base64UrlDecode("A").has_value());
  EXPECT_FALSE(base64UrlDecode("AB").has_value()) << "stray low bits";
  EXPECT_TRUE(base64UrlDecode("AA").has_value());
  EXPECT_FALSE(base64UrlDecode("AA==").has_value());
}

}  // namespace
}  // namespace rdv::enr
