// Balancing's choice (rendezvous/fleet/balance.h), pure: the least loaded live node other than this one,
// never a draining or full one, ignoring entries it cannot read.
#include <gtest/gtest.h>

#include "rendezvous/fleet/balance.h"

namespace rdv::fleet {
namespace {

nlohmann::json entry(const std::string& id, uint64_t allocations, uint64_t max, std::string turn = "192.0.2.1:3478") {
  return {{"node_id", id},
          {"load", {{"allocations", allocations}, {"max_allocations", max}, {"bps", 0}, {"bps_capacity", 1000}}},
          {"turn", {turn}},
          {"draining", false},
          {"full", allocations >= max}};
}

TEST(Balance, PicksTheLeastLoadedOtherNodeNeitherFullNorDraining) {
  nlohmann::json dir{{"nodes",
                      {entry("self", 0, 10), entry("busy", 9, 10, "192.0.2.2:3478"), entry("idle", 1, 10, "192.0.2.3:3478"),
                       entry("full", 10, 10, "192.0.2.4:3478")}}};
  auto c = leastLoadedOther(dir, "self");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->nodeId, "idle");
  ASSERT_EQ(c->turn.size(), 1u);
  EXPECT_EQ(c->turn[0].toString(), "192.0.2.3:3478");
  EXPECT_DOUBLE_EQ(c->load, 0.1);
  dir["nodes"][2]["draining"] = true;
  EXPECT_EQ(leastLoadedOther(dir, "self")->nodeId, "busy");
  dir["nodes"][1]["full"] = true;
  EXPECT_FALSE(leastLoadedOther(dir, "self"));
}

TEST(Balance, BytesCountAsLoadAndUnreadableEntriesAreSkipped) {
  auto hot = entry("hot", 0, 10);
  hot["load"]["bps"] = 800;  // 0.8 of its capacity
  auto warm = entry("warm", 3, 10);
  nlohmann::json dir{{"nodes", {hot, warm, "junk", {{"node_id", 7}}, {{"node_id", "noturn"}}, entry("x", 0, 10, "nonsense")}}};
  dir["nodes"][1]["draining"] = "yes";  // not a boolean: not draining
  auto c = leastLoadedOther(dir, "self");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->nodeId, "warm");
  EXPECT_TRUE(busyAt(900, 1000));
  EXPECT_FALSE(busyAt(899, 1000));
  EXPECT_FALSE(busyAt(1'000'000, 0));
  EXPECT_TRUE(fullAt(5, 5));
  EXPECT_FALSE(fullAt(5, 0));
  EXPECT_FALSE(leastLoadedOther(nlohmann::json::array(), "self"));
}

}  // namespace
}  // namespace rdv::fleet
