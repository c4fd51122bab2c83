// NAT behaviour discovery driven against an in-memory NAT and our own Binding responder, with a fake clock.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

#include "stun/binding.h"
#include "stun/nat_behaviour.h"
#include "tests/stun/test_util.h"

namespace rdv::stun {
namespace {

using namespace std::chrono_literals;
using test::ep;

const Endpoint kServer = ep("192.0.2.1:3478");
const Endpoint kLocal = ep("10.0.0.2:5000");

// One NAT in front of kLocal with an RFC 4787 mapping and filtering behaviour.
struct FakeNat {
  NatBehaviour mapping = NatBehaviour::EndpointIndependent;
  NatBehaviour filtering = NatBehaviour::EndpointIndependent;
  std::map<std::string, uint16_t> ports;
  std::set<Endpoint> contacted;

  Endpoint mapOutbound(const Endpoint& to) {
    contacted.insert(to);
    std::string key;
    if (mapping == NatBehaviour::AddressDependent) key = to.ip().toString();
    if (mapping == NatBehaviour::AddressAndPortDependent) key = to.toString();
    auto [it, inserted] = ports.try_emplace(key, static_cast<uint16_t>(40000 + ports.size()));
    return Endpoint(*IpAddress::parse("198.51.100.7"), it->second);
  }
  bool admits(const Endpoint& from) const {
    if (filtering == NatBehaviour::EndpointIndependent) return true;
    for (const Endpoint& c : contacted) {
      if (c.ip() == from.ip() && (filtering == NatBehaviour::AddressDependent || c.port() == from.port())) return true;
    }
    return false;
  }
};

struct Lab {
  FakeNat nat;
  BindingConfig server;
  bool serverUp = true;
  bool ignoreChangeRequest = false;
  int dropFirst = 0;  // requests to drop before the server sees them
  bool noNat = false;
  TimePoint now{};

  Lab() { server.rfc5780 = AlternateAddresses{kServer.ip(), *IpAddress::parse("192.0.2.2"), 3478, 3479}; }

  struct Delivery {
    Bytes bytes;
    Endpoint from;
  };

  std::optional<Delivery> serve(const Outgoing& out) {
    if (!serverUp) return std::nullopt;
    if (dropFirst > 0) {
      --dropFirst;
      return std::nullopt;
    }
    const Endpoint mapped = noNat ? kLocal : nat.mapOutbound(out.to);
    auto m = MessageView::parse(out.bytes);
    if (!m) return std::nullopt;
    auto reply = handleBinding(*m, BindingRequestContext{mapped, out.to, false}, server);
    if (!reply) return std::nullopt;
    if (ignoreChangeRequest) reply->from = out.to;
    if (!noNat && !nat.admits(reply->from)) return std::nullopt;
    return Delivery{reply->bytes, reply->from};
  }

  NatBehaviourResult run(NatBehaviourConfig config = {}) {
    uint8_t seed = 0;
    config.newTransactionId = [&seed] { return test::tidOf(++seed); };
    NatBehaviourDiscovery d(kServer, config);
    std::deque<Delivery> inbox;
    for (int guard = 0; guard < 1000 && !d.done(); ++guard) {
      while (auto out = d.poll(now)) {
        if (auto r = serve(*out)) inbox.push_back(*r);
      }
      if (d.done()) break;
      if (!inbox.empty()) {
        d.onDatagram(inbox.front().bytes, inbox.front().from, now);
        inbox.pop_front();
        continue;
      }
      auto deadline = d.nextDeadline();
      EXPECT_TRUE(deadline);
      if (!deadline) break;
      EXPECT_GE(*deadline, now);
      now = *deadline;
    }
    EXPECT_TRUE(d.done());
    return d.result();
  }
};

NatBehaviourConfig fast() {
  NatBehaviourConfig c;
  c.retransmit.rto = 10ms;
  c.retransmit.maxTransmissions = 3;
  c.retransmit.lastWaitFactor = 4;
  return c;
}

class NatMatrix : public ::testing::TestWithParam<std::tuple<NatBehaviour, NatBehaviour>> {};

TEST_P(NatMatrix, ClassifiesEveryCombination) {
  Lab lab;
  lab.nat.mapping = std::get<0>(GetParam());
  lab.nat.filtering = std::get<1>(GetParam());
  const NatBehaviourResult r = lab.run(fast());
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.mapping, lab.nat.mapping) << toString(r.mapping);
  EXPECT_EQ(r.filtering, lab.nat.filtering) << toString(r.filtering);
  EXPECT_TRUE(r.behindNat);
  EXPECT_EQ(r.otherAddress, ep("192.0.2.2:3479"));
  const size_t expectedMapped = lab.nat.mapping == NatBehaviour::EndpointIndependent ? 2 : 3;
  EXPECT_EQ(r.mappedAddresses.size(), expectedMapped);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc5780, NatMatrix,
    ::testing::Combine(::testing::Values(NatBehaviour::EndpointIndependent, NatBehaviour::AddressDependent,
                                         NatBehaviour::AddressAndPortDependent),
                       ::testing::Values(NatBehaviour::EndpointIndependent, NatBehaviour::AddressDependent,
                                         NatBehaviour::AddressAndPortDependent)));

TEST(NatBehaviour, ServerWithoutRfc5780) {
  Lab lab;
  lab.server.rfc5780.reset();
  const NatBehaviourResult r = lab.run(fast());
  EXPECT_NE(r.error.find("RFC 5780"), std::string::npos) << r.error;
  EXPECT_EQ(r.mapping, NatBehaviour::Unknown);
  EXPECT_EQ(r.filtering, NatBehaviour::Unknown);
  EXPECT_EQ(r.mappedAddresses.size(), 1u);
}

TEST(NatBehaviour, ServerUnreachableTimesOutAfterFullSchedule) {
  Lab lab;
  lab.serverUp = false;
  const NatBehaviourResult r = lab.run();  // default RFC 8489 timers
  EXPECT_NE(r.error.find("no response"), std::string::npos) << r.error;
  EXPECT_EQ(lab.now - TimePoint{}, 39500ms);
}

TEST(NatBehaviour, RetransmissionRecoversFromLoss) {
  Lab lab;
  lab.dropFirst = 2;
  const NatBehaviourResult r = lab.run(fast());
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.mapping, NatBehaviour::EndpointIndependent);
  EXPECT_EQ(r.filtering, NatBehaviour::EndpointIndependent);
}

TEST(NatBehaviour, FilteringTimeoutsFollowTheSchedule) {
  Lab lab;
  lab.nat.filtering = NatBehaviour::AddressAndPortDependent;
  NatBehaviourConfig c = fast();
  c.testMapping = false;
  const NatBehaviourResult r = lab.run(c);
  EXPECT_EQ(r.filtering, NatBehaviour::AddressAndPortDependent);
  EXPECT_EQ(r.mapping, NatBehaviour::Unknown);
  // Two unanswered tests: each lasts 10 + 20 + 4 x 10 = 70 ms.
  EXPECT_EQ(lab.now - TimePoint{}, 140ms);
}

// The CLI's default schedule: an unanswered transaction gives up after (1 + 2 + 4 + 3) x 100 ms = 1 s,
// so a discovery (at most 5 transactions) cannot take longer than 5 s.
TEST(NatBehaviour, QuickScheduleGivesUpOnATransactionAfterOneSecond) {
  Lab lab;
  lab.serverUp = false;
  NatBehaviourConfig c;
  c.retransmit = quickNatRetransmit();
  const NatBehaviourResult r = lab.run(c);
  EXPECT_NE(r.error.find("no response"), std::string::npos) << r.error;
  EXPECT_EQ(lab.now - TimePoint{}, 1000ms);
}

TEST(NatBehaviour, QuickScheduleClassifiesEveryNatWithinFiveSeconds) {
  for (auto mapping : {NatBehaviour::EndpointIndependent, NatBehaviour::AddressDependent,
                       NatBehaviour::AddressAndPortDependent}) {
    for (auto filtering : {NatBehaviour::EndpointIndependent, NatBehaviour::AddressDependent,
                           NatBehaviour::AddressAndPortDependent}) {
      Lab lab;
      lab.nat.mapping = mapping;
      lab.nat.filtering = filtering;
      lab.dropFirst = 1;  // one lost request as well
      NatBehaviourConfig c;
      c.retransmit = quickNatRetransmit();
      std::vector<std::string> lines;
      c.onProgress = [&lines](std::string_view line) { lines.emplace_back(line); };
      const NatBehaviourResult r = lab.run(c);
      const std::string what = std::string(toString(mapping)) + "/" + std::string(toString(filtering));
      EXPECT_EQ(r.error, "") << what;
      EXPECT_EQ(r.mapping, mapping) << what;
      EXPECT_EQ(r.filtering, filtering) << what;
      EXPECT_LE(lab.now - TimePoint{}, 5000ms) << what;
      // A start and an end line for every test run.
      ASSERT_GE(lines.size(), 6u) << what;
      EXPECT_EQ(lines.front().rfind("test I ", 0), 0u) << lines.front();
      const bool timedOut = filtering != NatBehaviour::EndpointIndependent;
      bool sawNoAnswer = false;
      for (const auto& l : lines) sawNoAnswer |= l.find("no answer") != std::string::npos;
      EXPECT_EQ(sawNoAnswer, timedOut) << what;
    }
  }
}

TEST(NatBehaviour, NoNatDetected) {
  Lab lab;
  lab.noNat = true;
  NatBehaviourConfig c = fast();
  c.localAddress = kLocal;
  const NatBehaviourResult r = lab.run(c);
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.behindNat);
  EXPECT_EQ(r.mapping, NatBehaviour::EndpointIndependent);
  EXPECT_EQ(r.filtering, NatBehaviour::EndpointIndependent);
  EXPECT_EQ(r.mappedAddresses, std::vector<Endpoint>{kLocal});
}

TEST(NatBehaviour, ServerIgnoringChangeRequestIsAnError) {
  Lab lab;
  lab.ignoreChangeRequest = true;
  NatBehaviourConfig c = fast();
  c.testMapping = false;
  const NatBehaviourResult r = lab.run(c);
  EXPECT_NE(r.error.find("CHANGE-REQUEST"), std::string::npos) << r.error;
  EXPECT_EQ(r.filtering, NatBehaviour::Unknown);
}

TEST(NatBehaviour, MappingOnly) {
  Lab lab;
  lab.nat.mapping = NatBehaviour::AddressAndPortDependent;
  NatBehaviourConfig c = fast();
  c.testFiltering = false;
  const NatBehaviourResult r = lab.run(c);
  EXPECT_EQ(r.mapping, NatBehaviour::AddressAndPortDependent);
  EXPECT_EQ(r.filtering, NatBehaviour::Unknown);
  EXPECT_EQ(lab.now - TimePoint{}, 0ms);  // every test answered at once
}

TEST(NatBehaviour, Names) {
  EXPECT_EQ(toString(NatBehaviour::AddressDependent), "address-dependent");
}

}  // namespace
}  // namespace rdv::stun
