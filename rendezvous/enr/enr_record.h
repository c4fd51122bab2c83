// An EIP-778 Ethereum Node Record under the "v4" identity scheme. An EnrRecord only exists
// verified: decode() checks the RLP, the key order, the 300-byte limit and the signature, so the
// rest of the code never handles an unverified record. Values are kept as their raw RLP items;
// typed getters read the common keys and return nullopt when absent or malformed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rendezvous/enr/enr_error.h"
#include "rendezvous/enr/rlp.h"
#include "rendezvous/identity/node_id.h"
#include "rendezvous/identity/public_key.h"
#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

namespace rdv::enr {

inline constexpr size_t kMaxRecordSize = 300;
inline constexpr std::string_view kTextPrefix = "enr:";

class EnrRecord {
 public:
  struct Entry {
    std::string_view key;
    ByteSpan value;  // the value's whole RLP item (header included)
  };

  // The binary form: RLP list [signature, seq, k, v, ...].
  static Result<EnrRecord, EnrError> decode(ByteSpan rlp);
  // The text form: "enr:" + unpadded URL-safe base64 of the binary form.
  static Result<EnrRecord, EnrError> fromText(std::string_view text);

  const Bytes& encoded() const { return encoded_; }
  std::string toText() const;
  // rlp([seq, k, v, ...]): what the signature covers.
  Bytes content() const;

  uint64_t seq() const { return seq_; }
  const identity::NodeId& nodeId() const { return nodeId_; }
  const identity::PublicKey& publicKey() const { return publicKey_; }
  ByteSpan signature() const { return slice(signature_); }

  std::vector<Entry> entries() const;
  bool has(std::string_view key) const { return rawValue(key).has_value(); }
  std::optional<ByteSpan> rawValue(std::string_view key) const;
  std::optional<ByteSpan> bytes(std::string_view key) const;  // payload of a byte-string value
  std::optional<std::string_view> text(std::string_view key) const;
  std::optional<uint64_t> uint(std::string_view key) const;   // canonical big-endian integer

  std::optional<std::string_view> id() const { return text("id"); }
  std::optional<std::array<uint8_t, 4>> ip() const;
  std::optional<std::array<uint8_t, 16>> ip6() const;
  std::optional<uint16_t> tcp() const { return port("tcp"); }
  std::optional<uint16_t> udp() const { return port("udp"); }
  std::optional<uint16_t> tcp6() const { return port("tcp6"); }
  std::optional<uint16_t> udp6() const { return port("udp6"); }
  std::optional<uint16_t> port(std::string_view key) const;

  bool operator==(const EnrRecord& other) const { return encoded_ == other.encoded_; }

 private:
  struct Range {
    uint16_t offset = 0;
    uint16_t length = 0;
  };
  struct KeyValue {
    Range key;
    Range value;
  };

  EnrRecord(Bytes encoded, uint64_t seq, const identity::PublicKey& key, Range signature,
            std::vector<KeyValue> entries);
  ByteSpan slice(Range r) const { return ByteSpan(encoded_).subspan(r.offset, r.length); }
  std::string_view keyAt(const KeyValue& kv) const { return asString(slice(kv.key)); }

  Bytes encoded_;
  uint64_t seq_;
  identity::PublicKey publicKey_;
  identity::NodeId nodeId_;
  Range signature_;
  std::vector<KeyValue> entries_;  // sorted by key, as in the record
};

}  // namespace rdv::enr
