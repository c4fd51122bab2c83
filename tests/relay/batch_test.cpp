// The batch form of the data path (the daemon's): relayed packets come out as Forward records, slices of
// the batch's inputs behind a header, never copies; metering per packet as in the single-input form.
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using stun::MessageBuilder;
using stun::Method;

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

// The bytes a forward stands for, from the batch's inputs.
Bytes materialise(const Forward& f, const std::vector<Bytes>& inputs) {
  Bytes out;
  appendForwarded(f, inputs.at(f.input), out);
  return out;
}

TEST(Batch, ClientChannelDataBecomesSlicesOfTheInputs) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4001, peer)));
  h.drain();
  std::vector<Bytes> inputs;
  for (int i = 0; i < 5; ++i) {
    Bytes cd;
    stun::appendChannelData(cd, 0x4001, Bytes(100 + i, static_cast<uint8_t>(i)), false);
    inputs.push_back(cd);
  }
  for (uint32_t i = 0; i < inputs.size(); ++i) h.server->handleClientInput(inputs[i], c.tuple, h.now, i);
  EXPECT_TRUE(Harness::only<SendToPeer>(h.drain()).empty());  // nothing copied into commands
  const auto& fw = h.server->forwards();
  ASSERT_EQ(fw.size(), 5u);
  for (uint32_t i = 0; i < fw.size(); ++i) {
    EXPECT_EQ(fw[i].to, Forward::To::Peer);
    EXPECT_EQ(fw[i].input, i);
    EXPECT_EQ(fw[i].offset, 4u);  // after the ChannelData header: the payload in place
    EXPECT_EQ(fw[i].length, 100u + i);
    EXPECT_EQ(fw[i].headerSize, 0u);
    EXPECT_EQ(fw[i].relay, c.relayPort());
    EXPECT_EQ(fw[i].peer, peer);
    EXPECT_EQ(materialise(fw[i], inputs), Bytes(100 + i, static_cast<uint8_t>(i)));
  }
  const ChannelBinding* ch = h.server->findChannel(c.tuple, 0x4001);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->toPeer.packets, 5u);
  EXPECT_EQ(ch->toPeer.bytes, 510u);
  h.server->clearForwards();
  EXPECT_TRUE(h.server->forwards().empty());
}

TEST(Batch, PeerBatchGivesChannelDataHeadersAndDataIndications) {
  Harness h;
  TurnClient c(h, tcpTuple());  // a stream client: ChannelData padded to 4 (RFC 8656 §12.5)
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint bound = ep("8.8.8.8:9000");
  const Endpoint other = ep("8.8.8.8:9001");  // permitted (same IP), no channel: Data indications
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4ABC, bound)));
  h.drain();
  const std::vector<Bytes> inputs = {text("xyz"), text("hello"), text("abcd"), text("q")};
  const std::vector<Server::PeerDatagram> batch = {
      {inputs[0], bound}, {inputs[1], other}, {inputs[2], bound}, {inputs[3], ep("9.9.9.9:1")}};
  h.server->handlePeerBatch(c.relayPort(), batch, h.now);
  EXPECT_TRUE(Harness::only<SendToClient>(h.drain()).empty());
  const auto& fw = h.server->forwards();
  ASSERT_EQ(fw.size(), 3u);  // the last has no permission
  EXPECT_EQ(h.server->stats().dropNoPermission, 1u);

  Bytes expected;
  stun::appendChannelData(expected, 0x4ABC, asBytes("xyz"), true);
  EXPECT_EQ(fw[0].to, Forward::To::Client);
  EXPECT_EQ(fw[0].client, c.tuple);
  EXPECT_EQ(fw[0].headerSize, 4u);
  EXPECT_EQ(fw[0].padding, 1u);
  EXPECT_EQ(materialise(fw[0], inputs), expected);

  EXPECT_EQ(fw[1].input, 1u);
  const Bytes indication = materialise(fw[1], inputs);
  const auto m = view(indication);
  EXPECT_TRUE(m.is(Method::Data, stun::Class::Indication));
  EXPECT_EQ(m.xorAddress(stun::attr::XorPeerAddress), other);
  ASSERT_TRUE(m.data());
  EXPECT_EQ(asString(Bytes(m.data()->begin(), m.data()->end())), "hello");
  EXPECT_EQ(indication.size() % 4, 0u);

  expected.clear();
  stun::appendChannelData(expected, 0x4ABC, asBytes("abcd"), true);
  EXPECT_EQ(materialise(fw[2], inputs), expected);
  EXPECT_EQ(fw[2].padding, 0u);

  const Stats& s = h.server->stats();
  EXPECT_EQ(s.packetsPeerToClient, 3u);
  EXPECT_EQ(s.bytesPeerToClient, 12u);
  EXPECT_EQ(s.dataIndications, 1u);
}

TEST(Batch, SendIndicationForwardsItsDataAttributeInPlace) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.permit(peer)));
  h.drain();
  const std::vector<Bytes> inputs = {
      c.build(Method::Send, stun::Class::Indication, c.nextTid(), [&](MessageBuilder& b) {
        b.addXorAddress(stun::attr::XorPeerAddress, peer).add(stun::attr::Data, asBytes("payload"));
        b.addFlag(stun::attr::DontFragment);
      }, false)};
  h.server->handleClientInput(inputs[0], c.tuple, h.now, 0);
  const auto& fw = h.server->forwards();
  ASSERT_EQ(fw.size(), 1u);
  EXPECT_TRUE(fw[0].dontFragment);
  EXPECT_EQ(materialise(fw[0], inputs), text("payload"));
  EXPECT_EQ(inputs[0][fw[0].offset], 'p');  // a slice of the message, not a copy
}

// Metering stays exact per packet inside a batch: the limited class's data cap (128 KiB per direction)
// reached mid-batch ends the allocation at that packet; nothing after it is forwarded.
TEST(Batch, DataCapReachedMidBatchStopsAtThatPacket) {
  Harness h;
  const std::string user = std::to_string(h.now.unixSeconds + 3600) + ":node-x";
  TurnClient c(h, udpTuple(), user, restPassword("new-secret", user));
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_EQ(h.server->findAllocation(c.tuple)->quotaClass(), "limited");
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4001, peer)));
  h.drain();
  std::vector<Bytes> inputs;
  for (int i = 0; i < 140; ++i) {
    Bytes cd;
    stun::appendChannelData(cd, 0x4001, Bytes(1000, 1), false);
    inputs.push_back(cd);
  }
  for (uint32_t i = 0; i < inputs.size(); ++i) h.server->handleClientInput(inputs[i], c.tuple, h.now, i);
  // 131 packets of 1000 bytes fit in 128 KiB; the 132nd would not.
  ASSERT_EQ(h.server->forwards().size(), 131u);
  EXPECT_EQ(h.server->forwards().back().input, 130u);
  const auto ended = Harness::only<AllocationEnded>(h.drain());
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::DataCap);
  EXPECT_EQ(ended[0].info.toPeer.bytes, 131'000u);
  EXPECT_EQ(ended[0].info.toPeer.packets, 131u);
  EXPECT_EQ(h.server->stats().dropUnknownChannel, 140u - 132u);
}

}  // namespace
}  // namespace rdv::relay::test
