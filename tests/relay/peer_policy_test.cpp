// Peer-address policy: every default range, every mapped form, operator precedence, CIDR errors.
#include "relay/peer_policy.h"

#include <gtest/gtest.h>

#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

PeerPolicy defaults() {
  return PeerPolicy({}, {}, {ip("203.0.113.10"), ip("2606:4700::10")}, PortRange{50000, 50099});
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
    {"fc00::/7", "fd12:3456::1", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"fe80::/10", "fe80::1", "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
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
                        "2606:4700::1111", "2001:200::1", "2001:db9::1", "2003::1", "::2", "fe00::1",
                        "64:ff9a::1", "64:ff9b:2::1"}) {
    EXPECT_EQ(p.check(Endpoint(ip(a), 1)), PolicyVerdict::Allowed) << a;
  }
}

TEST(PeerPolicy, MappedFormsAreConvertedBeforeMatching) {
  EXPECT_EQ(embeddedIpv4(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
  EXPECT_EQ(embeddedIpv4(ip("64:ff9b::10.1.2.3")), ip("10.1.2.3"));
  EXPECT_EQ(embeddedIpv4(ip("2002:0a01:0203::1")), ip("10.1.2.3"));
  EXPECT_EQ(embeddedIpv4(ip("2606:4700::1")), std::nullopt);
  EXPECT_EQ(embeddedIpv4(ip("10.1.2.3")), std::nullopt);

  const PeerPolicy p = defaults();
  // Every IPv4 default range, in each of the three mapped forms: denied.
  for (const RangeCase& r : kV4Ranges) {
    const IpAddress v4 = ip(r.inside);
    const uint8_t* b = v4.data();
    char mapped[64], nat64[64], sixToFour[64];
    std::snprintf(mapped, sizeof mapped, "::ffff:%s", r.inside);
    std::snprintf(nat64, sizeof nat64, "64:ff9b::%s", r.inside);
    std::snprintf(sixToFour, sizeof sixToFour, "2002:%02x%02x:%02x%02x::1", b[0], b[1], b[2], b[3]);
    for (const char* a : {mapped, nat64, sixToFour}) {
      EXPECT_NE(p.check(Endpoint(ip(a), 1)), PolicyVerdict::Allowed) << a;
    }
  }
  // A public IPv4 address in mapped form is allowed; NAT64 and 6to4 prefixes stay denied by default.
  EXPECT_EQ(p.check(Endpoint(ip("::ffff:8.8.8.8"), 1)), PolicyVerdict::Allowed);
  EXPECT_EQ(p.check(Endpoint(ip("64:ff9b::8.8.8.8"), 1)), PolicyVerdict::DeniedSpecialPurpose);
  EXPECT_EQ(p.check(Endpoint(ip("2002:808:808::1"), 1)), PolicyVerdict::DeniedSpecialPurpose);
  // The node's own address in mapped form is the node's own address.
  EXPECT_EQ(p.check(Endpoint(ip("::ffff:203.0.113.10"), 22)), PolicyVerdict::DeniedOwnAddress);
}

TEST(PeerPolicy, OperatorAllowAndDenyPrecedence) {
  const PeerPolicy p({*parseCidr("198.18.0.0/15"), *parseCidr("127.0.0.0/8"), *parseCidr("10.0.0.0/8")},
                     {*parseCidr("10.9.0.0/16"), *parseCidr("8.8.8.8"), *parseCidr("2606:4700::/32")},
                     {ip("127.0.0.1")}, PortRange{50000, 50099});
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

TEST(PeerPolicy, OwnAddressesOnlyOnRelayPorts) {
  const PeerPolicy p = defaults();
  EXPECT_EQ(p.check(ep("203.0.113.10:50000")), PolicyVerdict::Allowed);
  EXPECT_EQ(p.check(ep("203.0.113.10:50099")), PolicyVerdict::Allowed);
  EXPECT_EQ(p.check(ep("203.0.113.10:49999")), PolicyVerdict::DeniedOwnAddress);
  EXPECT_EQ(p.check(ep("203.0.113.10:3478")), PolicyVerdict::DeniedOwnAddress);
  EXPECT_EQ(p.check(ep("[2606:4700::10]:8080")), PolicyVerdict::DeniedOwnAddress);
  EXPECT_EQ(p.check(ep("[2606:4700::10]:50050")), PolicyVerdict::Allowed);
  EXPECT_EQ(p.checkAddress(ip("203.0.113.10")), PolicyVerdict::Allowed);  // permissions have no port
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
