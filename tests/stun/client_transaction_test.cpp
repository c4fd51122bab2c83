// ClientTransaction: RFC 8489 §6.2.1 retransmission schedule and response matching, with a fake clock.
#include <gtest/gtest.h>

#include "stun/client_transaction.h"
#include "tests/stun/test_util.h"

namespace rdv::stun {
namespace {

using namespace std::chrono_literals;
using test::ep;
using test::tidOf;

const TimePoint t0{};
const Endpoint kServer = ep("192.0.2.1:3478");

Bytes successFor(const TransactionId& tid, const Endpoint& mapped) {
  MessageBuilder b(Method::Binding, Class::Success, tid);
  b.addXorAddress(attr::XorMappedAddress, mapped);
  b.addAddress(attr::OtherAddress, ep("192.0.2.2:3479"));
  b.addString(attr::Software, "srv");
  return std::move(b).finish();
}

TEST(ClientTransaction, DefaultScheduleIsRfc8489) {
  auto t = ClientTransaction::binding(kServer, tidOf(1));
  std::vector<long> sendTimes;
  TimePoint now = t0;
  for (int i = 0; i < 20 && !t.done(); ++i) {
    while (auto out = t.poll(now)) {
      EXPECT_EQ(out->to, kServer);
      sendTimes.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(now - t0).count());
    }
    if (t.done()) break;
    ASSERT_TRUE(t.nextDeadline());
    EXPECT_EQ(t.poll(*t.nextDeadline() - 1ms), std::nullopt);
    now = *t.nextDeadline();
  }
  EXPECT_EQ(sendTimes, (std::vector<long>{0, 500, 1500, 3500, 7500, 15500, 31500}));
  EXPECT_EQ(t.state(), ClientTransaction::State::TimedOut);
  EXPECT_EQ(now - t0, 39500ms);
  EXPECT_EQ(t.transmissions(), 7u);
  EXPECT_FALSE(t.nextDeadline());
}

TEST(ClientTransaction, ConfigurableSchedule) {
  RetransmitConfig c;
  c.rto = 10ms;
  c.maxTransmissions = 3;
  c.lastWaitFactor = 2;
  auto t = ClientTransaction::binding(kServer, tidOf(1), c);
  ASSERT_TRUE(t.poll(t0));
  EXPECT_EQ(*t.nextDeadline(), t0 + 10ms);
  ASSERT_TRUE(t.poll(t0 + 10ms));
  EXPECT_EQ(*t.nextDeadline(), t0 + 30ms);
  ASSERT_TRUE(t.poll(t0 + 30ms));
  EXPECT_EQ(*t.nextDeadline(), t0 + 50ms);
  EXPECT_FALSE(t.poll(t0 + 50ms));
  EXPECT_EQ(t.state(), ClientTransaction::State::TimedOut);
}

TEST(ClientTransaction, ReliableSendsOnce) {
  RetransmitConfig c;
  c.reliable = true;
  auto t = ClientTransaction::binding(kServer, tidOf(1), c);
  ASSERT_TRUE(t.poll(t0));
  EXPECT_EQ(*t.nextDeadline(), t0 + 39500ms);
  EXPECT_FALSE(t.poll(t0 + 39499ms));
  EXPECT_FALSE(t.done());
  EXPECT_FALSE(t.poll(t0 + 39500ms));
  EXPECT_EQ(t.state(), ClientTransaction::State::TimedOut);
  EXPECT_EQ(t.transmissions(), 1u);
}

TEST(ClientTransaction, SuccessResponseEndsIt) {
  auto t = ClientTransaction::binding(kServer, tidOf(1), {}, std::nullopt, "cli");
  auto out = t.poll(t0);
  ASSERT_TRUE(out);
  auto req = MessageView::parse(out->bytes);
  ASSERT_TRUE(req);
  EXPECT_TRUE(req->is(Method::Binding, Class::Request));
  EXPECT_TRUE(req->has(attr::Fingerprint));
  EXPECT_EQ(req->string(attr::Software), "cli");
  EXPECT_EQ(t.transactionId(), tidOf(1));

  // Garbage, other transactions and requests are ignored.
  EXPECT_FALSE(t.onDatagram(Bytes{1, 2, 3}, kServer, t0));
  EXPECT_FALSE(t.onDatagram(successFor(tidOf(2), ep("198.51.100.1:1")), kServer, t0));
  EXPECT_FALSE(t.onDatagram(out->bytes, kServer, t0));
  EXPECT_FALSE(t.done());

  const Bytes resp = successFor(tidOf(1), ep("198.51.100.1:1234"));
  EXPECT_TRUE(t.onDatagram(resp, kServer, t0 + 5ms));
  EXPECT_EQ(t.state(), ClientTransaction::State::Succeeded);
  EXPECT_EQ(t.responseFrom(), kServer);
  EXPECT_FALSE(t.poll(t0 + 1s));
  EXPECT_FALSE(t.onDatagram(resp, kServer, t0 + 6ms));  // duplicates after the end are ignored

  auto m = MessageView::parse(t.response());
  ASSERT_TRUE(m);
  auto info = readBindingResponse(*m);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->mapped, ep("198.51.100.1:1234"));
  EXPECT_EQ(info->otherAddress, ep("192.0.2.2:3479"));
  EXPECT_EQ(info->software, "srv");
  EXPECT_FALSE(info->responseOrigin);
}

TEST(ClientTransaction, ErrorResponseFails) {
  auto t = ClientTransaction::binding(kServer, tidOf(1));
  ASSERT_TRUE(t.poll(t0));
  MessageBuilder b(Method::Binding, Class::Error, tidOf(1));
  b.addErrorCode(error::UnknownAttribute);
  EXPECT_TRUE(t.onDatagram(b.bytes(), kServer, t0));
  EXPECT_EQ(t.state(), ClientTransaction::State::Failed);
}

TEST(ClientTransaction, ReadBindingResponseRejectsOthers) {
  MessageBuilder err(Method::Binding, Class::Error, tidOf(1));
  EXPECT_FALSE(readBindingResponse(*MessageView::parse(err.bytes())));
  MessageBuilder noAddr(Method::Binding, Class::Success, tidOf(1));
  EXPECT_FALSE(readBindingResponse(*MessageView::parse(noAddr.bytes())));
  MessageBuilder legacy(Method::Binding, Class::Success, tidOf(1), 0x1234);
  legacy.addAddress(attr::MappedAddress, ep("198.51.100.1:9"));
  legacy.addAddress(attr::ChangedAddress, ep("192.0.2.2:3479"));
  auto info = readBindingResponse(*MessageView::parse(legacy.bytes()));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->mapped, ep("198.51.100.1:9"));
  EXPECT_EQ(info->otherAddress, ep("192.0.2.2:3479"));
}

}  // namespace
}  // namespace rdv::stun
