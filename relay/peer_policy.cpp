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

EmbeddedIpv4 embeddedIpv4s(const IpAddress& ip) {
  EmbeddedIpv4 out;
  if (ip.isV4()) return out;
  const uint8_t* b = ip.data();
  auto add = [&](uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3) {
    out.addresses[out.count++] = IpAddress::v4(std::array<uint8_t, 4>{a0, a1, a2, a3});
  };
  auto zeros = [&](int from, int to) { return std::all_of(b + from, b + to, [](uint8_t x) { return x == 0; }); };
  // The last 32 bits: ::ffff:a.b.c.d (mapped, RFC 4291 §2.5.5.2), ::a.b.c.d (compatible, §2.5.5.1),
  // ::ffff:0:a.b.c.d (SIIT, RFC 6145 / RFC 2765 §2.1), 64:ff9b::a.b.c.d (NAT64, RFC 6052 §2.1).
  static constexpr uint8_t kNat64[12] = {0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};
  const bool mapped = zeros(0, 10) && b[10] == 0xFF && b[11] == 0xFF;
  const bool compatible = zeros(0, 12);
  const bool siit = zeros(0, 8) && b[8] == 0xFF && b[9] == 0xFF && b[10] == 0 && b[11] == 0;
  if (mapped || compatible || siit || std::equal(b, b + 12, kNat64)) {
    add(b[12], b[13], b[14], b[15]);
    return out;
  }
  // 64:ff9b:1::/48, local-use NAT64 (RFC 8215) with the RFC 6052 /48 layout: v4 in bits 48-63 and 72-87
  // (bits 64-71, "u", are zero).
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4] == 0x00 && b[5] == 0x01) {
    add(b[6], b[7], b[9], b[10]);
    return out;
  }
  // 2002:AABB:CCDD::/48 (6to4, RFC 3056 §2): bits 16-47.
  if (b[0] == 0x20 && b[1] == 0x02) {
    add(b[2], b[3], b[4], b[5]);
    return out;
  }
  // 2001:0000:SSSS:SSSS:flags:port:CCCC:CCCC (Teredo, RFC 4380 §4): the server in bits 32-63, the
  // client's mapped address obfuscated (inverted) in bits 96-127.
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) {
    add(b[4], b[5], b[6], b[7]);
    add(static_cast<uint8_t>(~b[12]), static_cast<uint8_t>(~b[13]), static_cast<uint8_t>(~b[14]),
        static_cast<uint8_t>(~b[15]));
  }
  return out;
}

std::optional<IpAddress> embeddedIpv4(const IpAddress& ip) {
  const EmbeddedIpv4 e = embeddedIpv4s(ip);
  if (e.count == 0) return std::nullopt;
  return e.addresses[0];
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
             "2002::/16", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"}) {
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
                       std::vector<IpAddress> relayAddresses)
    : allow_(std::move(allow)), deny_(std::move(deny)), own_(std::move(ownAddresses)), relay_(std::move(relayAddresses)) {}

PolicyVerdict PeerPolicy::check(const Endpoint& peer, const LiveRelayPorts* live) const {
  return decide(peer.ip(), peer.port(), live);
}

PolicyVerdict PeerPolicy::checkAddress(const IpAddress& peer) const { return decide(peer, std::nullopt, nullptr); }

PolicyVerdict PeerPolicy::decide(const IpAddress& ip, std::optional<uint16_t> port, const LiveRelayPorts* live) const {
  const EmbeddedIpv4 v4 = embeddedIpv4s(ip);
  // Deny-like rules: the address or any embedded IPv4 address. Allow: the address, or every embedded one.
  auto any = [&](auto&& pred) { return pred(ip) || std::any_of(v4.begin(), v4.end(), pred); };
  auto inAny = [&](const std::vector<Cidr>& list) {
    return any([&](const IpAddress& a) { return std::any_of(list.begin(), list.end(), [&](const Cidr& c) { return c.contains(a); }); });
  };
  auto allowed = [&](const Cidr& c) {
    return c.contains(ip) || (v4.count > 0 && std::all_of(v4.begin(), v4.end(), [&](const IpAddress& a) { return c.contains(a); }));
  };
  auto listed = [](const std::vector<IpAddress>& list) {
    return [&list](const IpAddress& a) { return std::find(list.begin(), list.end(), a) != list.end(); };
  };

  // 1, 2: the operator's lists.
  if (inAny(deny_)) return PolicyVerdict::DeniedByOperator;
  if (std::any_of(allow_.begin(), allow_.end(), allowed)) return PolicyVerdict::Allowed;
  // 3: one of the node's relay sockets of a live allocation. The address the datagram really goes to is
  // the plain one, or the one embedded form the kernel or a translator delivers to (mapped, NAT64, ...).
  const IpAddress& target = v4.count == 1 ? v4.addresses[0] : ip;
  const bool relayAddress = listed(relay_)(target);
  if (port && live && relayAddress && live->contains(RelayPort{target.family(), *port})) return PolicyVerdict::Allowed;
  // Without a port (a permission), a relay address passes: every datagram's port is checked above.
  if (!port && relayAddress) return PolicyVerdict::Allowed;
  // 4: the special-purpose registries.
  const auto ranges = defaultDeniedRanges();
  if (any([&](const IpAddress& a) { return std::any_of(ranges.begin(), ranges.end(), [&](const Cidr& c) { return c.contains(a); }); }))
    return PolicyVerdict::DeniedSpecialPurpose;
  // 5: the rest of the node's own addresses.
  if (any(listed(own_)) || any(listed(relay_))) return PolicyVerdict::DeniedOwnAddress;
  return PolicyVerdict::Allowed;
}

}  // namespace rdv::relay
