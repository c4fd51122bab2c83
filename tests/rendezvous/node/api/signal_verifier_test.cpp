// The signalling verifier pool with real threads and real signatures: every frame is reported, each
// connection's results come back in arrival order, and a connection with a long backlog does not keep
// another connection's frame behind all of it (round-robin by connection).
#include "rendezvous/node/api/signal_verifier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>

#include "rendezvous/identity/private_key.h"
#include "signalling/envelope/crypto.h"
#include "signalling/envelope/envelope.h"

namespace rdv::node {
namespace {

namespace sig = signalling;

std::string envelopeFrame(const identity::PrivateKey& from, const identity::PublicKey& to, uint64_t seq,
                          sig::Rng& rng) {
  sig::EnvelopeHeader h{from.nodeId(), to.nodeId(), sig::EnvelopeType::Message, seq, 1'700'000'000'000};
  return sig::encodeFrame(sig::EnvelopeFrame{*sig::seal(from, to, h, asBytes(std::string("x")), rng)});
}

struct Collector {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<SignalVerifierPool::Done> done;
  size_t woken = 0;
};

TEST(SignalVerifierPool, ResultsKeepEachConnectionsOrderAndTakeTurns) {
  sig::CryptoRng rng;
  const auto a = *identity::PrivateKey::generate();
  const auto b = *identity::PrivateKey::generate();
  Collector got;
  std::unique_ptr<SignalVerifierPool> pool;
  // The wake callback may still run on a worker while pool.reset() destroys the pool (the destructor
  // joins the workers first): it uses this pointer, which reset() does not null.
  SignalVerifierPool* raw = nullptr;
  pool = std::make_unique<SignalVerifierPool>(2, [&] {
    std::lock_guard lock(got.mutex);
    for (auto& d : raw->takeDone()) got.done.push_back(std::move(d));
    got.cv.notify_all();
  });
  raw = pool.get();
  sig::FrameCheckContext context;
  context.hubId = a.nodeId();
  context.maxFrameBytes = 1 << 20;
  constexpr uint64_t kFlood = 400;
  std::vector<std::string> flood;  // sealed first: queued faster than the pool can check them
  for (uint64_t seq = 1; seq <= kFlood; ++seq) flood.push_back(envelopeFrame(a, b.publicKey(), seq, rng));
  std::string bad = envelopeFrame(b, a.publicKey(), 1, rng);
  char& digit = bad[bad.find("\"sig\":\"") + 8];
  digit = digit == '0' ? '1' : '0';  // one hex digit of the signature changed
  for (auto& text : flood) pool->submit(1, std::move(text), context);
  size_t doneAtB = 0;  // on a loaded machine the pool may have checked many of the flood by now
  {
    std::lock_guard lock(got.mutex);
    doneAtB = got.done.size();
  }
  pool->submit(2, bad, context);
  {
    std::unique_lock lock(got.mutex);
    ASSERT_TRUE(got.cv.wait_for(lock, std::chrono::seconds(60), [&] { return got.done.size() == kFlood + 1; }));
  }
  uint64_t expectSeq = 1;
  size_t positionOfB = 0;
  for (size_t i = 0; i < got.done.size(); ++i) {
    auto& d = got.done[i];
    ASSERT_TRUE(d.checked.frame.ok());
    const auto& e = std::get<sig::EnvelopeFrame>(*d.checked.frame).envelope;
    EXPECT_TRUE(d.checked.envelopeChecked);
    if (d.conn == 1) {
      EXPECT_EQ(e.header.seq, expectSeq++) << "connection 1's results in its order";
      EXPECT_FALSE(d.checked.envelopeError.has_value());
    } else {
      positionOfB = i;
      EXPECT_TRUE(d.checked.envelopeError.has_value()) << "the changed signature is refused";
    }
  }
  EXPECT_EQ(expectSeq, kFlood + 1);
  // Submitted after 400 frames of connection 1, connection 2's frame is checked within the next few
  // (turns between connections), not after connection 1's queue drains. Slack: results already checked
  // but not yet handed over when B was submitted.
  EXPECT_LT(positionOfB, doneAtB + 8u + 2u) << "done when B was submitted: " << doneAtB;
  pool.reset();
}

}  // namespace
}  // namespace rdv::node
