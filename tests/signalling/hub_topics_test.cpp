// Topics on the hub core with a fake clock: fan-out in order, retained history (count, TTL, bytes),
// rate limits per publisher and per topic, the topic and subscription limits, restricted topics and
// their members records, signatures, and frames before authentication.
#include <gtest/gtest.h>

#include "tests/signalling/hub_harness.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;
using namespace test;

class HubTopicsTest : public ::testing::Test {
 protected:
  HubTopicsTest() : h_(makeConfig(), store_) {}
  static HubConfig makeConfig() {
    HubConfig c;
    c.hubId = PrivateKey::generate()->nodeId();
    c.framesPerSecond = 10000;
    c.frameBurst = 10000;
    c.topics.historyMessages = 3;
    c.topics.historyTtl = 60s;
    c.topics.maxTopics = 4;
    c.topics.subscriptionsPerConnection = 3;
    c.topics.publishPerSecond = 5;
    c.topics.publishBurst = 5;
    c.topics.topicPerSecond = 8;
    c.topics.topicBurst = 8;
    c.topics.maxBodyBytes = 64;
    return c;
  }

  std::vector<HubCommand> frame(const Client& c, const Frame& f) {
    h_.hub().handleFrame(c.conn, encodeFrame(f), h_.now);
    return h_.drain();
  }
  Publication pub(Client& from, const std::string& topic, const std::string& body) {
    Publication p;
    p.topic = topic;
    p.seq = ++from.seq;
    p.timestampMs = 1700000000000ull + p.seq;
    p.body = Bytes(body.begin(), body.end());
    return *signPublication(from.key, p);
  }
  std::vector<HubCommand> publish(Client& from, const std::string& topic, const std::string& body) {
    return frame(from, PublishFrame{pub(from, topic, body)});
  }
  static std::vector<std::string> bodies(const std::vector<HubCommand>& cmds, const Client& c) {
    std::vector<std::string> out;
    for (const auto& p : only<PublishFrame>(framesTo(cmds, c.conn))) {
      EXPECT_TRUE(verifyPublication(p.publication));  // a recipient can check it again
      out.emplace_back(p.publication.body.begin(), p.publication.body.end());
    }
    return out;
  }
  static std::vector<std::string> errorCodes(const std::vector<HubCommand>& cmds, const Client& c) {
    std::vector<std::string> out;
    for (const auto& e : only<ErrorFrame>(framesTo(cmds, c.conn))) out.push_back(e.code);
    return out;
  }

  MemoryMailboxStore store_;
  HubHarness h_;
  Client pub_{1, *PrivateKey::generate()};
  Client a_{2, *PrivateKey::generate()};
  Client b_{3, *PrivateKey::generate()};
  Client c_{4, *PrivateKey::generate()};
};

TEST_F(HubTopicsTest, ThreeSubscribersReceiveEveryPublishInOrder) {
  for (Client* c : {&pub_, &a_, &b_, &c_}) h_.login(*c);
  for (Client* c : {&a_, &b_, &c_}) {
    auto sub = only<SubscribedFrame>(framesTo(frame(*c, SubscribeFrame{"raiden.pfs"}), c->conn));
    ASSERT_EQ(sub.size(), 1u);
    EXPECT_EQ(sub[0], (SubscribedFrame{"raiden.pfs", 0}));
  }
  std::vector<HubCommand> all;
  for (const char* body : {"one", "two", "three"}) {
    auto cmds = publish(pub_, "raiden.pfs", body);
    auto acks = only<PublishedFrame>(framesTo(cmds, pub_.conn));
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0].subscribers, 3u);
    all.insert(all.end(), cmds.begin(), cmds.end());
  }
  for (Client* c : {&a_, &b_, &c_}) EXPECT_EQ(bodies(all, *c), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_TRUE(bodies(all, pub_).empty());  // not subscribed
  EXPECT_EQ(h_.hub().topics().stats().fannedOut, 9u);
  // Topic frames are marked so the I/O layer counts the ones a full queue drops.
  for (const auto& cmd : all)
    if (auto* s = std::get_if<SendFrame>(&cmd); s && s->conn != pub_.conn) {
      EXPECT_TRUE(s->topic);
    }
}

TEST_F(HubTopicsTest, LateSubscriberGetsTheRetainedHistoryThenLiveMessages) {
  h_.login(pub_);
  h_.login(a_);
  for (const char* body : {"m1", "m2", "m3", "m4"}) publish(pub_, "events", body);
  auto cmds = frame(a_, SubscribeFrame{"events"});
  auto sub = only<SubscribedFrame>(framesTo(cmds, a_.conn));
  ASSERT_EQ(sub.size(), 1u);
  EXPECT_EQ(sub[0].history, 3u);  // the last N = 3
  EXPECT_EQ(bodies(cmds, a_), (std::vector<std::string>{"m2", "m3", "m4"}));
  EXPECT_EQ(bodies(publish(pub_, "events", "m5"), a_), (std::vector<std::string>{"m5"}));
}

TEST_F(HubTopicsTest, RetainedMessagesExpireAtTheTtl) {
  h_.login(pub_);
  h_.login(a_);
  publish(pub_, "events", "old");
  h_.advance(30s);
  publish(pub_, "events", "newer");
  ASSERT_TRUE(h_.hub().nextDeadline().has_value());
  h_.advance(31s);  // "old" is 61 s old, "newer" 31 s
  h_.hub().handleTimeout(h_.now);
  EXPECT_EQ(h_.hub().topics().stats().historyExpired, 1u);
  EXPECT_EQ(bodies(frame(a_, SubscribeFrame{"events"}), a_), (std::vector<std::string>{"newer"}));
  h_.advance(30s);
  h_.hub().handleTimeout(h_.now);
  EXPECT_EQ(h_.hub().topics().historyBytes(), 0u);
}

TEST_F(HubTopicsTest, HistoryBytesAreBoundedOldestFirst) {
  HubConfig config = makeConfig();
  config.topics.historyBytes = 800;  // about three publish frames of these sizes
  config.topics.maxTopics = 100;
  MemoryMailboxStore store;
  HubHarness h(config, store);
  h.login(pub_);
  for (int i = 0; i < 4; ++i) {
    h.hub().handleFrame(pub_.conn, encodeFrame(PublishFrame{pub(pub_, "t" + std::to_string(i), "x")}), h.now);
    h.drain();
  }
  EXPECT_LE(h.hub().topics().historyBytes(), 800u);
  EXPECT_GE(h.hub().topics().stats().historyEvicted, 1u);
  h.login(a_);
  h.hub().handleFrame(a_.conn, encodeFrame(SubscribeFrame{"t0"}), h.now);  // the oldest: evicted
  EXPECT_TRUE(bodies(h.drain(), a_).empty());
  h.hub().handleFrame(a_.conn, encodeFrame(SubscribeFrame{"t3"}), h.now);
  EXPECT_EQ(bodies(h.drain(), a_), (std::vector<std::string>{"x"}));
}

TEST_F(HubTopicsTest, PublisherOverItsRateIsRefusedWithAnErrorFrame) {
  h_.login(pub_);
  h_.login(a_);
  frame(a_, SubscribeFrame{"fast"});
  size_t accepted = 0;
  std::vector<ErrorFrame> errors;
  for (int i = 0; i < 7; ++i) {
    auto cmds = publish(pub_, "fast", "m");
    accepted += only<PublishedFrame>(framesTo(cmds, pub_.conn)).size();
    for (auto& e : only<ErrorFrame>(framesTo(cmds, pub_.conn))) errors.push_back(e);
  }
  EXPECT_EQ(accepted, 5u);  // the burst
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].code, "publish-rate-limited");
  EXPECT_EQ(errors[0].topic, "fast");
  EXPECT_EQ(errors[0].seq, 6u);
  EXPECT_EQ(h_.hub().topics().stats().rateLimited, 2u);
  h_.advance(1s);  // refilled at 5/s
  EXPECT_EQ(only<PublishedFrame>(framesTo(publish(pub_, "fast", "m"), pub_.conn)).size(), 1u);
}

TEST_F(HubTopicsTest, TopicRateBoundsAllPublishersTogether) {
  for (Client* c : {&pub_, &a_}) h_.login(*c);
  size_t accepted = 0;
  for (int i = 0; i < 5; ++i)
    for (Client* c : {&pub_, &a_}) accepted += only<PublishedFrame>(framesTo(publish(*c, "shared", "m"), c->conn)).size();
  EXPECT_EQ(accepted, 8u);  // the topic's burst, though each publisher has 5
  EXPECT_EQ(h_.hub().topics().stats().topicRateLimited, 2u);
}

TEST_F(HubTopicsTest, SubscriptionTopicAndSizeLimits) {
  h_.login(a_);
  for (const char* t : {"t1", "t2", "t3"}) EXPECT_TRUE(errorCodes(frame(a_, SubscribeFrame{t}), a_).empty());
  EXPECT_EQ(errorCodes(frame(a_, SubscribeFrame{"t4"}), a_), (std::vector<std::string>{"subscription-limit"}));
  h_.login(b_);
  EXPECT_TRUE(errorCodes(frame(b_, SubscribeFrame{"t4"}), b_).empty());  // the 4th topic
  EXPECT_EQ(errorCodes(frame(b_, SubscribeFrame{"t5"}), b_), (std::vector<std::string>{"topic-limit"}));
  frame(a_, UnsubscribeFrame{"t1"});  // t1 is idle now and forgotten
  EXPECT_EQ(h_.hub().topics().topics(), 3u);
  EXPECT_TRUE(errorCodes(frame(b_, SubscribeFrame{"t5"}), b_).empty());
  EXPECT_EQ(errorCodes(publish(b_, "t5", std::string(65, 'x')), b_),
            (std::vector<std::string>{"topic-message-too-large"}));
  h_.hub().disconnected(a_.conn);
  EXPECT_EQ(h_.hub().topics().topics(), 2u);  // t4, t5 (b); a's t2, t3 went with it
}

TEST_F(HubTopicsTest, RetainingTopicsNobodyReadsMakeRoomForNewOnes) {
  h_.login(pub_);
  for (const char* t : {"r1", "r2", "r3", "r4"}) publish(pub_, t, "kept");
  EXPECT_EQ(h_.hub().topics().topics(), 4u);
  h_.login(a_);
  EXPECT_TRUE(errorCodes(frame(a_, SubscribeFrame{"fresh"}), a_).empty());  // r1 made room
  EXPECT_TRUE(bodies(frame(a_, SubscribeFrame{"r1"}), a_).empty());
}

TEST_F(HubTopicsTest, SignaturesAndPublisherBindingAreChecked) {
  h_.login(pub_);
  h_.login(a_);
  frame(a_, SubscribeFrame{"t"});
  Publication p = pub(pub_, "t", "hello");
  p.body[0] ^= 1;
  EXPECT_EQ(errorCodes(frame(pub_, PublishFrame{p}), pub_), (std::vector<std::string>{"bad-signature"}));
  Publication other = pub(a_, "t", "as someone else");
  EXPECT_EQ(errorCodes(frame(pub_, PublishFrame{other}), pub_), (std::vector<std::string>{"spoofed-sender"}));
  EXPECT_EQ(h_.hub().topics().stats().published, 0u);
}

TEST_F(HubTopicsTest, TopicFramesNeedAuthentication) {
  h_.connect(a_.conn);
  EXPECT_EQ(errorCodes(frame(a_, SubscribeFrame{"t"}), a_), (std::vector<std::string>{"not-authenticated"}));
  EXPECT_EQ(errorCodes(frame(a_, WatchFrame{{b_.key.nodeId()}}), a_), (std::vector<std::string>{"not-authenticated"}));
  // Hub-only frames from a client are refused.
  h_.login(b_);
  EXPECT_EQ(errorCodes(frame(b_, SubscribedFrame{"t", 0}), b_), (std::vector<std::string>{"unexpected-frame"}));
}

TEST_F(HubTopicsTest, RestrictedTopicAdmitsOnlyItsOwnerAndListedMembers) {
  Client& owner = pub_;
  for (Client* c : {&owner, &a_, &b_}) h_.login(*c);
  const std::string topic = owner.key.nodeId().hex() + "/channel";
  // Before any record: the owner only.
  EXPECT_EQ(errorCodes(frame(a_, SubscribeFrame{topic}), a_), (std::vector<std::string>{"not-a-member"}));
  MembersRecord r{topic, {}, {a_.key.nodeId()}, 1, {}};
  auto signedRecord = *signMembers(owner.key, r);
  EXPECT_TRUE(errorCodes(frame(b_, TopicMembersFrame{signedRecord}), b_).empty());  // anyone may carry it
  EXPECT_TRUE(errorCodes(frame(a_, SubscribeFrame{topic}), a_).empty());
  EXPECT_EQ(errorCodes(frame(b_, SubscribeFrame{topic}), b_), (std::vector<std::string>{"not-a-member"}));
  EXPECT_EQ(errorCodes(publish(b_, topic, "outsider"), b_), (std::vector<std::string>{"not-a-member"}));
  EXPECT_EQ(bodies(publish(owner, topic, "hi members"), a_), (std::vector<std::string>{"hi members"}));
  EXPECT_EQ(h_.hub().topics().stats().notMember, 3u);
  // Not the owner's signature, or a replayed older record: refused.
  auto forged = *signMembers(b_.key, MembersRecord{topic, {}, {b_.key.nodeId()}, 2, {}});
  EXPECT_EQ(errorCodes(frame(b_, TopicMembersFrame{forged}), b_), (std::vector<std::string>{"bad-members-record"}));
  EXPECT_EQ(errorCodes(frame(b_, TopicMembersFrame{signedRecord}), b_), (std::vector<std::string>{"stale-members"}));
  // A newer record that drops a member unsubscribes it.
  auto cmds = frame(owner, TopicMembersFrame{*signMembers(owner.key, MembersRecord{topic, {}, {}, 2, {}})});
  EXPECT_EQ(errorCodes(cmds, a_), (std::vector<std::string>{"not-a-member"}));
  EXPECT_TRUE(bodies(publish(owner, topic, "after"), a_).empty());
}

TEST(Publication, DigestBindsEveryField) {
  auto key = *PrivateKey::generate();
  Publication p{{}, "topic", 7, 1700000000000ull, Bytes{1, 2, 3}, {}};
  auto s = *signPublication(key, p);
  EXPECT_TRUE(verifyPublication(s));
  for (int field = 0; field < 4; ++field) {
    Publication t = s;
    if (field == 0) t.topic = "topid";
    if (field == 1) t.seq = 8;
    if (field == 2) t.timestampMs += 1;
    if (field == 3) t.body.push_back(0);
    EXPECT_FALSE(verifyPublication(t)) << field;
  }
  EXPECT_EQ(topicOwner(key.nodeId().hex() + "/x"), key.nodeId());
  EXPECT_FALSE(topicOwner("raiden.pfs").has_value());
  EXPECT_FALSE(topicOwner(key.nodeId().hex()).has_value());
  EXPECT_FALSE(validTopic(""));
  EXPECT_FALSE(validTopic(std::string(256, 'a')));
}

}  // namespace
}  // namespace rdv::signalling
