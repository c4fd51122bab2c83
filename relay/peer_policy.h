// Which peer addresses the relay may talk to (DESIGN principle 6). Pure data and pure functions.
//
// Decision order for a peer transport address (first match wins):
//   1. an operator `deny-peer` entry                               -> DeniedByOperator
//   2. an operator `allow-peer` entry                              -> Allowed
//   3. the relay socket of a live allocation of this node: one of
//      the node's relay addresses, at a port LiveRelayPorts holds   -> Allowed (relay-to-relay)
//   4. a default special-purpose range (IANA, listed below)        -> DeniedSpecialPurpose
//   5. any other port of one of the node's own addresses (every
//      interface address and every configured one)                 -> DeniedOwnAddress
//   6. anything else                                               -> Allowed
// Rule 3 comes before the special-purpose list because it names exactly one socket of this process (a
// relay socket the engine itself holds for a live allocation), whatever range the node's address is in:
// a node on a private or loopback address still lets two of its allocations reach each other. Any other
// port of the node's addresses is refused by rules 4 and 5: the relay port range overlaps the kernel's
// ephemeral ports, so "every port of the range" would reach whatever local service happens to hold one.
//
// Every rule is matched against the address as given AND against each IPv4 address embedded in it:
// IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, SIIT ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and
// 64:ff9b:1::/48 (RFC 6052 /48 layout), 6to4 2002::/16, Teredo 2001::/32 (server and de-obfuscated
// client). A deny matches when the address or any embedded address matches; an allow only when the
// address itself or every embedded address matches (so `allow-peer 8.8.8.8` does not open a Teredo
// address whose other half is 10.0.0.1). Since the NAT64, 6to4 and Teredo prefixes are themselves
// default-denied, such peers are refused unless the operator allows them.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "relay/live_relays.h"
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

// The IPv4 addresses embedded in an IPv6 address (forms above; none for IPv4 or a plain IPv6 address).
// Teredo gives two (server, client); every other form one.
struct EmbeddedIpv4 {
  std::array<IpAddress, 2> addresses;
  uint8_t count = 0;
  const IpAddress* begin() const { return addresses.data(); }
  const IpAddress* end() const { return addresses.data() + count; }
};
EmbeddedIpv4 embeddedIpv4s(const IpAddress& ip);
// The first of them, if any (the only one for every form but Teredo).
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
  // `ownAddresses`: every address of the host (interface addresses, configured and external ones).
  // `relayAddresses`: where the node's relay sockets are reachable (the relay address of each family and
  // its external address; with a wildcard relay address, every own address of that family).
  PeerPolicy(std::vector<Cidr> allow, std::vector<Cidr> deny, std::vector<IpAddress> ownAddresses,
             std::vector<IpAddress> relayAddresses);

  // A full peer transport address (Send, ChannelData, ChannelBind, data arriving from a peer). `live`:
  // the node's live relay allocations (rule 3); none when omitted.
  PolicyVerdict check(const Endpoint& peer, const LiveRelayPorts* live = nullptr) const;
  // An address without a port (CreatePermission, RFC 8656 §9: permissions ignore the port). The node's
  // relay addresses pass here unless the operator denies them (check() then decides on every datagram,
  // by its port); the node's other own addresses are refused.
  PolicyVerdict checkAddress(const IpAddress& peer) const;

  // The same node (own and relay addresses) with the operator's lists replaced: a reload (SIGHUP).
  PeerPolicy withLists(std::vector<Cidr> allow, std::vector<Cidr> deny) const {
    return PeerPolicy(std::move(allow), std::move(deny), own_, relay_);
  }

  const std::vector<Cidr>& allowed() const { return allow_; }
  const std::vector<Cidr>& denied() const { return deny_; }

 private:
  PolicyVerdict decide(const IpAddress& ip, std::optional<uint16_t> port, const LiveRelayPorts* live) const;

  std::vector<Cidr> allow_;
  std::vector<Cidr> deny_;
  std::vector<IpAddress> own_;
  std::vector<IpAddress> relay_;
};

}  // namespace rdv::relay
