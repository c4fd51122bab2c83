// The record keys this project defines on top of EIP-778 (see docs/enr-keys.md). Every value is
// one RLP byte string, so records stay readable by any ENR implementation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rdv::enr {

namespace keys {
// A peer's connectivity.
inline constexpr std::string_view kNat = "nat";        // "<mapping>/<filtering>", e.g. "eim/apdf"
inline constexpr std::string_view kDirect = "direct";  // 0x01: accepts direct connections; 0x00 (empty string): not
inline constexpr std::string_view kMailbox = "mbx";    // URL of the node API that holds its mailbox
// A rendezvous node's services.
inline constexpr std::string_view kStun = "stun";  // space-separated RFC 7064 URIs
inline constexpr std::string_view kTurn = "turn";  // space-separated RFC 7065 URIs
inline constexpr std::string_view kApi = "api";    // base URL of the HTTP API
}  // namespace keys

// RFC 4787 behaviours as measured by `rdv nat-type`.
enum class NatMapping { EndpointIndependent, AddressDependent, AddressAndPortDependent };
enum class NatFiltering { EndpointIndependent, AddressDependent, AddressAndPortDependent };

struct NatType {
  NatMapping mapping;
  NatFiltering filtering;
  bool operator==(const NatType&) const = default;
};

// "eim", "adm", "apdm" / "eif", "adf", "apdf", joined by '/'.
std::string formatNatType(const NatType& nat);
std::optional<NatType> parseNatType(std::string_view text);

}  // namespace rdv::enr
