#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "rendezvous/identity/private_key.h"
#include "rendezvous/identity/public_key.h"

namespace rdv::identity {
namespace {

constexpr const char* kEipKey = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";

std::string tempPath(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / ("rdv-keys-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::filesystem::remove(p);
  return p.string();
}

TEST(PrivateKey, EipKeyGivesEipNodeIdAndPublicKey) {
  auto key = PrivateKey::fromHex(kEipKey);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(toHex(key->publicKey().compressed()),
            "03ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138");
  EXPECT_EQ(key->nodeId().hex(), "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7");
  EXPECT_EQ(key->hex(), kEipKey);
}

TEST(PrivateKey, RefusesInvalidSecrets) {
  EXPECT_FALSE(PrivateKey::fromBytes(Bytes(32, 0)).ok());
  EXPECT_FALSE(PrivateKey::fromBytes(Bytes(31, 1)).ok());
  EXPECT_FALSE(PrivateKey::fromBytes(Bytes(32, 0xff)).ok());  // above the group order
  EXPECT_FALSE(PrivateKey::fromHex("zz").ok());
  EXPECT_FALSE(PrivateKey::fromHex(std::string(63, 'a')).ok());
}

TEST(PrivateKey, GenerateSaveLoadRoundTripWithMode0600) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  const auto path = tempPath("node.key");
  ASSERT_TRUE(key->save(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = PrivateKey::load(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->nodeId(), key->nodeId());
  EXPECT_FALSE(key->save(path).ok()) << "must not overwrite an existing key file";
  EXPECT_FALSE(PrivateKey::load(path + ".missing").ok());
  const auto badPath = tempPath("bad.key");
  std::ofstream(badPath) << "not a key\n";
  EXPECT_EQ(PrivateKey::load(badPath).error(), IdentityError::FileFormat);
}

TEST(PublicKey, CompressDecompressRoundTrip) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  auto compressed = key->publicKey().compressed();
  auto uncompressed = key->publicKey().uncompressed();
  EXPECT_EQ(uncompressed[0], 0x04);
  auto fromCompressed = PublicKey::parse(compressed);
  auto fromUncompressed = PublicKey::parse(uncompressed);
  ASSERT_TRUE(fromCompressed.ok());
  ASSERT_TRUE(fromUncompressed.ok());
  EXPECT_EQ(fromCompressed->uncompressed(), uncompressed);
  EXPECT_EQ(fromUncompressed->compressed(), compressed);
  compressed[0] = 0x05;
  EXPECT_FALSE(PublicKey::parse(compressed).ok());
  EXPECT_FALSE(PublicKey::parse(Bytes(32, 2)).ok());
}

TEST(Signature, SignVerifyAndTamper) {
  auto key = PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  const auto digest = keccak256(asBytes("hello"));
  auto sig = key->sign(digest);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->publicKey().verify(digest, *sig));
  EXPECT_EQ(*key->sign(digest), *sig) << "RFC 6979: deterministic";
  EXPECT_FALSE(key->publicKey().verify(keccak256(asBytes("hellO")), *sig));
  auto other = PrivateKey::generate();
  EXPECT_FALSE(other->publicKey().verify(digest, *sig));
  auto bad = *sig;
  bad[10] ^= 1;
  EXPECT_FALSE(key->publicKey().verify(digest, bad));
  EXPECT_FALSE(key->publicKey().verify(digest, ByteSpan(*sig).first(63)));
}

TEST(Signature, HighSIsRefused) {
  auto key = PrivateKey::fromHex(kEipKey);
  const auto digest = keccak256(asBytes("malleable"));
  auto sig = *key->sign(digest);
  // s' = n - s is the malleated twin of a valid signature.
  const Bytes order = [] {
    Bytes n;
    fromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", n);
    return n;
  }();
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int v = order[i] - sig[32 + i] - borrow;
    borrow = v < 0;
    sig[32 + i] = static_cast<uint8_t>(v + (borrow ? 256 : 0));
  }
  auto r = key->publicKey().check(digest, sig);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), IdentityError::InvalidSignature);
}

TEST(Signature, RecoverableSignRecover) {
  auto key = PrivateKey::generate();
  const auto digest = keccak256(asBytes("envelope"));
  auto sig = key->signRecoverable(digest);
  ASSERT_TRUE(sig.ok());
  EXPECT_LE((*sig)[64], 3);
  auto recovered = PublicKey::recover(digest, *sig);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->nodeId(), key->nodeId());
  // The first 64 bytes are a plain signature too.
  EXPECT_TRUE(key->publicKey().verify(digest, ByteSpan(*sig).first(64)));
  auto wrong = *sig;
  wrong[64] = 7;
  EXPECT_FALSE(PublicKey::recover(digest, wrong).ok());
  auto other = PublicKey::recover(keccak256(asBytes("other")), *sig);
  EXPECT_TRUE(!other.ok() || other->nodeId() != key->nodeId());
}

TEST(Ecdh, BothSidesAgree) {
  auto a = PrivateKey::generate();
  auto b = PrivateKey::generate();
  auto ab = a->ecdh(b->publicKey());
  auto ba = b->ecdh(a->publicKey());
  ASSERT_TRUE(ab.ok());
  ASSERT_TRUE(ba.ok());
  EXPECT_EQ(*ab, *ba);
  auto c = PrivateKey::generate();
  EXPECT_NE(*a->ecdh(c->publicKey()), *ab);
}

TEST(NodeId, HexRoundTrip) {
  auto id = NodeId::fromHex("a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->hex(), "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7");
  EXPECT_FALSE(NodeId::fromHex("a448").has_value());
}

}  // namespace
}  // namespace rdv::identity
