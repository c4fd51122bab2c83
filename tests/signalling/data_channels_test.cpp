// WebRTC data channels in the agent: the DCEP codec (RFC 8832 byte layouts, hostile input), and two
// in-process SCTP associations (libusrsctp, AF_CONN) that open a channel with DCEP and exchange
// messages, first packet to packet, then inside a real DTLS association (DtlsTransport).
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "signalling/agent/data_channels.h"
#include "signalling/agent/dcep.h"
#include "signalling/agent/dtls_transport.h"

namespace rdv::agent {
namespace {

using Clock = std::chrono::steady_clock;
using Kind = DataChannels::Event::Kind;

TEST(Dcep, OpenHasTheLayoutOfRfc8832) {
  dcep::Open o;
  o.channelType = dcep::kReliable;
  o.priority = 256;
  o.label = "rdv";
  o.protocol = "p";
  const Bytes wire = dcep::encode(o);
  // type 0x03, channel type, priority (2), reliability (4), label length (2), protocol length (2)
  const Bytes expected = {0x03, 0x00, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x03, 0x00, 0x01, 'r', 'd', 'v', 'p'};
  EXPECT_EQ(wire, expected);
  auto parsed = dcep::parse(wire);
  ASSERT_TRUE(std::holds_alternative<dcep::Message>(parsed));
  const auto& back = std::get<dcep::Open>(std::get<dcep::Message>(parsed));
  EXPECT_EQ(back.label, "rdv");
  EXPECT_EQ(back.protocol, "p");
  EXPECT_EQ(back.priority, 256);
  EXPECT_TRUE(back.ordered());
}

TEST(Dcep, AckIsOneByte) {
  EXPECT_EQ(dcep::encode(dcep::Ack{}), Bytes{0x02});
  auto parsed = dcep::parse(Bytes{0x02});
  ASSERT_TRUE(std::holds_alternative<dcep::Message>(parsed));
  EXPECT_TRUE(std::holds_alternative<dcep::Ack>(std::get<dcep::Message>(parsed)));
}

TEST(Dcep, UnorderedTypesHaveTheHighBit) {
  dcep::Open o;
  o.channelType = dcep::kReliableUnordered;
  EXPECT_FALSE(o.ordered());
  o.channelType = dcep::kPartialReliableRexmit;
  EXPECT_TRUE(o.ordered());
}

TEST(Dcep, HostileInputIsAnErrorNeverACrash) {
  auto error = [](const Bytes& b) {
    auto r = dcep::parse(b);
    return std::holds_alternative<dcep::ParseError>(r) ? std::get<dcep::ParseError>(r) : static_cast<dcep::ParseError>(99);
  };
  EXPECT_EQ(error({}), dcep::ParseError::Empty);
  EXPECT_EQ(error({0x01}), dcep::ParseError::UnknownType);
  EXPECT_EQ(error({0x02, 0x00}), dcep::ParseError::TrailingBytes);
  EXPECT_EQ(error({0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0}), dcep::ParseError::Truncated);
  // Lengths larger than the message.
  EXPECT_EQ(error({0x03, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 'x'}), dcep::ParseError::Truncated);
  EXPECT_EQ(error({0x03, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 'x', 'y'}), dcep::ParseError::TrailingBytes);
  // Every prefix of a valid OPEN is refused cleanly.
  dcep::Open o;
  o.label = "label";
  o.protocol = "proto";
  const Bytes wire = dcep::encode(o);
  for (size_t n = 0; n < wire.size(); ++n)
    EXPECT_TRUE(std::holds_alternative<dcep::ParseError>(dcep::parse(ByteSpan(wire.data(), n)))) << n;
}

struct ChannelPair {
  std::unique_ptr<DataChannels> client, server;
  std::vector<DataChannels::Event> clientEvents, serverEvents;
  ChannelPair() {
    auto c = DataChannels::create(DataChannels::Role::DtlsClient);
    auto s = DataChannels::create(DataChannels::Role::DtlsServer);
    EXPECT_TRUE(c && s);
    client = std::move(*c);
    server = std::move(*s);
  }
  // Moves SCTP packets both ways until both are quiet (lose: drop every n-th packet).
  void pump(size_t loseEvery = 0) {
    size_t n = 0;
    for (int round = 0; round < 200; ++round) {
      auto a = client->takeOutgoing();
      auto b = server->takeOutgoing();
      for (auto& e : client->takeEvents()) clientEvents.push_back(std::move(e));
      for (auto& e : server->takeEvents()) serverEvents.push_back(std::move(e));
      if (a.empty() && b.empty()) return;
      for (auto& p : a)
        if (loseEvery == 0 || ++n % loseEvery != 0) server->handleRecord(p);
      for (auto& p : b)
        if (loseEvery == 0 || ++n % loseEvery != 0) client->handleRecord(p);
    }
  }
  static std::vector<std::string> texts(const std::vector<DataChannels::Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events)
      if (e.kind == Kind::Message) out.emplace_back(e.data.begin(), e.data.end());
    return out;
  }
};

TEST(DataChannels, TwoAssociationsOpenAChannelAndExchangeMessages) {
  ChannelPair p;
  p.client->start();
  p.server->start();  // both send INIT, as WebRTC peers do
  p.pump();
  ASSERT_TRUE(p.client->established());
  ASSERT_TRUE(p.server->established());
  auto stream = p.client->open("rdv");
  ASSERT_TRUE(stream);
  EXPECT_EQ(*stream % 2, 0);  // the DTLS client opens even streams
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p.client->sendText(*stream, "msg " + std::to_string(i)));
  p.pump();
  ASSERT_FALSE(p.serverEvents.empty());
  EXPECT_EQ(p.serverEvents.front().kind, Kind::Opened);
  EXPECT_EQ(p.serverEvents.front().label, "rdv");
  EXPECT_EQ(ChannelPair::texts(p.serverEvents), (std::vector<std::string>{"msg 0", "msg 1", "msg 2", "msg 3", "msg 4"}));
  // The answering side replies on the same stream; an empty string and binary data survive too.
  ASSERT_TRUE(p.server->sendText(*stream, "echo"));
  ASSERT_TRUE(p.server->sendText(*stream, ""));
  ASSERT_TRUE(p.server->sendBinary(*stream, Bytes{0, 1, 2}));
  p.pump();
  ASSERT_EQ(p.clientEvents.size(), 3u);
  EXPECT_EQ(std::string(p.clientEvents[0].data.begin(), p.clientEvents[0].data.end()), "echo");
  EXPECT_TRUE(p.clientEvents[1].data.empty());
  EXPECT_FALSE(p.clientEvents[1].binary);
  EXPECT_EQ(p.clientEvents[2].data, (Bytes{0, 1, 2}));
  EXPECT_TRUE(p.clientEvents[2].binary);
  EXPECT_EQ(p.client->dropped() + p.server->dropped(), 0u);
}

TEST(DataChannels, AChannelOpenedBeforeSctpIsUpGoesOutWhenItIs) {
  ChannelPair p;
  auto stream = p.server->open("early");
  ASSERT_TRUE(stream);
  EXPECT_EQ(*stream % 2, 1);  // the DTLS server opens odd streams
  p.client->start();
  p.server->start();
  p.pump();
  ASSERT_TRUE(p.server->sendText(*stream, "hello"));
  p.pump();
  ASSERT_EQ(p.clientEvents.size(), 2u);
  EXPECT_EQ(p.clientEvents[0].kind, Kind::Opened);
  EXPECT_EQ(p.clientEvents[0].label, "early");
  EXPECT_EQ(ChannelPair::texts(p.clientEvents), std::vector<std::string>{"hello"});
}

TEST(DataChannels, LargeMessagesArriveWhole) {
  ChannelPair p;
  p.client->start();
  p.server->start();
  p.pump();
  auto stream = p.client->open("big");
  ASSERT_TRUE(stream);
  const std::string big(100'000, 'x');  // many SCTP chunks, delivered in pieces
  ASSERT_TRUE(p.client->sendText(*stream, big));
  p.pump();
  auto got = ChannelPair::texts(p.serverEvents);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], big);
}

TEST(DataChannels, AMessageLongerThanTheAnnouncedMaximumIsRefusedAndTheChannelGoesOn) {
  ChannelPair p;
  p.client->start();
  p.server->start();
  p.pump();
  auto stream = p.client->open("big");
  ASSERT_TRUE(stream);
  // We announce a=max-message-size:262144; libusrsctp's send buffer refuses a longer message whole.
  const std::string tooLong(SctpAssociation::kMaxMessage + 1000, 'y');
  EXPECT_FALSE(p.client->sendText(*stream, tooLong));
  p.pump();
  ASSERT_TRUE(p.client->sendText(*stream, "after"));
  for (int i = 0; i < 20 && ChannelPair::texts(p.serverEvents).empty(); ++i) p.pump();
  EXPECT_EQ(ChannelPair::texts(p.serverEvents), std::vector<std::string>{"after"});
}

TEST(DataChannels, AnOpenOnAStreamOfTheWrongParityIsRefused) {
  // Two ends that both think they are the DTLS client: each one's OPEN uses the parity the other
  // keeps for itself (RFC 8832 §6), so it is dropped, counted, and never acknowledged.
  auto a = DataChannels::create(DataChannels::Role::DtlsClient);
  auto b = DataChannels::create(DataChannels::Role::DtlsClient);
  ASSERT_TRUE(a && b);
  ChannelPair p;
  p.client = std::move(*a);
  p.server = std::move(*b);
  p.client->start();
  p.server->start();
  p.pump();
  ASSERT_TRUE(p.server->established());
  auto stream = p.client->open("wrong");
  ASSERT_TRUE(stream);
  ASSERT_TRUE(p.client->sendText(*stream, "ignored"));
  p.pump();
  EXPECT_TRUE(p.serverEvents.empty());
  EXPECT_EQ(p.server->dropped(), 2u);  // the OPEN, then the message on a stream never opened
}

TEST(DataChannels, LostPacketsAreRetransmittedOnTheTimers) {
  ChannelPair p;
  p.client->start();
  p.server->start();
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  auto stream = p.client->open("lossy");
  ASSERT_TRUE(stream);
  int sent = 0;
  while (Clock::now() < deadline) {
    if (p.client->established() && sent < 20 && p.client->sendText(*stream, "m" + std::to_string(sent))) ++sent;
    p.pump(/*loseEvery=*/3);
    if (ChannelPair::texts(p.serverEvents).size() == 20) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let retransmission timers come due
    p.client->tick(Clock::now());
    p.server->tick(Clock::now());
  }
  auto got = ChannelPair::texts(p.serverEvents);
  ASSERT_EQ(got.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], "m" + std::to_string(i));
}

TEST(DataChannels, OverARealDtlsAssociation) {
  auto dc = DtlsTransport::create(DtlsTransport::Role::Client);
  auto ds = DtlsTransport::create(DtlsTransport::Role::Server);
  ASSERT_TRUE(dc && ds);
  auto& c = **dc;
  auto& s = **ds;
  c.setRemoteFingerprint(s.localFingerprint());
  s.setRemoteFingerprint(c.localFingerprint());
  ChannelPair p;
  c.start();
  std::vector<std::string> got;
  std::optional<uint16_t> stream;
  for (int round = 0; round < 100; ++round) {
    for (auto& d : c.takeOutgoing()) s.handleDatagram(d);
    for (auto& d : s.takeOutgoing()) c.handleDatagram(d);
    if (c.connected() && s.connected()) {
      p.client->start();
      p.server->start();
    }
    for (auto& r : c.takeReceived()) p.client->handleRecord(r);
    for (auto& r : s.takeReceived()) p.server->handleRecord(r);
    for (auto& pkt : p.client->takeOutgoing()) c.send(pkt);
    for (auto& pkt : p.server->takeOutgoing()) s.send(pkt);
    for (auto& e : p.server->takeEvents()) {
      if (e.kind == Kind::Opened) continue;
      got.emplace_back(e.data.begin(), e.data.end());
      p.server->sendText(e.stream, "echo " + got.back());
    }
    for (auto& e : p.client->takeEvents())
      if (e.kind == Kind::Message) got.emplace_back(e.data.begin(), e.data.end());
    if (p.client->established() && !stream) {
      stream = p.client->open("rdv");
      ASSERT_TRUE(stream && p.client->sendText(*stream, "over dtls"));
    }
    if (got.size() >= 2) break;
  }
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[0], "over dtls");
  EXPECT_EQ(got[1], "echo over dtls");
}

}  // namespace
}  // namespace rdv::agent
