// Peer-address policy: every default range, every mapped form, operator precedence, CIDR errors.
#include "relay/peer_policy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

// Own addresses: a public v4 and v6 (relay addresses), another interface's public address, loopback.
PeerPolicy defaults() {
  return PeerPolicy({}, {}, {ip("203.0.113.10"), ip("2606:4700::10"), ip("8.8.4.4"), ip("127.0.0.1")},
                    {ip("203.0.113.10"), ip("2606:4700::10")});
}

// One address inside each default range (DESIGN principle 6), and its first and last address.
struct RangeCase {
  const char* cidr;
  const char* inside;
  const char* first;
  const char* last;
};
const RangeCase kV4Ranges[] = {
    {"0.0.0.0/8", "0.1.2.3", "0.0.0.0", "0.255.255.255"},
    {"10.0.0.0/8", "10.20.30.40", "10.0.0.0", "10.255.255.255"},
    {"100.64.0.0/10", "100.100.1.1", "100.64.0.0", "100.127.255.255"},
    {"127.0.0.0/8", "127.0.0.1", "127.0.0.0", "127.255.255.255"},
    {"169.254.0.0/16", "169.254.169.254", "169.254.0.0", "169.254.255.255"},
    {"172.16.0.0/12", "172.20.1.1", "172.16.0.0", "172.31.255.255"},
    {"192.0.0.0/24", "192.0.0.170", "192.0.0.0", "192.0.0.255"},
    {"192.0.2.0/24", "192.0.2.1", "192.0.2.0", "192.0.2.255"},
    {"192.88.99.0/24", "192.88.99.1", "192.88.99.0", "192.88.99.255"},
    {"192.168.0.0/16", "192.168.1.1", "192.168.0.0", "192.168.255.255"},
    {"198.18.0.0/15", "198.19.0.1", "198.18.0.0", "198.19.255.255"},
    {"198.51.100.0/24", "198.51.100.7", "198.51.100.0", "198.51.100.255"},
    {"203.0.113.0/24", "203.0.113.99", "203.0.113.0", "203.0.113.255"},
    {"224.0.0.0/4", "239.255.255.250", "224.0.0.0", "239.255.255.255"},
    {"240.0.0.0/4", "255.255.255.255", "240.0.0.0", "255.255.255.254"},
};
const RangeCase kV6Ranges[] = {
    {"::/128", "::", "::", "::"},
    {"::1/128", "::1", "::1", "::1"},
    {"64:ff9b::/96", "64:ff9b::808:808", "64:ff9b::", "64:ff9b::ffff:ffff"},
    {"64:ff9b:1::/48", "64:ff9b:1:2::3", "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"},
    {"100::/64", "100::1", "100::", "100::ffff:ffff:ffff:ffff"},
    {"2001::/23", "2001:0:4136:e378::1", "2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"2001:db8::/32", "2001:db8::1", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"2002::/16", "2002:808:808::1", "2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"3fff::/20", "3fff:abc::1", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"5f00::/16", "5f00:1::1", "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fc00::/7", "fd12:3456::1", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fe80::/10", "fe80::1", "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fec0::/10", "fec0::1", "fec0::", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"ff00::/8", "ff02::1", "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
};

TEST(PeerPolicy, DefaultListIsExactlyTheDesignList) {
  const auto ranges = defaultDeniedRanges();
  ASSERT_EQ(ranges.size(), std::size(kV4Ranges) + std::size(kV6Ranges));
  size_t i = 0;
  for (const auto& r : kV4Ranges) EXPECT_EQ(ranges[i++].toString(), parseCidr(r.cidr)->toString());
  for (const auto& r : kV6Ranges) EXPECT_EQ(ranges[i++].toString(), parseCidr(r.cidr)->toString());
}

TEST(PeerPolicy, EveryDefaultRangeIsDenied) {
  const PeerPolicy p = defaults();
  for (const auto* table : {std::begin(kV4Ranges), std::begin(kV6Ranges)}) {
    const auto* end = table == std::begin(kV4Ranges) ? std::end(kV4Ranges) : std::end(kV6Ranges);
    for (const RangeCase* r = table; r != end; ++r) {
      for (const char* a : {r->inside, r->first, r->last}) {
        EXPECT_EQ(p.check(Endpoint(ip(a), 3478)), PolicyVerdict::DeniedSpecialPurpose) << r->cidr << " " << a;
        EXPECT_EQ(p.checkAddress(ip(a)), PolicyVerdict::DeniedSpecialPurpose) << r->cidr << " " << a;
      }
    }
  }
}

TEST(PeerPolicy, NeighboursOfRangesAreAllowed) {
  const PeerPolicy p = defaults();
  for (const char* a : {"1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
                        "128.0.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.0", "192.167.255.255",
                        "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255", "8.8.8.8",
                        "2606:4700::1111", "2001:200::1", "2001:db9::1", "2003::1", "fe00::1",
                        "64:ff9a::1", "64:ff9b:2::1", "3ffe:ffff::1", "3fff:1000::1", "5eff::1", "5f01::1",
                        "1::808:808"}) {
    EXPECT_EQ(p.check(Endpoint(ip(a), 1)), PolicyVerdict::Allowed) << a;
  }
}

// Every IPv6 form that embeds an IPv4 address, built from the IPv4 bytes.
std::vector<std::string> embeddedForms(const IpAddress& v4) {
  const uint8_t* b = v4.data();
  char buf[7][96];
  std::snprintf(buf[0], sizeof buf[0], "::ffff:%u.%u.%u.%u", b[0], b[1], b[2], b[3]);       // mapped
  std::snprintf(buf[1], sizeof buf[1], "::%u.%u.%u.%u", b[0], b[1], b[2], b[3]);            // compatible
  std::snprintf(buf[2], sizeof buf[2], "::ffff:0:%u.%u.%u.%u", b[0], b[1], b[2], b[3]);     // SIIT
  std::snprintf(buf[3], sizeof buf[3], "64:ff9b::%u.%u.%u.%u", b[0], b[1], b[2], b[3]);     // NAT64
  std::snprintf(buf[4], sizeof buf[4], "64:ff9b:1:%02x%02x:%02x:%02x00::", b[0], b[1], b[2], b[3]);  // local-use /48
  std::snprintf(buf[5], sizeof buf[5], "2002:%02x%02x:%02x%02x::1", b[0], b[1], b[2], b[3]);  // 6to4
  // Teredo: server 8.8.8.8, the client's address inverted in the last 32 bits.
  std::snprintf(buf[6], sizeof buf[6], "2001:0:808:808::%02x%02x:%02x%02x", 0xFF ^ b[0], 0xFF ^ b[1], 0xFF ^ b[2],
                0xFF ^ b[3]);
  return {buf, buf + 7};
}

TEST(PeerPolicy, EveryEmbeddedFormIsExtracted) {
  const IpAddress v4 = ip("10.1.2.3");
  for (const std::string& form : embeddedForms(v4)) {
    const EmbeddedIpv4 e = embeddedIpv4s(ip(form));
    ASSERT_GE(e.count, 1) << form;
    EXPECT_EQ(e.addresses[e.count - 1], v4) << form;  // Teredo: the client comes second
  }
  EXPECT_EQ(embeddedIpv4s(ip("2001:0:808:808::f5fe:fdfc")).addresses[0], ip("8.8.8.8"));  // Teredo server
  EXPECT_EQ(embeddedIpv4s(ip("2001:0:808:808::f5fe:fdfc")).count, 2);
  EXPECT_EQ(embeddedIpv4(ip("2606:4700::1")), std::nullopt);
  EXPECT_EQ(embeddedIpv4(ip("10.1.2.3")), std::nullopt);
  EXPECT_EQ(embeddedIpv4(ip("64:ff9b:2::1")), std::nullopt);
}

TEST(PeerPolicy, EmbeddedFormsOfEveryIpv4RangeAreDenied) {
  const PeerPolicy p = defaults();
  for (const RangeCase& r : kV4Ranges) {
    for (const char* a : {r.inside, r.first, r.last}) {
      for (const std::string& form : embeddedForms(ip(a))) {
        EXPECT_NE(p.check(Endpoint(ip(form), 1)), PolicyVerdict::Allowed) << r.cidr << " as " << form;
        EXPECT_NE(p.checkAddress(ip(form)), PolicyVerdict::Allowed) << r.cidr << " as " << form;
      }
    }
  }
  // A public IPv4 address in mapped form is allowed; the translation prefixes stay denied by default.
  EXPECT_EQ(p.check(Endpoint(ip("::ffff:1.1.1.1"), 1)), PolicyVerdict::Allowed);
  for (const std::string& form : embeddedForms(ip("1.1.1.1"))) {
    if (form.rfind("::", 0) == 0) continue;  // mapped, compatible, SIIT: the plain IPv4 address
    EXPECT_EQ(p.check(Endpoint(ip(form), 1)), PolicyVerdict::DeniedSpecialPurpose) << form;
  }
}

TEST(PeerPolicy, OwnAddressesInEveryFormAreOwn) {
  const PeerPolicy p = defaults();
  // 8.8.4.4 is an own (interface) address outside every special range: refused in every form.
  EXPECT_EQ(p.check(ep("8.8.4.4:22")), PolicyVerdict::DeniedOwnAddress);
  EXPECT_EQ(p.checkAddress(ip("8.8.4.4")), PolicyVerdict::DeniedOwnAddress);
  for (const char* a : {"::ffff:8.8.4.4", "::8.8.4.4", "::ffff:0:8.8.4.4"}) {
    EXPECT_EQ(p.check(Endpoint(ip(a), 22)), PolicyVerdict::DeniedOwnAddress) << a;
  }
}

TEST(PeerPolicy, OperatorAllowAndDenyPrecedence) {
  const PeerPolicy p({*parseCidr("198.18.0.0/15"), *parseCidr("127.0.0.0/8"), *parseCidr("10.0.0.0/8")},
                     {*parseCidr("10.9.0.0/16"), *parseCidr("8.8.8.8"), *parseCidr("2606:4700::/32")},
                     {ip("127.0.0.1")}, {ip("127.0.0.1")});
  // allow > default deny
  EXPECT_EQ(p.check(ep("198.18.0.5:1")), PolicyVerdict::Allowed);
  EXPECT_EQ(p.check(ep("[::ffff:198.18.0.5]:1")), PolicyVerdict::Allowed);
  EXPECT_EQ(p.check(ep("[64:ff9b::a01:203]:1")), PolicyVerdict::Allowed);  // 10.1.2.3 via NAT64
  // deny > allow
  EXPECT_EQ(p.check(ep("10.9.1.1:1")), PolicyVerdict::DeniedByOperator);
  EXPECT_EQ(p.check(ep("[::ffff:10.9.1.1]:1")), PolicyVerdict::DeniedByOperator);
  EXPECT_EQ(p.check(ep("[2002:a09:101::]:1")), PolicyVerdict::DeniedByOperator);
  EXPECT_EQ(p.check(ep("8.8.8.8:53")), PolicyVerdict::DeniedByOperator);
  EXPECT_EQ(p.check(ep("[2606:4700::1111]:53")), PolicyVerdict::DeniedByOperator);
  // allow > own address: an operator who allows loopback allows the node's loopback ports (coturn tests).
  EXPECT_EQ(p.check(ep("127.0.0.1:3480")), PolicyVerdict::Allowed);
}

TEST(PeerPolicy, OwnAddressesOnlyAtLiveRelayAllocations) {
  const PeerPolicy p = defaults();
  LiveRelayPorts live;
  live.add(RelayPort{Family::V4, 50000});
  live.add(RelayPort{Family::V6, 50050});
  // Live allocations of the node: reachable (relay-to-relay), also in mapped form.
  EXPECT_EQ(p.check(ep("203.0.113.10:50000"), &live), PolicyVerdict::Allowed);
  EXPECT_EQ(p.check(ep("[::ffff:203.0.113.10]:50000"), &live), PolicyVerdict::Allowed);
  EXPECT_EQ(p.check(ep("[2606:4700::10]:50050"), &live), PolicyVerdict::Allowed);
  // Every other port, inside the relay range or not, and every port without the live set: refused.
  EXPECT_EQ(p.check(ep("203.0.113.10:50001"), &live), PolicyVerdict::DeniedSpecialPurpose);  // TEST-NET-3
  EXPECT_EQ(p.check(ep("203.0.113.10:50000")), PolicyVerdict::DeniedSpecialPurpose);
  EXPECT_EQ(p.check(ep("[2606:4700::10]:50099"), &live), PolicyVerdict::DeniedOwnAddress);
  EXPECT_EQ(p.check(ep("[2606:4700::10]:8080"), &live), PolicyVerdict::DeniedOwnAddress);
  EXPECT_EQ(p.check(ep("[2606:4700::10]:50000"), &live), PolicyVerdict::DeniedOwnAddress);  // live in v4 only
  // A live port at an own address that is not a relay address: not a relay socket, refused.
  live.add(RelayPort{Family::V4, 50002});
  EXPECT_EQ(p.check(ep("8.8.4.4:50002"), &live), PolicyVerdict::DeniedOwnAddress);
  EXPECT_EQ(p.check(ep("127.0.0.1:50002"), &live), PolicyVerdict::DeniedSpecialPurpose);
  // The allocation ends: its port is refused again.
  live.remove(RelayPort{Family::V4, 50000});
  EXPECT_EQ(p.check(ep("203.0.113.10:50000"), &live), PolicyVerdict::DeniedSpecialPurpose);
  EXPECT_TRUE(live.contains(RelayPort{Family::V4, 50002}));
  // Permissions carry no port: a relay address passes (each datagram's port decides), others do not.
  EXPECT_EQ(p.checkAddress(ip("203.0.113.10")), PolicyVerdict::Allowed);
  EXPECT_EQ(p.checkAddress(ip("2606:4700::10")), PolicyVerdict::Allowed);
  EXPECT_EQ(p.checkAddress(ip("8.8.4.4")), PolicyVerdict::DeniedOwnAddress);
}

TEST(PeerPolicy, LoopbackRelayReachesOnlyLiveAllocations) {
  // A node on loopback (the integration tests' set-up) with no allow-peer: its relay sockets of live
  // allocations are reachable; 127.0.0.1 at any other port, in the relay range or not, is not.
  const PeerPolicy p({}, {}, {ip("127.0.0.1"), ip("::1")}, {ip("127.0.0.1")});
  LiveRelayPorts live;
  live.add(RelayPort{Family::V4, 50010});
  EXPECT_EQ(p.check(ep("127.0.0.1:50010"), &live), PolicyVerdict::Allowed);
  EXPECT_EQ(p.check(ep("127.0.0.1:50011"), &live), PolicyVerdict::DeniedSpecialPurpose);
  EXPECT_EQ(p.check(ep("127.0.0.2:50010"), &live), PolicyVerdict::DeniedSpecialPurpose);
  EXPECT_EQ(p.check(ep("[::ffff:127.0.0.1]:50011"), &live), PolicyVerdict::DeniedSpecialPurpose);
  EXPECT_EQ(p.check(ep("[::127.0.0.1]:50011"), &live), PolicyVerdict::DeniedSpecialPurpose);
  // The operator's deny beats relay-to-relay.
  const PeerPolicy denied({}, {*parseCidr("127.0.0.0/8")}, {ip("127.0.0.1")}, {ip("127.0.0.1")});
  EXPECT_EQ(denied.check(ep("127.0.0.1:50010"), &live), PolicyVerdict::DeniedByOperator);
}

TEST(PeerPolicy, AllowNeedsEveryEmbeddedAddress) {
  // Teredo carries two IPv4 addresses: allowing one does not open the other.
  const PeerPolicy p({*parseCidr("8.8.8.8")}, {}, {}, {});
  EXPECT_EQ(p.check(ep("[2001:0:808:808::f5fe:fdfc]:1")), PolicyVerdict::DeniedSpecialPurpose);  // client 10.1.2.3
  EXPECT_EQ(p.check(ep("[2001:0:808:808::f7f7:f7f7]:1")), PolicyVerdict::Allowed);  // client 8.8.8.8
  // An allow of the address itself (here the whole Teredo prefix) needs no embedded match.
  const PeerPolicy teredo({*parseCidr("2001::/32")}, {}, {}, {});
  EXPECT_EQ(teredo.check(ep("[2001:0:808:808::f5fe:fdfc]:1")), PolicyVerdict::Allowed);
  const PeerPolicy q({*parseCidr("2001::/32")}, {*parseCidr("10.0.0.0/8")}, {}, {});
  EXPECT_EQ(q.check(ep("[2001:0:808:808::f5fe:fdfc]:1")), PolicyVerdict::DeniedByOperator);
}

TEST(PeerPolicy, CidrParsing) {
  EXPECT_EQ(parseCidr("10.0.0.0/8")->toString(), "10.0.0.0/8");
  EXPECT_EQ(parseCidr("1.2.3.4")->prefix, 32);
  EXPECT_EQ(parseCidr("::1")->prefix, 128);
  EXPECT_EQ(parseCidr("0.0.0.0/0")->prefix, 0);
  EXPECT_TRUE(parseCidr("0.0.0.0/0")->contains(ip("8.8.8.8")));
  EXPECT_FALSE(parseCidr("0.0.0.0/0")->contains(ip("::1")));
  EXPECT_TRUE(parseCidr("2001:db8::/33")->contains(ip("2001:db8:7fff::1")));
  EXPECT_FALSE(parseCidr("2001:db8::/33")->contains(ip("2001:db8:8000::1")));
  EXPECT_EQ(parseCidr("10.0.0.1/8").error(), "host bits set in '10.0.0.1/8' (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(parseCidr("1.2.3.4/33").error(), "prefix 33 out of range 0-32 in '1.2.3.4/33'");
  EXPECT_EQ(parseCidr("::/129").error(), "prefix 129 out of range 0-128 in '::/129'");
  EXPECT_EQ(parseCidr("1.2.3/8").error(), "bad address '1.2.3' in '1.2.3/8'");
  EXPECT_EQ(parseCidr("1.2.3.0/x").error(), "bad prefix length 'x' in '1.2.3.0/x'");
  EXPECT_EQ(parseCidr("1.2.3.0/").error(), "bad prefix length '' in '1.2.3.0/'");
  EXPECT_FALSE(parseCidr(""));
  EXPECT_FALSE(parseCidr("10.0.0.0/8/8"));
}

}  // namespace
}  // namespace rdv::relay::test
