// IpAddress/Endpoint text forms: IPv4 is formatted by hand (no sprintf), IPv6 by inet_ntop; both must
// read back through parse() to the same value.
#include "rendezvous/base/address.h"

#include <gtest/gtest.h>

namespace rdv {
namespace {

TEST(Address, Ipv4TextFormsEveryOctetWidth) {
  for (const char* text : {"0.0.0.0", "1.2.3.4", "9.10.99.100", "127.0.0.1", "198.18.0.255", "255.255.255.255",
                           "10.200.30.7"}) {
    const auto ip = IpAddress::parse(text);
    ASSERT_TRUE(ip) << text;
    EXPECT_EQ(ip->toString(), text);
  }
  for (uint32_t v : {0u, 1u, 0x0A0B0C0Du, 0x64636209u, 0xFFFFFFFFu, 0x7F000001u}) {
    const IpAddress ip = IpAddress::v4(v);
    EXPECT_EQ(*IpAddress::parse(ip.toString()), ip) << ip.toString();
  }
}

TEST(Address, EndpointTextForms) {
  EXPECT_EQ(Endpoint(*IpAddress::parse("127.0.0.1"), 0).toString(), "127.0.0.1:0");
  EXPECT_EQ(Endpoint(*IpAddress::parse("203.0.113.200"), 65535).toString(), "203.0.113.200:65535");
  EXPECT_EQ(Endpoint(*IpAddress::parse("::1"), 3478).toString(), "[::1]:3478");
  EXPECT_EQ(Endpoint(*IpAddress::parse("2001:db8::ff00:42:8329"), 49152).toString(), "[2001:db8::ff00:42:8329]:49152");
  EXPECT_EQ(Endpoint(*IpAddress::parse("::ffff:192.0.2.1"), 1).toString(), "[::ffff:192.0.2.1]:1");
  for (const char* text : {"1.2.3.4:5", "[::]:80", "[fe80::1]:12345", "255.255.255.255:65535"}) {
    const auto ep = Endpoint::parse(text);
    ASSERT_TRUE(ep) << text;
    EXPECT_EQ(ep->toString(), text);
  }
}

}  // namespace
}  // namespace rdv
