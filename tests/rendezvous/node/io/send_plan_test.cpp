// The send planner (io/send_plan.h): which datagrams leave together as one UDP GSO message.
#include "rendezvous/node/io/send_plan.h"

#include <gtest/gtest.h>

namespace rdv::node {
namespace {

Endpoint at(std::string_view text) { return *Endpoint::parse(text); }

struct Plan {
  std::vector<uint32_t> order;
  std::vector<SendRun> runs;
};

Plan plan(const std::vector<SendItem>& items) {
  Plan p;
  orderBySocket(items, p.order);
  planRuns(items, p.order, p.runs);
  return p;
}

// (count, segment) of each run, for compact expectations.
std::vector<std::pair<uint32_t, uint32_t>> shape(const Plan& p) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (const SendRun& r : p.runs) out.emplace_back(r.count, r.segment);
  return out;
}

TEST(SendPlan, EqualDatagramsToOneDestinationFormOneRun) {
  const Endpoint peer = at("192.0.2.1:5000");
  std::vector<SendItem> items(10, SendItem{3, peer, 104, false, true});
  const Plan p = plan(items);
  EXPECT_EQ(shape(p), (std::vector<std::pair<uint32_t, uint32_t>>{{10, 104}}));
  EXPECT_EQ(p.order, (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(SendPlan, AShorterLastDatagramEndsTheRunALongerOneStartsANewRun) {
  const Endpoint peer = at("192.0.2.1:5000");
  const std::vector<SendItem> items = {
      {1, peer, 100, false, true}, {1, peer, 100, false, true}, {1, peer, 60, false, true},   // 100,100,60
      {1, peer, 100, false, true}, {1, peer, 120, false, true}, {1, peer, 120, false, true},  // 100 | 120,120
  };
  EXPECT_EQ(shape(plan(items)), (std::vector<std::pair<uint32_t, uint32_t>>{{3, 100}, {1, 100}, {2, 120}}));
}

TEST(SendPlan, DestinationDfAndGsoSplitRuns) {
  const Endpoint a = at("192.0.2.1:5000");
  const Endpoint b = at("192.0.2.1:5001");
  const std::vector<SendItem> items = {
      {1, a, 100, false, true}, {1, a, 100, false, true}, {1, b, 100, false, true},
      {1, b, 100, true, true},  {1, b, 100, true, true},
  };
  EXPECT_EQ(shape(plan(items)), (std::vector<std::pair<uint32_t, uint32_t>>{{2, 100}, {1, 100}, {2, 100}}));
  // A socket without GSO (the kernel refused it): every datagram alone.
  std::vector<SendItem> plain(4, SendItem{1, a, 100, false, false});
  EXPECT_EQ(shape(plan(plain)), (std::vector<std::pair<uint32_t, uint32_t>>(4, {1, 100})));
}

TEST(SendPlan, SocketsAreGroupedAndKeepTheirOrder) {
  const Endpoint peer = at("192.0.2.1:5000");
  const Endpoint client = at("198.51.100.7:40000");
  // Interleaved: relay socket 9 to the peer, listening socket 4 to the client.
  const std::vector<SendItem> items = {
      {9, peer, 100, false, true}, {4, client, 104, false, true}, {9, peer, 100, false, true},
      {4, client, 104, false, true}, {9, peer, 80, false, true},
  };
  const Plan p = plan(items);
  EXPECT_EQ(p.order, (std::vector<uint32_t>{1, 3, 0, 2, 4}));  // socket 4's, then socket 9's, each in order
  EXPECT_EQ(shape(p), (std::vector<std::pair<uint32_t, uint32_t>>{{2, 104}, {3, 100}}));
  EXPECT_EQ(p.runs[1].first, 2u);
}

TEST(SendPlan, KernelLimitsCapARun) {
  const Endpoint peer = at("192.0.2.1:5000");
  // At most 64 segments.
  std::vector<SendItem> many(100, SendItem{1, peer, 100, false, true});
  EXPECT_EQ(shape(plan(many)), (std::vector<std::pair<uint32_t, uint32_t>>{{64, 100}, {36, 100}}));
  // At most kMaxGsoBytes in one message: 1400-byte segments, 46 fit in 65000.
  std::vector<SendItem> big(50, SendItem{1, peer, 1400, false, true});
  EXPECT_EQ(shape(plan(big)), (std::vector<std::pair<uint32_t, uint32_t>>{{46, 1400}, {4, 1400}}));
  // Segments above the path MTU, and empty datagrams, always go alone.
  std::vector<SendItem> jumbo(3, SendItem{1, peer, 1500, false, true});
  EXPECT_EQ(shape(plan(jumbo)), (std::vector<std::pair<uint32_t, uint32_t>>(3, {1, 1500})));
  std::vector<SendItem> empty(2, SendItem{1, peer, 0, false, true});
  EXPECT_EQ(shape(plan(empty)), (std::vector<std::pair<uint32_t, uint32_t>>(2, {1, 0})));
}

TEST(SendPlan, EmptyBatch) {
  const Plan p = plan({});
  EXPECT_TRUE(p.order.empty());
  EXPECT_TRUE(p.runs.empty());
}

}  // namespace
}  // namespace rdv::node
