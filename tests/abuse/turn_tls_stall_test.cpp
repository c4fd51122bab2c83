// One bad TLS client must not stall the others: a client with a live TURN-TLS allocation keeps
// refreshing and relaying (ChannelData both ways through a UDP peer) while attackers on other 127.x
// addresses open TLS connections to the same listener and break their handshakes: garbage and truncated
// ClientHellos, bytes that are not TLS, real handshakes aborted with a reset, and a client that refuses
// the node's certificate (the handshake fails on both ends, in the honest client's own thread, the way
// an app that tries a wrong CA before the right one does). Every round trip of the honest client is
// answered within its bound.
//
// Found with it: OpenSSL keeps one error queue per thread, and SSL_get_error() reports SSL_ERROR_SSL
// whenever that queue is not empty, whatever the call it is asked about did. An error left there by one
// connection (a failed certificate check on the client side; on the node, any OpenSSL call of the worker
// thread that failed without clearing it) made the next SSL_read of a healthy connection that simply had
// no data yet look like a fatal error: the client gave up reading ("stops answering"), the node would
// have closed the connection. Both sides now clear the queue before each TLS I/O call.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include "rendezvous/client/net.h"
#include "stun/channel_data.h"
#include "stun/integrity.h"
#include "stun/message.h"
#include "tests/abuse/abuse_support.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test::abuse {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kHonestBound = milliseconds(2000);  // one request/answer or one relayed round trip
constexpr auto kAttackDuration = std::chrono::seconds(8);
constexpr long kRssBoundKiB = 32 * 1024;

// A TURN client over one TLS connection (RFC 8656 over TLS, RFC 6062 framing: ChannelData padded).
class TurnTlsClient {
 public:
  TurnTlsClient(std::unique_ptr<cli::Stream> stream, std::string user, std::string password)
      : stream_(std::move(stream)), user_(std::move(user)), password_(std::move(password)) {}

  // A request and its answer (the 401 dance on the first one); nullopt when no answer came in time.
  std::optional<TurnAnswer> request(stun::Method method, const std::function<void(stun::MessageBuilder&)>& attrs) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      stun::TransactionId tid;
      ++counter_;
      for (int i = 0; i < 8; ++i) tid.bytes[i] = static_cast<uint8_t>(counter_ >> (8 * i));
      stun::MessageBuilder b(method, stun::Class::Request, tid);
      if (attrs) attrs(b);
      if (!nonce_.empty()) {
        b.addString(stun::attr::Username, user_).addString(stun::attr::Realm, realm_).addString(stun::attr::Nonce, nonce_);
        b.addMessageIntegrity(key_);
      }
      b.addFingerprint();
      if (!stream_->write(std::move(b).finish())) return std::nullopt;
      auto frame = nextStunAnswer(tid);
      if (!frame) return std::nullopt;
      TurnAnswer a;
      a.raw = std::move(*frame);
      a.message = *stun::MessageView::parse(a.raw);
      if (a.message->cls() == stun::Class::Success) {
        a.ok = true;
        return a;
      }
      a.error = a.message->errorCode() ? a.message->errorCode()->code : 0;
      if ((a.error != 401 && a.error != 438) || attempt > 0) return a;
      realm_ = std::string(a.message->string(stun::attr::Realm).value_or(""));
      nonce_ = std::string(a.message->string(stun::attr::Nonce).value_or(""));
      key_ = stun::longTermKey(user_, realm_, password_);
    }
    return std::nullopt;
  }
  bool sendChannelData(uint16_t channel, ByteSpan data) {
    Bytes out;
    stun::appendChannelData(out, channel, data, true);
    return stream_->write(out);
  }
  // The next ChannelData payload on the connection (answers in between are skipped).
  std::optional<Bytes> receiveChannelData(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (auto frame = nextFrame(deadline)) {
      if (stun::classify(*frame) != stun::PacketKind::ChannelData) continue;
      auto cd = stun::parseChannelData(*frame);
      if (cd) return Bytes(cd->data.begin(), cd->data.end());
    }
    return std::nullopt;
  }

 private:
  std::optional<Bytes> nextStunAnswer(const stun::TransactionId& tid) {
    const auto deadline = Clock::now() + kHonestBound;
    while (auto frame = nextFrame(deadline)) {
      auto m = stun::MessageView::parse(*frame);
      if (m && m->transactionId() == tid) return frame;
    }
    return std::nullopt;
  }
  std::optional<Bytes> nextFrame(Clock::time_point deadline) {
    while (true) {
      auto f = stun::nextFrame(buffered_);
      if (!f) return std::nullopt;
      if (f->has_value()) {
        Bytes frame(buffered_.begin(), buffered_.begin() + static_cast<std::ptrdiff_t>((*f)->size));
        buffered_.erase(buffered_.begin(), buffered_.begin() + static_cast<std::ptrdiff_t>((*f)->size));
        return frame;
      }
      if (Clock::now() >= deadline) return std::nullopt;
      Bytes more = stream_->read(deadline);
      if (more.empty()) return std::nullopt;
      buffered_.insert(buffered_.end(), more.begin(), more.end());
    }
  }

  std::unique_ptr<cli::Stream> stream_;
  std::string user_, password_, realm_, nonce_;
  Bytes key_;
  uint64_t counter_ = 0;
  Bytes buffered_;
};

// A real TLS 1.3 ClientHello (OpenSSL's client over memory BIOs): what a browser or libnice would send.
Bytes realClientHello() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);
  Bytes hello(BIO_ctrl_pending(wbio));
  const int n = BIO_read(wbio, hello.data(), static_cast<int>(hello.size()));
  hello.resize(n > 0 ? static_cast<size_t>(n) : 0);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return hello;
}

void resetOnClose(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

// One broken handshake of kind `kind` from `source`.
void attackOnce(uint32_t source, const Endpoint& tls, int kind, const Bytes& hello, std::mt19937& rng) {
  const int fd = connectFrom(source, tls);
  if (fd < 0) return;
  Bytes bytes;
  switch (kind % 4) {
    case 0:  // a TLS record header announcing a ClientHello, then garbage
      bytes = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03};
      for (int i = 0; i < 500; ++i) bytes.push_back(static_cast<uint8_t>(rng()));
      break;
    case 1:  // not TLS at all
      for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<uint8_t>(rng()));
      bytes[0] = 0x80;
      break;
    case 2:  // a real ClientHello cut in half
      bytes.assign(hello.begin(), hello.begin() + static_cast<std::ptrdiff_t>(hello.size() / 2));
      break;
    default: {  // a real ClientHello, the node's answer read, then a bad record and a reset
      bytes = hello;
      break;
    }
  }
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (kind % 4 == 3) {
    closedByPeer(fd, milliseconds(100));  // reads (and drops) the node's ServerHello flight
    const uint8_t bad[] = {0x17, 0x03, 0x03, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    (void)::send(fd, bad, sizeof bad, MSG_NOSIGNAL);
  }
  if (kind % 2) resetOnClose(fd);
  close(fd);
}

TEST(TurnTlsStall, BrokenHandshakesDoNotStallAnOpenAllocation) {
  TempDir dir, otherCa;
  const TestCertificate cert = makeTestCertificate(dir);
  const TestCertificate wrong = makeTestCertificate(otherCa);
  Node node({"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert.cert, "--key", cert.key,
             "--workers", "1", "--user", "alice:wonderland", "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(node.started()) << node.log();
  const Endpoint tls = *Endpoint::parse(node.tls());

  cli::Stream::TlsOptions trust{cert.cert, "", false};
  auto stream = cli::Stream::connect(tls, std::chrono::seconds(10), &trust);
  ASSERT_TRUE(stream) << stream.error();
  TurnTlsClient honest(std::move(*stream), "alice", "wonderland");
  UdpSocket peer(loopback(9));
  ASSERT_TRUE(peer.ok());

  auto alloc = honest.request(stun::Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(stun::kTransportUdp); });
  ASSERT_TRUE(alloc && alloc->ok) << (alloc ? alloc->error : 0) << node.log();
  const auto relayed = alloc->message->xorAddress(stun::attr::XorRelayedAddress);
  ASSERT_TRUE(relayed);
  auto bound = honest.request(stun::Method::ChannelBind, [&](stun::MessageBuilder& b) {
    b.addChannelNumber(0x4000).addXorAddress(stun::attr::XorPeerAddress, peer.local());
  });
  ASSERT_TRUE(bound && bound->ok) << (bound ? bound->error : 0);

  RssWatch rss(node.process());
  std::atomic<bool> stop{false};
  std::atomic<int> attacks{0};
  std::vector<std::thread> attackers;
  const Bytes hello = realClientHello();
  ASSERT_GT(hello.size(), 100u);
  for (uint32_t t = 0; t < 3; ++t) {
    attackers.emplace_back([&, t] {
      std::mt19937 rng(t + 1);
      for (int i = 0; !stop.load(); ++i) {
        attackOnce(attackerAddress(t * 256 + static_cast<uint32_t>(i % 200) + 1), tls, i + static_cast<int>(t), hello, rng);
        attacks.fetch_add(1);
      }
    });
  }

  int rounds = 0, refused = 0;
  milliseconds worst{0};
  std::string failure;
  const auto end = Clock::now() + kAttackDuration;
  while (Clock::now() < end && failure.empty()) {
    // In this thread too: a client that does not trust the node's certificate.
    cli::Stream::TlsOptions distrust{wrong.cert, "", false};
    if (!cli::Stream::connect(tls, std::chrono::seconds(5), &distrust)) ++refused;

    const auto started = Clock::now();
    auto refreshed = honest.request(stun::Method::Refresh, [](stun::MessageBuilder& b) { b.addU32(stun::attr::Lifetime, 600); });
    if (!refreshed || !refreshed->ok) {
      failure = "refresh not answered in round " + std::to_string(rounds);
      break;
    }
    const Bytes out = {'r', 'o', 'u', 'n', 'd', static_cast<uint8_t>(rounds)};
    ASSERT_TRUE(honest.sendChannelData(0x4000, out));
    Endpoint from;
    auto atPeer = peer.receive(kHonestBound, &from);
    if (!atPeer || *atPeer != out) {
      failure = "client->peer data lost in round " + std::to_string(rounds);
      break;
    }
    ASSERT_TRUE(peer.sendTo(*relayed, out));
    auto back = honest.receiveChannelData(kHonestBound);
    if (!back || *back != out) {
      failure = "peer->client data lost in round " + std::to_string(rounds);
      break;
    }
    worst = std::max(worst, std::chrono::duration_cast<milliseconds>(Clock::now() - started));
    rss.sample();
    ++rounds;
  }
  stop = true;
  for (auto& t : attackers) t.join();
  EXPECT_TRUE(failure.empty()) << failure << " (after " << attacks.load() << " broken handshakes)\n" << node.log();
  EXPECT_GT(rounds, 5);
  EXPECT_GT(refused, 0);
  EXPECT_GT(attacks.load(), 50);
  EXPECT_LE(rss.growthKiB(), kRssBoundKiB);
  std::printf("rounds %d (worst %lld ms), broken handshakes %d, refused clients %d, RSS +%ld KiB\n", rounds,
              static_cast<long long>(worst.count()), attacks.load(), refused, rss.growthKiB());
}

}  // namespace
}  // namespace rdv::test::abuse
