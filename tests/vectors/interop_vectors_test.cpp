// The committed interop vectors (tests/vectors/interop.json, also checked by `npm test` in
// signalling/web) must be exactly what the C++ code computes today, and the C++ decoders must read
// every encoded form in them back. A change to any wire format fails here until the vectors are
// regenerated (rdv-make-interop-vectors) and the JavaScript follows.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/unregister_message.h"
#include "signalling/envelope/envelope_codec.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"
#include "tests/vectors/interop_vectors.h"

namespace rdv::vectors {
namespace {

using Json = nlohmann::json;

Json committed() {
  std::ifstream in(RDV_INTEROP_VECTORS);
  std::stringstream text;
  text << in.rdbuf();
  return Json::parse(text.str(), nullptr, false);
}

class InteropVectors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { file_ = new Json(committed()); }
  static void TearDownTestSuite() { delete file_; }
  static const Json& file() { return *file_; }
  static Json* file_;
};
Json* InteropVectors::file_ = nullptr;

TEST_F(InteropVectors, FileIsReadable) {
  ASSERT_FALSE(file().is_discarded()) << RDV_INTEROP_VECTORS << " is not JSON";
  ASSERT_TRUE(file().is_object());
}

TEST_F(InteropVectors, EverySectionEqualsWhatTheCppComputes) {
  const Json now = interopVectors();
  ASSERT_TRUE(file().is_object());
  for (const auto& [section, value] : now.items()) {
    ASSERT_TRUE(file().contains(section)) << "section " << section << " missing from the committed file";
    EXPECT_EQ(file()[section], value) << "section " << section
                                      << " differs: a wire format changed; regenerate with rdv-make-interop-vectors";
  }
  EXPECT_EQ(file().size(), now.size());
}

TEST_F(InteropVectors, EnrTextsDecodeToTheirNodeIds) {
  for (const auto& c : file()["enr"]["valid"]) {
    auto r = enr::EnrRecord::fromText(c["text"].get<std::string>());
    ASSERT_TRUE(r.ok()) << c["text"];
    EXPECT_EQ(r->nodeId().hex(), c["node_id"]);
    EXPECT_EQ(toHex(r->content()), c["content"]);
  }
  for (const auto& c : file()["enr"]["invalid"]) {
    EXPECT_FALSE(enr::EnrRecord::fromText(c["text"].get<std::string>()).ok()) << c["text"];
  }
}

TEST_F(InteropVectors, EnvelopesVerifyAndOpen) {
  for (const auto& c : file()["envelopes"]) {
    auto e = signalling::fromJsonText(c["json"].get<std::string>());
    ASSERT_TRUE(e.ok());
    Bytes binary;
    ASSERT_TRUE(fromHex(c["binary"].get<std::string>(), binary));
    auto b = signalling::decodeBinary(binary);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*b, *e);
    auto v = signalling::verify(*e);
    ASSERT_TRUE(v.ok());
    auto recipient = *identity::PrivateKey::fromHex(c["recipient_secret"].get<std::string>());
    auto body = signalling::open(*v, recipient);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(std::string(asString(*body)), c["body"].get<std::string>());
  }
}

TEST_F(InteropVectors, HubAuthAnswerIsAccepted) {
  const auto& c = file()["hub_auth"];
  auto frame = signalling::decodeFrame(c["auth_frame"].get<std::string>());
  ASSERT_TRUE(frame.ok());
  const auto& auth = std::get<signalling::AuthFrame>(*frame);
  Bytes nonceBytes;
  ASSERT_TRUE(fromHex(c["nonce"].get<std::string>(), nonceBytes));
  signalling::ChallengeNonce nonce;
  std::copy(nonceBytes.begin(), nonceBytes.end(), nonce.begin());
  auto hub = identity::NodeId::fromHex(c["hub_id"].get<std::string>());
  ASSERT_TRUE(hub.has_value());
  EXPECT_TRUE(signalling::checkChallengeResponse(*hub, nonce, auth.node, auth.signature));
}

// The proofs the node checks (registry_api.cpp): each register signature verifies with the key in its
// own record over the digest rebuilt from the vector's fields; each unregister one with the peer's key.
TEST_F(InteropVectors, RegistrationProofsVerifyWithTheRecordsKey) {
  ASSERT_FALSE(file()["registration"].empty());
  for (const auto& c : file()["registration"]) {
    auto record = enr::EnrRecord::fromText(c["enr"].get<std::string>());
    ASSERT_TRUE(record.ok()) << c["enr"];
    const auto digest = registry::registerDigest(c["namespace"].get<std::string>(), record->encoded(),
                                                 c["ttl"].get<uint64_t>(), c["time"].get<int64_t>());
    EXPECT_EQ(toHex(digest), c["digest"]);
    Bytes signature;
    ASSERT_TRUE(fromHex(c["signature"].get<std::string>(), signature));
    EXPECT_TRUE(record->publicKey().verify(digest, signature));
    // Another namespace or time is another digest: the signature does not carry over.
    EXPECT_FALSE(record->publicKey().verify(
        registry::registerDigest("other", record->encoded(), c["ttl"].get<uint64_t>(), c["time"].get<int64_t>()), signature));
  }
}

TEST_F(InteropVectors, UnregisterProofVerifies) {
  const auto& c = file()["unregister"];
  const auto peer = *identity::PrivateKey::fromHex(c["secret"].get<std::string>());
  auto id = identity::NodeId::fromHex(c["node_id"].get<std::string>());
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(*id, peer.nodeId());
  const auto digest = registry::unregisterDigest(c["namespace"].get<std::string>(), *id, c["seq"].get<uint64_t>(),
                                                 c["time"].get<int64_t>());
  EXPECT_EQ(toHex(digest), c["digest"]);
  Bytes signature;
  ASSERT_TRUE(fromHex(c["signature"].get<std::string>(), signature));
  EXPECT_TRUE(peer.publicKey().verify(digest, signature));
}

TEST_F(InteropVectors, FramesDecode) {
  for (const auto& f : file()["frames"]) EXPECT_TRUE(signalling::decodeFrame(f.get<std::string>()).ok()) << f;
}

}  // namespace
}  // namespace rdv::vectors
