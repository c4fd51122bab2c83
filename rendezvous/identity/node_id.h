// A node's identity on the network: keccak256 of its uncompressed public key (x || y), per the
// EIP-778 "v4" scheme. A distinct type so it cannot be confused with other 32-byte hashes.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "rendezvous/base/bytes.h"

namespace rdv::identity {

struct NodeId {
  std::array<uint8_t, 32> bytes{};

  std::string hex() const { return toHex(bytes); }
  // 64 hex digits, else nullopt.
  static std::optional<NodeId> fromHex(std::string_view hex);
  static std::optional<NodeId> fromBytes(ByteSpan b);

  auto operator<=>(const NodeId&) const = default;
  bool operator==(const NodeId&) const = default;
};

struct NodeIdHash {
  size_t operator()(const NodeId& id) const {
    size_t h;  // the id is a hash already: its first bytes are uniformly distributed
    std::memcpy(&h, id.bytes.data(), sizeof(h));
    return h;
  }
};

}  // namespace rdv::identity
