// The node's own record: what it advertises, the 300-byte fit, and the stored seq.
#include "rendezvous/node/node_record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

namespace rdv::node {
namespace {

Endpoint ep(const char* text) { return *Endpoint::parse(text); }

identity::PrivateKey key() { return identity::PrivateKey::generate().value(); }

struct TempDb {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("rdv-node-record-" + std::to_string(std::random_device{}()));
  TempDb() { std::filesystem::create_directories(dir); }
  ~TempDb() { std::filesystem::remove_all(dir); }
  storage::Database open() const { return storage::Database::open((dir / "db").string()).value(); }
};

TEST(NodeRecord, DescribesEveryServiceMostUsefulFirst) {
  NodeServices s{{ep("127.0.0.1:3478")}, {ep("127.0.0.1:5349")}, ep("127.0.0.1:8080"), {}};
  const NodeAdvert a = describeServices(s);
  EXPECT_EQ(a.stun, (std::vector<std::string>{"stun:127.0.0.1:3478", "stuns:127.0.0.1:5349"}));
  EXPECT_EQ(a.turn, (std::vector<std::string>{"turn:127.0.0.1:3478", "turns:127.0.0.1:5349",
                                              "turn:127.0.0.1:3478?transport=tcp"}));
  EXPECT_EQ(a.api, "http://127.0.0.1:8080");
  ASSERT_TRUE(a.v4.has_value());
  EXPECT_EQ(*a.v4, ep("127.0.0.1:3478"));
  EXPECT_FALSE(a.v6.has_value());
}

TEST(NodeRecord, WildcardsNeedAnExternalAddress) {
  NodeServices s{{ep("0.0.0.0:3478"), ep("[::1]:3478")}, {}, ep("0.0.0.0:8080"), {}};
  NodeAdvert a = describeServices(s);
  EXPECT_EQ(a.stun, std::vector<std::string>{"stun:[::1]:3478"});
  EXPECT_TRUE(a.api.empty());
  EXPECT_FALSE(a.v4.has_value());
  ASSERT_TRUE(a.v6.has_value());

  s.external = {*IpAddress::parse("198.51.100.7")};
  a = describeServices(s);
  EXPECT_EQ(a.stun.front(), "stun:198.51.100.7:3478");
  EXPECT_EQ(a.api, "http://198.51.100.7:8080");
  EXPECT_EQ(*a.v4, ep("198.51.100.7:3478"));
}

TEST(NodeRecord, SignedRecordFitsIn300BytesDroppingTheLeastUsefulUris) {
  NodeServices s;
  for (int i = 0; i < 4; ++i) {
    s.udp.push_back(ep(("198.51.100." + std::to_string(10 + i) + ":3478").c_str()));
    s.tls.push_back(ep(("198.51.100." + std::to_string(10 + i) + ":5349").c_str()));
  }
  s.http = ep("198.51.100.10:8080");
  const auto k = key();
  const NodeAdvert full = describeServices(s);
  auto record = signFitting(full, 1, k);
  ASSERT_TRUE(record.ok());
  EXPECT_LE(record->encoded().size(), enr::kMaxRecordSize);
  EXPECT_EQ(record->nodeId(), k.nodeId());
  const std::string turn(*record->text("turn"));
  EXPECT_EQ(turn.rfind("turn:198.51.100.10:3478", 0), 0u) << turn;  // the first listener survives
  EXPECT_EQ(*record->text("api"), "http://198.51.100.10:8080");
  EXPECT_EQ(*record->udp(), 3478);
  // What was dropped: URIs from the ends of the lists only (each kept list is a prefix of the advertised
  // one), something was dropped (all of them do not fit), and no more than needed (one more does not fit).
  const auto split = [](std::string_view text) {
    std::vector<std::string> out;
    for (size_t pos = 0; pos <= text.size();) {
      const size_t end = std::min(text.find(' ', pos), text.size());
      out.emplace_back(text.substr(pos, end - pos));
      pos = end + 1;
    }
    return out;
  };
  NodeAdvert kept = full;
  kept.turn = split(turn);
  kept.stun = split(*record->text("stun"));
  ASSERT_LE(kept.turn.size(), full.turn.size());
  ASSERT_LE(kept.stun.size(), full.stun.size());
  EXPECT_TRUE(std::equal(kept.turn.begin(), kept.turn.end(), full.turn.begin())) << turn;
  EXPECT_TRUE(std::equal(kept.stun.begin(), kept.stun.end(), full.stun.begin())) << *record->text("stun");
  const size_t dropped = full.turn.size() - kept.turn.size() + full.stun.size() - kept.stun.size();
  EXPECT_GT(dropped, 0u) << "the full advert fits: the test no longer exercises dropping";
  // No more than needed: putting back the next dropped URI of one of the lists (the one dropped last) no
  // longer fits, i.e. signFitting has to drop something from it again.
  const auto fitsWhole = [&](const NodeAdvert& a) {
    auto r = signFitting(a, 1, k);
    return r.ok() && split(*r->text("turn")).size() == a.turn.size() && split(*r->text("stun")).size() == a.stun.size();
  };
  bool someDoesNotFit = false;
  for (bool turnList : {true, false}) {
    const auto& all = turnList ? full.turn : full.stun;
    NodeAdvert oneMore = kept;
    auto& list = turnList ? oneMore.turn : oneMore.stun;
    if (list.size() < all.size()) {
      list.push_back(all[list.size()]);
      if (!fitsWhole(oneMore)) someDoesNotFit = true;
    }
  }
  EXPECT_TRUE(someDoesNotFit) << "one more URI would still have fitted: signFitting dropped more than it needed";
}

TEST(NodeRecord, SeqIsStoredAndRisesOnlyWhenTheContentChanges) {
  TempDb tmp;
  const auto k = key();
  NodeServices s{{ep("127.0.0.1:3478")}, {}, ep("127.0.0.1:8080"), {}};
  {
    auto db = tmp.open();
    auto first = publishNodeRecord(db, describeServices(s), k);
    ASSERT_TRUE(first.ok()) << first.error();
    EXPECT_EQ(first->seq(), 1u);
  }
  {
    auto db = tmp.open();  // a restart with the same services: same record
    auto again = publishNodeRecord(db, describeServices(s), k);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->seq(), 1u);
  }
  s.http = ep("127.0.0.1:8081");
  auto db = tmp.open();
  auto changed = publishNodeRecord(db, describeServices(s), k);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->seq(), 2u);
  EXPECT_EQ(*changed->text("api"), "http://127.0.0.1:8081");
  auto otherKey = publishNodeRecord(db, describeServices(s), key());  // a replaced node key
  ASSERT_TRUE(otherKey.ok());
  EXPECT_EQ(otherKey->seq(), 3u);
}

}  // namespace
}  // namespace rdv::node
