// Which peer addresses the relay may talk to (DESIGN principle 6). Pure data and pure functions.
//
// Decision order for a peer address (first match wins):
//   1. an operator `deny CIDR` entry                        -> DeniedByOperator
//   2. an operator `allow CIDR` entry                       -> Allowed
//   3. one of the node's own addresses, outside the relay
//      port range                                           -> DeniedOwnAddress
//   4. a default special-purpose range (IANA, listed below)  -> DeniedSpecialPurpose
//   5. anything else                                        -> Allowed
// Every rule is matched against the address as given AND against the IPv4 address embedded in an
// IPv4-mapped (::ffff:0:0/96), NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address, so `deny 10.0.0.0/8`
// also denies ::ffff:10.0.0.1, 64:ff9b::10.0.0.1 and 2002:0a00:0001::. Since 64:ff9b::/96 and 2002::/16
// are themselves default-denied, NAT64 and 6to4 peers are refused unless the operator allows them (or
// their embedded IPv4 address). The node's own addresses are allowed on relay ports so that two
// allocations on the same node can reach each other.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "relay/types.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/result.h"

namespace rdv::relay {

struct Cidr {
  IpAddress base;  // host bits are zero
  uint8_t prefix = 0;

  bool contains(const IpAddress& ip) const;
  std::string toString() const;
  bool operator==(const Cidr&) const = default;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Errors are human-readable:
// "bad address 'x' in 'x/8'", "prefix 33 out of range 0-32 in '1.2.3.4/33'", "host bits set in
// '10.0.0.1/8' (did you mean 10.0.0.0/8?)".
Result<Cidr, std::string> parseCidr(std::string_view text);

// The IPv4 address embedded in an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address.
std::optional<IpAddress> embeddedIpv4(const IpAddress& ip);

// The default deny list of DESIGN principle 6 (IANA special-purpose registries).
std::span<const Cidr> defaultDeniedRanges();

struct PortRange {
  uint16_t min = 49152;
  uint16_t max = 65535;
  bool contains(uint16_t p) const { return p >= min && p <= max; }
  uint32_t size() const { return max >= min ? uint32_t{max} - min + 1 : 0; }
};

enum class PolicyVerdict : uint8_t { Allowed, DeniedByOperator, DeniedOwnAddress, DeniedSpecialPurpose };
std::string_view toString(PolicyVerdict v);

class PeerPolicy {
 public:
  PeerPolicy() = default;
  PeerPolicy(std::vector<Cidr> allow, std::vector<Cidr> deny, std::vector<IpAddress> ownAddresses,
             PortRange relayPorts);

  // A full peer transport address (Send, ChannelData, ChannelBind, data arriving from a peer).
  PolicyVerdict check(const Endpoint& peer) const;
  // An address without a port (CreatePermission, RFC 8656 §9: permissions ignore the port). The node's
  // own addresses pass here; check() then limits them to the relay port range.
  PolicyVerdict checkAddress(const IpAddress& peer) const;

  const std::vector<Cidr>& allowed() const { return allow_; }
  const std::vector<Cidr>& denied() const { return deny_; }

 private:
  PolicyVerdict decide(const IpAddress& ip, std::optional<uint16_t> port) const;
  bool isOwnAddress(const IpAddress& ip) const;

  std::vector<Cidr> allow_;
  std::vector<Cidr> deny_;
  std::vector<IpAddress> own_;
  PortRange relayPorts_;
};

}  // namespace rdv::relay
