// Ethereum account addresses of our secp256k1 identities: the last 20 bytes of keccak256(x || y),
// which are the last 20 bytes of the node id (node_id.h hashes the same 64 bytes). Written with the
// EIP-55 mixed-case checksum; parse() takes a 0x address from a user (all lower or all upper case, or
// mixed case that must carry a correct checksum, as EIP-55 asks).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rendezvous/identity/node_id.h"
#include "rendezvous/identity/public_key.h"

namespace rdv::identity {

struct EthAddress {
  std::array<uint8_t, 20> bytes{};

  static EthAddress ofNodeId(const NodeId& id);
  static EthAddress ofKey(const PublicKey& key) { return ofNodeId(key.nodeId()); }
  // "0x" and 40 hex digits. A mixed-case address whose checksum is wrong is refused (a typo).
  static std::optional<EthAddress> parse(std::string_view text);
  // True when `text` looks like an address at all ("0x" and 40 characters): a caller that takes a
  // node id or an address tells them apart with this, then reports parse()'s refusal as such.
  static bool looksLikeAddress(std::string_view text);

  std::string lowerHex() const;  // "0x" + 40 lower-case digits
  std::string checksummed() const;  // EIP-55

  bool matches(const NodeId& id) const { return ofNodeId(id) == *this; }
  bool operator==(const EthAddress&) const = default;
};

}  // namespace rdv::identity
