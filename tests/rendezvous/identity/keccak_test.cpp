#include "rendezvous/identity/keccak.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>

namespace rdv::identity {
namespace {

std::string hexOf(const Hash256& h) { return toHex(h); }

TEST(Keccak256, PublishedVectors) {
  EXPECT_EQ(hexOf(keccak256(asBytes(""))), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  EXPECT_EQ(hexOf(keccak256(asBytes("abc"))), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  EXPECT_EQ(hexOf(keccak256(asBytes("The quick brown fox jumps over the lazy dog"))),
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
  // Solidity event signature: a widely published value.
  EXPECT_EQ(hexOf(keccak256(asBytes("Transfer(address,address,uint256)"))),
            "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
}

TEST(Keccak256, IsNotSha3) {
  // SHA3-256("") differs: a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a.
  EXPECT_NE(hexOf(keccak256(asBytes(""))), "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
}

// An empty span (which may carry a null pointer: the hub_frames fuzzer found it through an empty topic
// body) between other updates changes nothing and reads nothing.
TEST(Keccak256, EmptyUpdatesAreNoOps) {
  Keccak256 h;
  h.update(ByteSpan{});
  h.update(asBytes("a"));
  h.update(ByteSpan(static_cast<const uint8_t*>(nullptr), size_t{0}));
  h.update(asBytes("bc"));
  EXPECT_EQ(hexOf(h.finish()), hexOf(keccak256(asBytes("abc"))));
}

Hash256 opensslSha3(ByteSpan data) {
  Hash256 out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha3_256(), nullptr);
  return out;
}

// Multi-block inputs: the sponge with SHA3 padding must match OpenSSL's SHA3-256 at every length
// around the 136-byte rate boundaries, whether fed at once or in pieces.
TEST(Keccak256, SpongeMatchesOpensslSha3AcrossBlockBoundaries) {
  Bytes data(700);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  for (size_t len = 0; len <= data.size(); ++len) {
    const ByteSpan in(data.data(), len);
    auto whole = Keccak256::sha3Variant();
    whole.update(in);
    ASSERT_EQ(whole.finish(), opensslSha3(in)) << "length " << len;
    auto pieces = Keccak256::sha3Variant();
    for (size_t pos = 0; pos < len; pos += 13) pieces.update(in.subspan(pos, std::min<size_t>(13, len - pos)));
    ASSERT_EQ(pieces.finish(), opensslSha3(in)) << "length " << len;
  }
}

TEST(Keccak256, IncrementalEqualsOneShot) {
  Bytes data(1000, 0xa3);
  Keccak256 k;
  k.update(ByteSpan(data).first(1));
  k.update(ByteSpan(data).subspan(1, 135));
  k.update(ByteSpan(data).subspan(136, 300));
  k.update(ByteSpan(data).subspan(436));
  EXPECT_EQ(k.finish(), keccak256(data));
}

}  // namespace
}  // namespace rdv::identity
