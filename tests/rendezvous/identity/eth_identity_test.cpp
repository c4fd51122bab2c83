// Ethereum identities: EIP-55 addresses and keystore v3 files, against the published vectors in
// tests/vectors/ethereum (README.md there says where each comes from).
#include <gtest/gtest.h>

#include <cctype>
#include <functional>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/identity/eth_address.h"
#include "rendezvous/identity/keystore.h"

using namespace rdv;
using namespace rdv::identity;

namespace {

// The source tree's tests/vectors/ethereum (RDV_ETH_VECTORS, set by CMake).
std::string vectorPath(const std::string& name) { return std::string(RDV_ETH_VECTORS) + "/" + name; }

std::string readVector(const std::string& name) {
  std::ifstream in(vectorPath(name));
  EXPECT_TRUE(in.good()) << vectorPath(name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr const char* kSecret = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
constexpr const char* kAddress = "0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b";

std::string lowered(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TEST(EthAddress, Eip55PublishedExamples) {
  std::istringstream lines(readVector("eip55.txt"));
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    ++n;
    auto a = EthAddress::parse(line);
    ASSERT_TRUE(a) << line;
    EXPECT_EQ(a->checksummed(), line);
    // All lower case carries no checksum and is accepted; it prints checksummed.
    auto lower = EthAddress::parse(lowered(line));
    ASSERT_TRUE(lower) << line;
    EXPECT_EQ(lower->checksummed(), line);
    EXPECT_EQ(lower->lowerHex(), lowered(line));
  }
  EXPECT_EQ(n, 8);
}

TEST(EthAddress, MixedCaseWithAWrongChecksumIsRefused) {
  std::string good = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
  std::string bad = good;
  bad[3] = 'A';  // one letter's case flipped
  EXPECT_TRUE(EthAddress::parse(good));
  EXPECT_FALSE(EthAddress::parse(bad));
  EXPECT_TRUE(EthAddress::looksLikeAddress(bad));
  EXPECT_FALSE(EthAddress::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"));    // 39 digits
  EXPECT_FALSE(EthAddress::parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00"));   // no 0x
  EXPECT_FALSE(EthAddress::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"));   // not hex
  EXPECT_FALSE(EthAddress::parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA d"));   // space
}

TEST(EthAddress, IsTheTailOfTheNodeId) {
  auto key = PrivateKey::fromHex(kSecret);
  ASSERT_TRUE(key);
  const auto a = EthAddress::ofKey(key->publicKey());
  EXPECT_EQ(a.lowerHex(), kAddress);
  EXPECT_TRUE(a.matches(key->nodeId()));
  auto other = PrivateKey::generate();
  ASSERT_TRUE(other);
  EXPECT_FALSE(a.matches(other->nodeId()));
}

TEST(Keystore, Pbkdf2PublishedVector) {
  auto key = openKeystore(readVector("keystore_pbkdf2.json"), "testpassword");
  ASSERT_TRUE(key) << describe(key.error());
  EXPECT_EQ(key->hex(), kSecret);
  EXPECT_EQ(EthAddress::ofKey(key->publicKey()).lowerHex(), kAddress);
}

// Written by geth (go-ethereum's accounts/keystore/testdata): the light parameters, and p = 16.
TEST(Keystore, ScryptFilesWrittenByGeth) {
  auto light = openKeystore(readVector("keystore_scrypt_geth_light.json"), "");
  ASSERT_TRUE(light) << describe(light.error());
  EXPECT_EQ(EthAddress::ofKey(light->publicKey()).lowerHex(), "0x45dea0fb0bba44f4fcf290bba71fd57d7117cbb8");
  EXPECT_EQ(openKeystore(readVector("keystore_scrypt_geth_light.json"), "bad").error(), KeystoreError::WrongPassword);
  auto aaa = openKeystore(readVector("keystore_scrypt_geth_aaa.json"), "foobar");
  ASSERT_TRUE(aaa) << describe(aaa.error());
  EXPECT_EQ(EthAddress::ofKey(aaa->publicKey()).lowerHex(), "0xf466859ead1932d743d622cb74fc058882e8648a");
}

// The definition's first scrypt vector uses r = 1 with n = 2^18, beyond RFC 7914's n < 2^(16 r):
// refused with the reason, before any work.
TEST(Keystore, ScryptBeyondRfc7914IsRefused) {
  auto key = openKeystore(readVector("keystore_scrypt_wiki.json"), "testpassword");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), KeystoreError::KdfParamsRefused);
}

TEST(Keystore, WrongPasswordIsTheMac) {
  auto key = openKeystore(readVector("keystore_pbkdf2.json"), "testpassword!");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), KeystoreError::WrongPassword);
}

TEST(Keystore, DamagedCiphertextFailsTheMac) {
  std::string text = readVector("keystore_pbkdf2.json");
  const auto at = text.find("5318b4d5");
  ASSERT_NE(at, std::string::npos);
  text[at] = '6';
  auto key = openKeystore(text, "testpassword");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), KeystoreError::WrongPassword);
}

TEST(Keystore, AddressFieldMustAgree) {
  auto doc = nlohmann::json::parse(readVector("keystore_pbkdf2.json"));
  doc["address"] = "008aeeda4d805471df9b2a5b0f38a0c3bcba786b";
  EXPECT_TRUE(openKeystore(doc.dump(), "testpassword"));
  doc["address"] = "008aeeda4d805471df9b2a5b0f38a0c3bcba786c";
  auto key = openKeystore(doc.dump(), "testpassword");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error(), KeystoreError::AddressMismatch);
}

TEST(Keystore, HostileParametersAreRefusedBeforeAnyWork) {
  auto base = nlohmann::json::parse(readVector("keystore_scrypt_geth_aaa.json"));
  struct Case {
    const char* what;
    std::function<void(nlohmann::json&)> edit;
    KeystoreError expected;
  };
  const std::vector<Case> cases = {
      {"n 2^30 (128 GiB)", [](auto& d) { d["crypto"]["kdfparams"]["n"] = 1ull << 30; }, KeystoreError::KdfParamsRefused},
      {"n not a power of two", [](auto& d) { d["crypto"]["kdfparams"]["n"] = 1000; }, KeystoreError::KdfParamsRefused},
      {"p 1000", [](auto& d) { d["crypto"]["kdfparams"]["p"] = 1000; }, KeystoreError::KdfParamsRefused},
      {"dklen 64", [](auto& d) { d["crypto"]["kdfparams"]["dklen"] = 64; }, KeystoreError::KdfParamsRefused},
      {"pbkdf2 2^40 rounds",
       [](auto& d) {
         d["crypto"]["kdf"] = "pbkdf2";
         d["crypto"]["kdfparams"] = {{"c", 1ull << 40}, {"dklen", 32}, {"prf", "hmac-sha256"}, {"salt", "00"}};
       },
       KeystoreError::KdfParamsRefused},
      {"pbkdf2 with sha1", [](auto& d) {
         d["crypto"]["kdf"] = "pbkdf2";
         d["crypto"]["kdfparams"] = {{"c", 2}, {"dklen", 32}, {"prf", "hmac-sha1"}, {"salt", "00"}};
       }, KeystoreError::UnsupportedKdf},
      {"argon2", [](auto& d) { d["crypto"]["kdf"] = "argon2"; }, KeystoreError::UnsupportedKdf},
      {"aes-128-cbc", [](auto& d) { d["crypto"]["cipher"] = "aes-128-cbc"; }, KeystoreError::UnsupportedCipher},
      {"version 2", [](auto& d) { d["version"] = 2; }, KeystoreError::UnsupportedVersion},
      {"short iv", [](auto& d) { d["crypto"]["cipherparams"]["iv"] = "00"; }, KeystoreError::Malformed},
      {"ciphertext not hex", [](auto& d) { d["crypto"]["ciphertext"] = "zz"; }, KeystoreError::Malformed},
      {"no crypto", [](auto& d) { d.erase("crypto"); }, KeystoreError::Malformed},
  };
  for (const auto& c : cases) {
    auto doc = base;
    c.edit(doc);
    auto key = openKeystore(doc.dump(), "testpassword");
    ASSERT_FALSE(key) << c.what;
    EXPECT_EQ(key.error(), c.expected) << c.what << ": " << describe(key.error());
  }
  EXPECT_EQ(openKeystore("[1,2", "x").error(), KeystoreError::NotJson);
  EXPECT_EQ(openKeystore("[]", "x").error(), KeystoreError::NotJson);
}
