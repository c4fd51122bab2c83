// Credentials, stateless nonces and the bounded 401 rate limiter, as units.
#include <gtest/gtest.h>

#include "relay/credentials.h"
#include "relay/nonce.h"
#include "relay/rate_limiter.h"
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

TEST(Credentials, RestUsernameParsing) {
  EXPECT_EQ(parseRestUsername("1700000000:alice")->expiry, 1700000000);
  EXPECT_EQ(parseRestUsername("1700000000:alice")->id, "alice");
  EXPECT_EQ(parseRestUsername("1700000000:a:b")->id, "a:b");
  EXPECT_EQ(parseRestUsername("1700000000")->id, "");
  EXPECT_FALSE(parseRestUsername("alice"));
  EXPECT_FALSE(parseRestUsername(":alice"));
  EXPECT_FALSE(parseRestUsername("17x:alice"));
  EXPECT_FALSE(parseRestUsername("-5:alice"));
  EXPECT_FALSE(parseRestUsername("99999999999999999999999:a"));
  EXPECT_EQ(identityOf("1700000000:node-1", true), "node-1");
  EXPECT_EQ(identityOf("1700000000", true), "1700000000");
  EXPECT_EQ(identityOf("1700000000:node-1", false), "1700000000:node-1");
}

TEST(Credentials, RestPasswordMatchesCoturnFormula) {
  // base64(HMAC-SHA1("north", "1433895918:user")), computed independently with
  // `printf %s 1433895918:user | openssl dgst -sha1 -hmac north -binary | base64`.
  EXPECT_EQ(restPassword("north", "1433895918:user"), "/gk4t5tUc08OpM3NjrVjHSFVNmY=");
  EXPECT_EQ(base64Encode(asBytes("")), "");
  EXPECT_EQ(base64Encode(asBytes("f")), "Zg==");
  EXPECT_EQ(base64Encode(asBytes("foobar")), "Zm9vYmFy");
}

TEST(Credentials, StaticUsersTakePrecedenceAndSecretsAreTriedInOrder) {
  Config c = baseConfig();
  c.users.push_back({"1800000000:x", "static"});
  const CredentialStore store(c);
  const auto staticUser = store.lookup("1800000000:x", 1'700'000'000);
  ASSERT_EQ(staticUser.status, LookupStatus::Found);
  EXPECT_EQ(staticUser.passwords, std::vector<std::string>{"static"});
  const auto rest = store.lookup("1800000000:y", 1'700'000'000);
  ASSERT_EQ(rest.status, LookupStatus::Found);
  EXPECT_EQ(rest.passwords, (std::vector<std::string>{restPassword("new-secret", "1800000000:y"),
                                                      restPassword("old-secret", "1800000000:y")}));
  EXPECT_EQ(rest.identity, "y");
  EXPECT_EQ(store.lookup("1600000000:y", 1'700'000'000).status, LookupStatus::Expired);
  EXPECT_EQ(store.lookup("carol", 1'700'000'000).status, LookupStatus::Unknown);
  c.authSecrets.clear();
  EXPECT_EQ(CredentialStore(c).lookup("1800000000:y", 1'700'000'000).status, LookupStatus::Unknown);
}

// coturn's key form of a static user (users-file "NAME:0xHEX"): the MD5 long-term key, no password.
TEST(Credentials, StaticUserGivenByItsMd5KeyAuthenticatesWithMd5Only) {
  Config cfg = baseConfig();
  StaticUser carol{"carol", "", stun::longTermKey("carol", "example.org", "carol-pw", stun::PasswordAlgorithm::Md5)};
  cfg.users.push_back(carol);
  EXPECT_TRUE(validate(cfg).empty());
  Harness h(cfg);
  TurnClient md5(h, udpTuple("198.51.100.7:40000"), "carol", "carol-pw");
  ASSERT_TRUE(isSuccess(md5.allocate()));
  EXPECT_EQ(h.server->findAllocation(md5.tuple)->quotaClass(), "unlimited");  // a static user
  TurnClient wrong(h, udpTuple("198.51.100.7:40001"), "carol", "not-carols-pw");
  EXPECT_EQ(errorOf(wrong.allocate()), 401);
  // SHA-256 needs the password, which the node does not have: 401.
  TurnClient sha(h, udpTuple("198.51.100.7:40002"), "carol", "carol-pw");
  sha.negotiate = true;
  sha.alg = stun::PasswordAlgorithm::Sha256;
  EXPECT_EQ(errorOf(sha.allocate()), 401);
  StaticUser nothing{"dave", "", Bytes(3, 1)};
  cfg.users.push_back(nothing);
  EXPECT_EQ(validate(cfg).size(), 1u);
}

TEST(Nonce, RoundTripStaleAndForeign) {
  const NonceCodec codec(Bytes(32, 1), Seconds(600));
  const IpAddress client = ip("198.51.100.7");
  const std::string n = codec.make(client, 1'700'000'000);
  EXPECT_EQ(n.substr(0, 13), "obMatJos2gAAA");
  EXPECT_LT(n.size(), 128u);  // RFC 8489 §14.10
  EXPECT_EQ(codec.check(n, client, 1'700'000'000), NonceCheck::Valid);
  EXPECT_EQ(codec.check(n, client, 1'700'000'600), NonceCheck::Valid);
  EXPECT_EQ(codec.check(n, client, 1'700'000'601), NonceCheck::Stale);
  EXPECT_EQ(codec.check(n, ip("198.51.100.8"), 1'700'000'000), NonceCheck::Invalid);
  EXPECT_EQ(codec.check(n, client, 1'699'999'000), NonceCheck::Invalid);  // from the future
  const NonceCodec otherKey(Bytes(32, 2), Seconds(600));
  EXPECT_EQ(otherKey.check(n, client, 1'700'000'000), NonceCheck::Invalid);
  std::string tampered = n;
  tampered[20] = tampered[20] == '0' ? '1' : '0';  // move the timestamp
  EXPECT_EQ(codec.check(tampered, client, 1'700'000'000), NonceCheck::Invalid);
  EXPECT_EQ(codec.check("", client, 1'700'000'000), NonceCheck::Invalid);
  EXPECT_EQ(codec.check(n.substr(0, n.size() - 1), client, 1'700'000'000), NonceCheck::Invalid);
}

}  // namespace
}  // namespace rdv::relay::test

namespace rdv::relay::test {
namespace {

TEST(Config, TestConfigIsValidAndProblemsAreNamed) {
  EXPECT_TRUE(validate(baseConfig()).empty());
  Config c = baseConfig();
  c.users.clear();
  c.authSecrets.clear();
  c.nonceKey.clear();
  c.relayV4.reset();
  c.relayV6.reset();
  c.relayPorts = PortRange{60000, 50000};
  c.maxLifetime = Seconds(60);
  const auto errors = validate(c);
  EXPECT_EQ(errors.size(), 5u);
  for (const auto& e : errors) EXPECT_FALSE(e.empty());
}

}  // namespace
}  // namespace rdv::relay::test
