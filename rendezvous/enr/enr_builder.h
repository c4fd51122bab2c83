// Builds and signs "v4" node records. Setting "id" and "secp256k1" is left to sign(), which
// writes them from the signing key. Keys are kept sorted and unique by construction.
//   auto rec = EnrBuilder().setSeq(1).setIp({127, 0, 0, 1}).setUdp(30303).sign(key);
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/private_key.h"

namespace rdv::enr {

class EnrBuilder {
 public:
  EnrBuilder() = default;
  // Starts from an existing record's seq and values (to change a value, then bump the seq).
  static EnrBuilder from(const EnrRecord& record);

  EnrBuilder& setSeq(uint64_t seq);
  uint64_t seq() const { return seq_; }

  // `rlpItem` must be one canonical RLP item (string or list); checked by sign().
  EnrBuilder& setRaw(std::string_view key, ByteSpan rlpItem);
  EnrBuilder& setBytes(std::string_view key, ByteSpan value);
  EnrBuilder& setText(std::string_view key, std::string_view value) { return setBytes(key, asBytes(value)); }
  EnrBuilder& setUint(std::string_view key, uint64_t value);
  EnrBuilder& setIp(const std::array<uint8_t, 4>& ip) { return setBytes("ip", ip); }
  EnrBuilder& setIp6(const std::array<uint8_t, 16>& ip6) { return setBytes("ip6", ip6); }
  EnrBuilder& setTcp(uint16_t port) { return setUint("tcp", port); }
  EnrBuilder& setUdp(uint16_t port) { return setUint("udp", port); }
  EnrBuilder& setTcp6(uint16_t port) { return setUint("tcp6", port); }
  EnrBuilder& setUdp6(uint16_t port) { return setUint("udp6", port); }
  EnrBuilder& remove(std::string_view key);

  // Sets id = "v4" and secp256k1 = the key's compressed public key, signs keccak256(content)
  // and returns the verified record; TooLarge past 300 bytes.
  Result<EnrRecord, EnrError> sign(const identity::PrivateKey& key) const;

 private:
  uint64_t seq_ = 1;
  std::map<std::string, Bytes> values_;  // key -> encoded RLP item; std::string orders as unsigned bytes
};

}  // namespace rdv::enr
