// Peer-address policy: CIDR parsing, mapped-form conversion, the default deny list (DESIGN principle 6).
#include "relay/peer_policy.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace rdv::relay {

namespace {

bool prefixMatches(const uint8_t* a, const uint8_t* b, unsigned bits) {
  const unsigned whole = bits / 8;
  if (!std::equal(a, a + whole, b)) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

IpAddress masked(const IpAddress& ip, unsigned bits) {
  std::array<uint8_t, 16> b{};
  std::copy(ip.data(), ip.data() + ip.size(), b.begin());
  for (unsigned i = 0; i < ip.size(); ++i) {
    const unsigned keep = bits > i * 8 ? std::min(8u, bits - i * 8) : 0u;
    b[i] &= static_cast<uint8_t>(keep == 0 ? 0 : 0xFF << (8 - keep));
  }
  if (ip.isV4()) return IpAddress::v4(std::array<uint8_t, 4>{b[0], b[1], b[2], b[3]});
  return IpAddress::v6(b);
}

Cidr mustParse(std::string_view text) {
  auto r = parseCidr(text);
  return r.ok() ? r.value() : Cidr{};  // the built-in table is tested; this never falls back
}

}  // namespace

bool Cidr::contains(const IpAddress& ip) const {
  return ip.family() == base.family() && prefixMatches(ip.data(), base.data(), prefix);
}

std::string Cidr::toString() const { return base.toString() + "/" + std::to_string(prefix); }

Result<Cidr, std::string> parseCidr(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const auto slash = text.find('/');
  const std::string_view addrText = text.substr(0, slash);
  const auto ip = IpAddress::parse(addrText);
  if (!ip) return unexpected("bad address '" + std::string(addrText) + "' in " + quoted);
  const unsigned maxBits = ip->isV4() ? 32 : 128;
  unsigned bits = maxBits;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), bits);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size()) {
      return unexpected("bad prefix length '" + std::string(p) + "' in " + quoted);
    }
    if (bits > maxBits) {
      return unexpected("prefix " + std::to_string(bits) + " out of range 0-" + std::to_string(maxBits) +
                        " in " + quoted);
    }
  }
  const Cidr c{masked(*ip, bits), static_cast<uint8_t>(bits)};
  if (c.base != *ip) {
    return unexpected("host bits set in " + quoted + " (did you mean " + c.toString() + "?)");
  }
  return c;
}

std::optional<IpAddress> embeddedIpv4(const IpAddress& ip) {
  if (ip.isV4()) return std::nullopt;
  const uint8_t* b = ip.data();
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  static constexpr uint8_t kNat64[12] = {0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
  // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2) and 64:ff9b::a.b.c.d (RFC 6052 §2.1): the last 32 bits.
  if (std::equal(b, b + 12, kMapped) || std::equal(b, b + 12, kNat64)) {
    return IpAddress::v4(std::array<uint8_t, 4>{b[12], b[13], b[14], b[15]});
  }
  // 2002:AABB:CCDD::/48 (RFC 3056 §2): bits 16-47.
  if (b[0] == 0x20 && b[1] == 0x02) return IpAddress::v4(std::array<uint8_t, 4>{b[2], b[3], b[4], b[5]});
  return std::nullopt;
}

std::span<const Cidr> defaultDeniedRanges() {
  static const std::vector<Cidr> kRanges = [] {
    std::vector<Cidr> v;
    for (const char* text : {
             // IPv4 (RFC 6890 and the IANA IPv4 special-purpose registry)
             "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
             "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
             "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
             // IPv6 (IANA IPv6 special-purpose registry)
             "::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
             "2002::/16", "fc00::/7", "fe80::/10", "ff00::/8"}) {
      v.push_back(mustParse(text));
    }
    return v;
  }();
  return kRanges;
}

std::string_view toString(PolicyVerdict v) {
  switch (v) {
    case PolicyVerdict::Allowed: return "allowed";
    case PolicyVerdict::DeniedByOperator: return "denied by operator";
    case PolicyVerdict::DeniedOwnAddress: return "denied: the node's own address";
    case PolicyVerdict::DeniedSpecialPurpose: return "denied: special-purpose range";
  }
  return "?";
}

PeerPolicy::PeerPolicy(std::vector<Cidr> allow, std::vector<Cidr> deny, std::vector<IpAddress> ownAddresses,
                       PortRange relayPorts)
    : allow_(std::move(allow)), deny_(std::move(deny)), own_(std::move(ownAddresses)), relayPorts_(relayPorts) {}

PolicyVerdict PeerPolicy::check(const Endpoint& peer) const { return decide(peer.ip(), peer.port()); }

PolicyVerdict PeerPolicy::checkAddress(const IpAddress& peer) const { return decide(peer, std::nullopt); }

bool PeerPolicy::isOwnAddress(const IpAddress& ip) const {
  return std::find(own_.begin(), own_.end(), ip) != own_.end();
}

PolicyVerdict PeerPolicy::decide(const IpAddress& ip, std::optional<uint16_t> port) const {
  const std::optional<IpAddress> v4 = embeddedIpv4(ip);
  auto matches = [&](const Cidr& c) { return c.contains(ip) || (v4 && c.contains(*v4)); };
  if (std::any_of(deny_.begin(), deny_.end(), matches)) return PolicyVerdict::DeniedByOperator;
  if (std::any_of(allow_.begin(), allow_.end(), matches)) return PolicyVerdict::Allowed;
  if (isOwnAddress(ip) || (v4 && isOwnAddress(*v4))) {
    return !port || relayPorts_.contains(*port) ? PolicyVerdict::Allowed : PolicyVerdict::DeniedOwnAddress;
  }
  const auto ranges = defaultDeniedRanges();
  if (std::any_of(ranges.begin(), ranges.end(), matches)) return PolicyVerdict::DeniedSpecialPurpose;
  return PolicyVerdict::Allowed;
}

}  // namespace rdv::relay
