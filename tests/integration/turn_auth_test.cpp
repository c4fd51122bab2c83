// TURN authentication at the real rendezvousd over UDP: an Allocate whose MESSAGE-INTEGRITY-SHA256 is wrong,
// truncated or garbage gets 401 and no allocation; the same request with the right MAC is allocated, so
// the 401s are the MAC's doing (the relay-level counterpart of tests/relay/allocate_test.cpp).
#include <gtest/gtest.h>

#include <utility>

#include "stun/integrity.h"
#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

constexpr char kUser[] = "alice";
constexpr char kPassword[] = "wonderland";

stun::TransactionId tid(uint8_t n) {
  stun::TransactionId t;
  for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<uint8_t>(0xa0 + i + 16 * n);
  return t;
}

// One request, one answer (the node answers on the socket's 5-tuple); nullopt on timeout.
std::optional<Bytes> exchange(UdpSocket& s, const Endpoint& server, const Bytes& request) {
  if (!s.sendTo(server, request)) return std::nullopt;
  return s.receive(std::chrono::milliseconds(5000));
}

uint16_t errorOf(const std::optional<Bytes>& reply) {
  if (!reply) return 0;
  auto m = stun::MessageView::parse(*reply);
  if (!m) return 0;
  auto e = m->errorCode();
  return e ? e->code : 0;
}

TEST(TurnAuth, BadMessageIntegritySha256Gets401AtTheDaemon) {
  Node node({"--listen", "127.0.0.1:0", "--user", std::string(kUser) + ":" + kPassword});
  ASSERT_TRUE(node.started()) << node.log();
  const Endpoint server(*IpAddress::parse("127.0.0.1"), node.udpPort());
  UdpSocket s;
  ASSERT_TRUE(s.ok());

  stun::MessageBuilder first(stun::Method::Allocate, stun::Class::Request, tid(0));
  first.addRequestedTransport(stun::kTransportUdp);
  const auto challenge = exchange(s, server, std::move(first).finish());
  ASSERT_EQ(errorOf(challenge), 401);
  const auto c = *stun::MessageView::parse(*challenge);
  const std::string realm(c.string(stun::attr::Realm).value_or(""));
  const std::string nonce(c.string(stun::attr::Nonce).value_or(""));
  ASSERT_FALSE(nonce.empty());
  const auto offered = c.passwordAlgorithms();
  const bool negotiate = !offered.empty();
  const auto alg = negotiate ? stun::PasswordAlgorithm::Sha256 : stun::PasswordAlgorithm::Md5;
  const Bytes key = stun::longTermKey(kUser, realm, kPassword, alg);

  // The request; `mac` empty means "compute the right one".
  const auto allocate = [&](uint8_t n, const Bytes& mac) {
    stun::MessageBuilder b(stun::Method::Allocate, stun::Class::Request, tid(n));
    b.addRequestedTransport(stun::kTransportUdp);
    b.addString(stun::attr::Username, kUser).addString(stun::attr::Realm, realm).addString(stun::attr::Nonce, nonce);
    if (negotiate) b.addPasswordAlgorithms(offered).addPasswordAlgorithm(alg);
    if (mac.empty()) {
      b.addMessageIntegritySha256(key);
    } else {
      b.add(stun::attr::MessageIntegritySha256, mac);
    }
    return std::move(b).finish();
  };
  Bytes wrong = allocate(1, {});
  ASSERT_EQ(stun::verifyMessageIntegritySha256(*stun::MessageView::parse(wrong), key), stun::IntegrityCheck::Ok);
  wrong[wrong.size() - 1] ^= 0x80;  // the MAC is the last attribute (no FINGERPRINT): one bit of it off
  const Bytes right = allocate(4, {});
  const Bytes truncated = allocate(2, Bytes(right.end() - 32, right.end() - 20));  // 12 bytes of the right MAC
  Bytes junk(32);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(0x3c ^ (i * 29));
  const Bytes garbage = allocate(3, junk);

  for (const auto& [name, request] : {std::pair{"wrong", wrong}, {"truncated", truncated}, {"garbage", garbage}}) {
    const auto reply = exchange(s, server, request);
    ASSERT_TRUE(reply.has_value()) << name << ": no answer";
    EXPECT_EQ(errorOf(reply), 401) << name;
  }
  const auto ok = exchange(s, server, right);
  ASSERT_TRUE(ok.has_value());
  const auto m = stun::MessageView::parse(*ok);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->cls(), stun::Class::Success) << "error " << errorOf(ok) << "\n" << node.log();
}

}  // namespace
}  // namespace rdv::test
