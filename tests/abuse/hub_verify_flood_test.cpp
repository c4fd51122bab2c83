// A flood of signed envelopes from one client (issue 12, item 3): every one costs the node a
// secp256k1 recovery. The verifier pool takes connections in turn and stops reading a connection
// with a backlog, so another client's envelope still arrives promptly while the flood runs.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/abuse/honest_client.h"
#include "tests/abuse/hub_ws_client.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

using abuse::WsClient;
using Clock = std::chrono::steady_clock;

// 127.0.0.90 sends 20,000 signed envelopes as fast as TCP takes them (rate limit lifted to make the
// signatures the bottleneck) while reading its answers; meanwhile an honest sender's envelope reaches a
// running `rdv inbox` within 5 s. Bound: RSS grows by less than 64 MiB.
TEST(HubAbuse, SignedEnvelopeFloodDoesNotStallOtherClients) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--signal-rate", "1000000", "--signal-burst", "1000000",
             "--signal-verify-threads", "2"});
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  signalling::CryptoRng rng;
  const auto flooderKey = identity::PrivateKey::generate().value();
  const auto target = identity::PrivateKey::generate().value();
  WsClient flooder;
  ASSERT_TRUE(flooder.open("127.0.0.90", node.http()));
  ASSERT_TRUE(flooder.authenticate(flooderKey, Clock::now() + 10s));
  std::vector<std::string> frames;
  for (uint64_t seq = 1; seq <= 64; ++seq) frames.push_back(abuse::envelopeText(flooderKey, target.publicKey(), seq, "x", rng));
  constexpr int kFlood = 20000;
  std::atomic<int> answers{0};
  std::atomic<bool> sending{true};
  std::thread reader([&] {
    while (answers.load() < kFlood && flooder.receive(Clock::now() + 30s)) answers.fetch_add(1);
  });
  const auto floodStart = Clock::now();
  std::thread writer([&] {
    for (int i = 0; i < kFlood && flooder.isOpen(); ++i)
      if (!flooder.sendText(frames[static_cast<size_t>(i) % frames.size()])) break;
    sending = false;
  });
  ASSERT_TRUE(waitUntil([&] { return answers.load() >= 500; }, 30s)) << "the flood is being processed";

  const std::string url = "http://" + node.http();
  Peer alice = makePeer(dir, "flood-alice"), bob = makePeer(dir, "flood-bob");
  Process inbox({binary("rdv"), "inbox", "--node", url, "--key", bob.key, "--count", "1", "--timeout", "30"},
                dir.file("flood-inbox.log"));
  ASSERT_TRUE(waitUntil([&] { return inbox.log().find("listening as") != std::string::npos; }, 15s)) << inbox.log();
  const int answersBefore = answers.load();
  const auto t0 = Clock::now();
  auto sent = run({binary("rdv"), "send", "--node", url, "--key", alice.key, "--to", bob.enr, "through the flood"}, 20s);
  ASSERT_EQ(sent.exitCode, 0) << sent.err;
  ASSERT_TRUE(waitUntil([&] { return !inbox.running(); }, 20s));
  const auto took = Clock::now() - t0;
  EXPECT_NE(inbox.log().find("through the flood"), std::string::npos) << inbox.log();
  const bool floodStillRunning = answers.load() < kFlood;
  writer.join();
  reader.join();
  const auto floodTook = Clock::now() - floodStart;
  std::cout << "[ measured ] honest envelope during the flood: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms (flood answers "
            << answersBefore << " before, " << answers.load() << " of " << kFlood << " in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(floodTook).count() << " ms"
            << (floodStillRunning ? ", still running when it arrived" : "") << ")\n";
  EXPECT_LT(took, 5s);
  EXPECT_GT(answers.load(), 500);
  abuse::expectHonestClientServed(node, dir, "verify-flood");
  const long rssAfter = node.process().rssKiB();
  std::cout << "[ measured ] RSS " << rssBefore << " KiB -> " << rssAfter << " KiB\n";
  EXPECT_LT(rssAfter - rssBefore, 64 * 1024);
}

}  // namespace
}  // namespace rdv::test
