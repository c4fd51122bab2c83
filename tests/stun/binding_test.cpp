// The Binding responder: RFC 8489 §8.3, RFC 3489 compatibility, RFC 5780 §6.1.
#include <gtest/gtest.h>

#include <functional>

#include "stun/binding.h"
#include "stun/integrity.h"
#include "tests/stun/test_util.h"

namespace rdv::stun {
namespace {

using test::ep;
using test::tidOf;

const Endpoint kSource = ep("203.0.113.9:50000");
const Endpoint kPrimary = ep("192.0.2.1:3478");

BindingConfig rfc5780Config() {
  BindingConfig c;
  c.rfc5780 = AlternateAddresses{*IpAddress::parse("192.0.2.1"), *IpAddress::parse("192.0.2.2"), 3478, 3479};
  c.software = "rdv test";
  return c;
}

std::optional<BindingReply> answer(const Bytes& request, const BindingConfig& config, Endpoint local = kPrimary,
                                   bool stream = false) {
  auto m = MessageView::parse(request);
  EXPECT_TRUE(m);
  if (!m) return std::nullopt;
  return handleBinding(*m, BindingRequestContext{kSource, local, stream}, config);
}

MessageView parsed(const BindingReply& r) {
  auto m = MessageView::parse(r.bytes);
  EXPECT_TRUE(m) << (m ? "" : toString(m.error()));
  return m ? *m : MessageView{};
}

Bytes request(std::function<void(MessageBuilder&)> fill = {}, uint32_t cookie = kMagicCookie) {
  MessageBuilder b(Method::Binding, Class::Request, tidOf(3), cookie);
  if (fill) fill(b);
  return std::move(b).finish();
}

TEST(Binding, PlainRequestGetsXorMappedAddress) {
  const auto r = answer(request(), BindingConfig{});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from, kPrimary);
  EXPECT_EQ(r->to, kSource);
  const MessageView m = parsed(*r);
  EXPECT_TRUE(m.is(Method::Binding, Class::Success));
  EXPECT_EQ(m.transactionId(), tidOf(3));
  EXPECT_EQ(m.xorAddress(attr::XorMappedAddress), kSource);
  EXPECT_FALSE(m.has(attr::MappedAddress));
  EXPECT_FALSE(m.has(attr::Software));
  EXPECT_FALSE(m.has(attr::Fingerprint));
  EXPECT_FALSE(m.has(attr::OtherAddress));
}

TEST(Binding, FingerprintAndSoftwareEchoed) {
  BindingConfig c;
  c.software = "rdv";
  const auto r = answer(request([](MessageBuilder& b) { b.addFingerprint(); }), c);
  ASSERT_TRUE(r);
  const MessageView m = parsed(*r);
  EXPECT_TRUE(m.has(attr::Fingerprint));  // and parse() verified it
  EXPECT_EQ(m.string(attr::Software), "rdv");
}

TEST(Binding, Rfc3489RequestGetsMappedAddressOnly) {
  const auto r = answer(request({}, 0x11223344), BindingConfig{});
  ASSERT_TRUE(r);
  const MessageView m = parsed(*r);
  EXPECT_EQ(m.cookie(), 0x11223344u);
  EXPECT_EQ(m.address(attr::MappedAddress), kSource);
  EXPECT_FALSE(m.has(attr::XorMappedAddress));
}

TEST(Binding, Rfc3489RequestWithRfc5780UsesLegacyNames) {
  const auto r = answer(request([](MessageBuilder& b) { b.addChangeRequest({true, true}); }, 0x11223344),
                        rfc5780Config());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from, ep("192.0.2.2:3479"));
  const MessageView m = parsed(*r);
  EXPECT_EQ(m.address(attr::SourceAddress), ep("192.0.2.2:3479"));
  EXPECT_EQ(m.address(attr::ChangedAddress), ep("192.0.2.2:3479"));
  EXPECT_FALSE(m.has(attr::OtherAddress));
}

TEST(Binding, UnknownComprehensionRequiredGets420) {
  const auto r = answer(request([](MessageBuilder& b) {
                          b.add(0x7F00, Bytes{1}).add(0xC000, Bytes{2}).add(0x7F00, Bytes{3}).addFingerprint();
                        }),
                        BindingConfig{});
  ASSERT_TRUE(r);
  const MessageView m = parsed(*r);
  EXPECT_TRUE(m.is(Method::Binding, Class::Error));
  EXPECT_EQ(m.errorCode()->code, 420);
  EXPECT_EQ(m.unknownAttributes(), std::vector<uint16_t>{0x7F00});
  EXPECT_TRUE(m.has(attr::Fingerprint));
}

TEST(Binding, UnknownComprehensionOptionalIsIgnored) {
  const auto r = answer(request([](MessageBuilder& b) { b.add(0xC123, Bytes{1}); }), BindingConfig{});
  ASSERT_TRUE(r);
  EXPECT_TRUE(parsed(*r).is(Method::Binding, Class::Success));
}

TEST(Binding, Rfc5780AttributesAreUnknownWhenDisabled) {
  const auto r = answer(request([](MessageBuilder& b) {
                          b.addChangeRequest({true, false}).addResponsePort(4000).addPadding(8);
                        }),
                        BindingConfig{});
  ASSERT_TRUE(r);
  const MessageView m = parsed(*r);
  EXPECT_EQ(m.errorCode()->code, 420);
  EXPECT_EQ(m.unknownAttributes(),
            (std::vector<uint16_t>{attr::ChangeRequest, attr::ResponsePort, attr::Padding}));
}

TEST(Binding, IceConnectivityCheckAttributesAreKnown) {
  const auto r = answer(request([](MessageBuilder& b) {
                          b.addString(attr::Username, "a:b").addU32(attr::Priority, 1).addFlag(attr::UseCandidate);
                          b.addU64(attr::IceControlling, 5).addMessageIntegrity(shortTermKey("pw")).addFingerprint();
                        }),
                        BindingConfig{});
  ASSERT_TRUE(r);
  EXPECT_TRUE(parsed(*r).is(Method::Binding, Class::Success));
}

TEST(Binding, IndicationsAndResponsesGetNothing) {
  MessageBuilder ind(Method::Binding, Class::Indication, tidOf(1));
  EXPECT_FALSE(answer(ind.bytes(), BindingConfig{}));
  MessageBuilder ok(Method::Binding, Class::Success, tidOf(1));
  EXPECT_FALSE(answer(ok.bytes(), BindingConfig{}));
  MessageBuilder err(Method::Binding, Class::Error, tidOf(1));
  EXPECT_FALSE(answer(err.bytes(), BindingConfig{}));
  MessageBuilder alloc(Method::Allocate, Class::Request, tidOf(1));
  EXPECT_FALSE(answer(alloc.bytes(), BindingConfig{}));
}

struct ChangeCase {
  Endpoint local;
  bool ip, port;
  Endpoint from, other;
};

TEST(Binding, ChangeRequestAllCombinations) {
  const ChangeCase cases[] = {
      {ep("192.0.2.1:3478"), false, false, ep("192.0.2.1:3478"), ep("192.0.2.2:3479")},
      {ep("192.0.2.1:3478"), true, false, ep("192.0.2.2:3478"), ep("192.0.2.2:3479")},
      {ep("192.0.2.1:3478"), false, true, ep("192.0.2.1:3479"), ep("192.0.2.2:3479")},
      {ep("192.0.2.1:3478"), true, true, ep("192.0.2.2:3479"), ep("192.0.2.2:3479")},
      {ep("192.0.2.2:3479"), true, true, ep("192.0.2.1:3478"), ep("192.0.2.1:3478")},
      {ep("192.0.2.2:3478"), false, true, ep("192.0.2.2:3479"), ep("192.0.2.1:3479")},
      {ep("192.0.2.1:3479"), true, false, ep("192.0.2.2:3479"), ep("192.0.2.2:3478")},
  };
  for (const ChangeCase& c : cases) {
    const auto r = answer(request([&](MessageBuilder& b) { b.addChangeRequest({c.ip, c.port}); }), rfc5780Config(),
                          c.local);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->from, c.from) << c.local.toString() << " " << c.ip << c.port;
    EXPECT_EQ(r->to, kSource);
    const MessageView m = parsed(*r);
    EXPECT_TRUE(m.is(Method::Binding, Class::Success));
    EXPECT_EQ(m.xorAddress(attr::XorMappedAddress), kSource);
    EXPECT_EQ(m.address(attr::ResponseOrigin), c.from);
    EXPECT_EQ(m.address(attr::OtherAddress), c.other);
    EXPECT_EQ(m.string(attr::Software), "rdv test");
  }
}

TEST(Binding, ResponsePortRedirectsDestination) {
  const auto r = answer(request([](MessageBuilder& b) { b.addResponsePort(40001); }), rfc5780Config());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to, ep("203.0.113.9:40001"));
  EXPECT_EQ(r->from, kPrimary);
  EXPECT_TRUE(parsed(*r).is(Method::Binding, Class::Success));
}

TEST(Binding, MalformedKnownAttributesGet400) {
  const std::function<void(MessageBuilder&)> fills[] = {
      [](MessageBuilder& b) { b.add(attr::ChangeRequest, Bytes{0, 0, 4}); },
      [](MessageBuilder& b) { b.addResponsePort(0); },
      [](MessageBuilder& b) { b.add(attr::ResponsePort, Bytes{1, 2}); },
      [](MessageBuilder& b) { b.addResponsePort(4000).addPadding(8); },
  };
  for (const auto& fill : fills) {
    const auto r = answer(request(fill), rfc5780Config());
    ASSERT_TRUE(r);
    const MessageView m = parsed(*r);
    EXPECT_EQ(m.errorCode()->code, 400);
    EXPECT_EQ(r->from, kPrimary);
    EXPECT_EQ(r->to, kSource);
  }
}

TEST(Binding, PaddingIsEchoed) {
  const auto r = answer(request([](MessageBuilder& b) { b.addPadding(500); }), rfc5780Config());
  ASSERT_TRUE(r);
  const MessageView m = parsed(*r);
  ASSERT_TRUE(m.has(attr::Padding));
  EXPECT_EQ(m.find(attr::Padding)->value.size(), 500u);
}

TEST(Binding, StreamIgnoresChangeRequestAndResponsePort) {
  const auto r = answer(request([](MessageBuilder& b) { b.addChangeRequest({true, true}).addPadding(100); }),
                        rfc5780Config(), kPrimary, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from, kPrimary);
  const MessageView m = parsed(*r);
  EXPECT_TRUE(m.is(Method::Binding, Class::Success));
  EXPECT_EQ(m.address(attr::OtherAddress), ep("192.0.2.2:3479"));
  EXPECT_FALSE(m.has(attr::Padding));
  const auto p = answer(request([](MessageBuilder& b) { b.addResponsePort(999); }), rfc5780Config(), kPrimary, true);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->to, kSource);
}

TEST(Binding, LocalOutsideTheFourAddressesDisablesRfc5780) {
  const auto r = answer(request([](MessageBuilder& b) { b.addChangeRequest({true, true}); }), rfc5780Config(),
                        ep("[2001:db8::1]:3478"));
  ASSERT_TRUE(r);
  const MessageView m = parsed(*r);
  EXPECT_EQ(m.errorCode()->code, 420);
  const auto plain = answer(request(), rfc5780Config(), ep("192.0.2.1:9999"));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(parsed(*plain).has(attr::OtherAddress));
}

}  // namespace
}  // namespace rdv::stun
