// Feeds one untrusted input through every entry point of the codec. Shared by the mutation test and the
// libFuzzer target. Returns false if an invariant is broken (a crash is the other failure mode).
#pragma once

#include "stun/binding.h"
#include "stun/channel_data.h"
#include "stun/client_transaction.h"
#include "stun/integrity.h"
#include "stun/message.h"
#include "stun/nat_behaviour.h"

namespace rdv::stun::test {

inline bool exerciseGetters(const MessageView& m) {
  static const uint16_t kTypes[] = {
      attr::MappedAddress, attr::XorMappedAddress, attr::XorPeerAddress, attr::XorRelayedAddress,
      attr::OtherAddress, attr::ResponseOrigin, attr::AlternateServer, attr::Username, attr::Realm,
      attr::Nonce, attr::Software, attr::Lifetime, attr::Priority, attr::IceControlled, attr::IceControlling,
      attr::ReservationToken, attr::Fingerprint, 0x7F00};
  size_t sink = 0;
  for (const Attribute& a : m.attributes()) {
    if (a.offset + 4 + a.value.size() > m.raw().size()) return false;
    if (a.value.data() != m.raw().data() + a.offset + 4) return false;
    sink += m.xorAddress(a.type).has_value() + m.address(a.type).has_value() + m.xorAddresses(a.type).size();
    sink += m.u32(a.type).has_value() + m.u64(a.type).has_value() + m.string(a.type).has_value();
  }
  for (uint16_t t : kTypes) {
    sink += m.xorAddress(t).has_value() + m.address(t).has_value() + m.xorAddresses(t).size();
    sink += m.u32(t).has_value() + m.u64(t).has_value() + m.string(t).has_value() + m.has(t);
  }
  sink += m.errorCode().has_value() + m.channelNumber().has_value() + m.requestedTransport().has_value();
  sink += m.requestedAddressFamily().has_value() + m.additionalAddressFamily().has_value();
  sink += m.evenPort().has_value() + m.changeRequest().has_value() + m.responsePort().has_value();
  sink += m.data().has_value() + m.unknownAttributes().size() + m.passwordAlgorithms().size();
  sink += m.passwordAlgorithm().has_value();
  const uint16_t known[] = {attr::Username, attr::Realm};
  sink += m.unknownComprehensionRequired(known).size();
  const Bytes key = {1, 2, 3};
  sink += static_cast<size_t>(verifyMessageIntegrity(m, key)) + static_cast<size_t>(verifyMessageIntegritySha256(m, key));
  sink += readBindingResponse(m).has_value();
  return sink != static_cast<size_t>(-1);
}

inline bool exerciseBinding(const MessageView& m) {
  BindingConfig config;
  config.software = "x";
  const IpAddress a = IpAddress::v4(0xC0000201), b = IpAddress::v4(0xC0000202);
  const Endpoint source(IpAddress::v4(0xCB007109), 5000);
  for (int i = 0; i < 2; ++i) {
    if (i == 1) config.rfc5780 = AlternateAddresses{a, b, 3478, 3479};
    for (bool stream : {false, true}) {
      auto reply = handleBinding(m, BindingRequestContext{source, Endpoint(a, 3478), stream}, config);
      if (reply && !MessageView::parse(reply->bytes)) return false;  // our own replies always parse
    }
  }
  return true;
}

inline bool exerciseOne(ByteSpan input) {
  if (auto m = MessageView::parse(input)) {
    if (m->raw().size() != input.size()) return false;
    if (!exerciseGetters(*m) || !exerciseBinding(*m)) return false;
  }
  if (auto cd = parseChannelData(input)) {
    if (cd->data.size() + kChannelDataHeaderSize > input.size()) return false;
  }
  classify(input);
  auto frame = nextFrame(input);
  if (frame && frame->has_value() && (**frame).size > input.size()) return false;

  // Clients must shrug off any datagram.
  const Endpoint server(IpAddress::v4(0xC0000201), 3478);
  TransactionId tid;
  if (input.size() >= 20) std::copy(input.begin() + 8, input.begin() + 20, tid.bytes.begin());
  auto txn = ClientTransaction::binding(server, tid);
  txn.poll(TimePoint{});
  txn.onDatagram(input, server, TimePoint{});
  NatBehaviourConfig nc;
  nc.newTransactionId = [tid] { return tid; };
  NatBehaviourDiscovery nat(server, nc);
  nat.poll(TimePoint{});
  nat.onDatagram(input, server, TimePoint{});
  while (nat.poll(TimePoint{})) {
  }
  return true;
}

}  // namespace rdv::stun::test
