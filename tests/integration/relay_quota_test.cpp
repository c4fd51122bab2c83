// Relay metering and quotas (issue 7) against the real rendezvousd: exact totals on SIGTERM, the limited
// class's data cap, a rate cap over many allocations, 486/508 at Allocate, SIGHUP reloads.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

// The node's JSON log lines with "event" == `event`.
Endpoint loopback(uint16_t port) { return Endpoint(*IpAddress::parse("127.0.0.1"), port); }

TEST(RelayMetering, SigtermEndsLiveAllocationsWithExactTotals) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "2", "--user", "alice:wonderland", "--allow-peer",
             "127.0.0.0/8", "--log-format", "json"});
  ASSERT_TRUE(node.started()) << node.log();
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  TurnTestClient client(loopback(node.udpPort()), "alice", "wonderland");
  ASSERT_TRUE(client.allocate().ok) << node.log();
  ASSERT_TRUE(client.bindChannel(0x4000, peer.local()).ok);
  // Known byte counts both ways; every datagram is confirmed received before the next is counted.
  uint64_t toPeer = 0, toClient = 0;
  Endpoint relayed;
  for (int i = 1; i <= 20; ++i) {
    const Bytes out(static_cast<size_t>(i * 10), 0x5a);
    ASSERT_TRUE(client.sendChannelData(0x4000, out));
    auto got = peer.receive(std::chrono::seconds(5), &relayed);
    ASSERT_TRUE(got && got->size() == out.size());
    toPeer += out.size();
    const Bytes back(static_cast<size_t>(i * 7), 0xa5);
    ASSERT_TRUE(peer.sendTo(relayed, back));
    auto echoed = client.receiveData(std::chrono::seconds(5));
    ASSERT_TRUE(echoed && echoed->size() == back.size());
    toClient += back.size();
  }
  const auto status = node.process().stop(SIGTERM);
  ASSERT_TRUE(status) << node.log();
  const auto ended = events(node.log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 1u) << node.log();
  EXPECT_EQ(ended[0].value("reason", ""), "shutdown");
  EXPECT_EQ(ended[0].value("bytes_to_peer", uint64_t{0}), toPeer);
  EXPECT_EQ(ended[0].value("bytes_to_client", uint64_t{0}), toClient);
  EXPECT_EQ(ended[0].value("packets_to_peer", uint64_t{0}), 20u);
  EXPECT_EQ(ended[0].value("packets_to_client", uint64_t{0}), 20u);
  EXPECT_EQ(ended[0].value("peers", 0), 1);
}

}  // namespace
}  // namespace rdv::test

namespace rdv::test {
namespace {

constexpr const char* kSecret = "quota-test-rest-secret";

// A peer on 127.0.0.1 that counts what it receives (with the kernel's arrival timestamps) and, if asked,
// echoes it back, on its own thread.
class CountingPeer {
 public:
  explicit CountingPeer(bool echo) : echo_(echo) {
    const int on = 1;
    setsockopt(socket_.fd(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    thread_ = std::thread([this] { loop(); });
  }
  ~CountingPeer() {
    stop_ = true;
    thread_.join();
  }
  uint16_t port() const { return socket_.port(); }
  Endpoint endpoint() const { return socket_.local(); }
  uint64_t bytes() const { return bytes_.load(); }
  uint64_t packets() const { return packets_.load(); }
  // Kernel arrival times of the first and the last datagram, ns.
  int64_t firstNs() const { return first_.load(); }
  int64_t lastNs() const { return last_.load(); }
  uint64_t bytesAfterFirst() const { return bytesAfterFirst_.load(); }

 private:
  void loop() {
    std::vector<uint8_t> buf(65536);
    while (!stop_) {
      pollfd p{socket_.fd(), POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      sockaddr_storage from{};
      iovec iov{buf.data(), buf.size()};
      alignas(cmsghdr) char control[256];
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof(from);
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      const ssize_t n = recvmsg(socket_.fd(), &msg, 0);
      if (n < 0) continue;
      int64_t ns = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
          ns = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
        }
      }
      if (packets_ == 0) {
        first_ = ns;
      } else {
        bytesAfterFirst_ += static_cast<uint64_t>(n);
      }
      last_ = ns;
      bytes_ += static_cast<uint64_t>(n);
      ++packets_;
      if (echo_) {
        const auto to = Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&from));
        if (to) socket_.sendTo(*to, ByteSpan(buf.data(), static_cast<size_t>(n)));
      }
    }
  }

  UdpSocket socket_;
  bool echo_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> bytes_{0}, packets_{0}, bytesAfterFirst_{0};
  std::atomic<int64_t> first_{0}, last_{0};
  std::thread thread_;
};

uint64_t sumOf(const std::vector<nlohmann::json>& es, const char* field) {
  uint64_t s = 0;
  for (const auto& e : es) s += e.value(field, uint64_t{0});
  return s;
}

// (a) The limited class, driven by coturn's turnutils_uclient with REST credentials: more than 128 KiB
// offered, cut at the cap; the daemon's log and the peer agree on what was relayed.
TEST(RelayQuota, LimitedClassCutsUclientAtTheDataCap) {
  ASSERT_TRUE(onPath("turnutils_uclient")) << "coturn's turnutils are needed (scripts/install-deps.sh --test)";
  Node node({"--listen", "127.0.0.1:0", "--auth-secret", kSecret, "--allow-peer", "127.0.0.0/8", "--log-format",
             "json"});
  ASSERT_TRUE(node.started()) << node.log();
  CountingPeer peer(/*echo=*/true);
  // 300 messages of 1000 bytes on one allocation (-m 1, no RTCP pair -c), over a channel.
  // uclient keeps waiting for echoes that will not come once the cap cut it: it runs in the background
  // and is stopped when the test ends.
  TempDir dir;
  Process uclient({"turnutils_uclient", "-W", kSecret, "-u", "unlisted-node", "-c", "-m", "1", "-n", "300", "-l", "1000",
                   "-z", "1", "-p", std::to_string(node.udpPort()), "-e", "127.0.0.1", "-r",
                   std::to_string(peer.port()), "127.0.0.1"},
                  dir.file("uclient.log"));
  ASSERT_TRUE(waitUntil([&] { return !events(node.log(), "allocation-ended").empty(); }, std::chrono::seconds(20)))
      << uclient.log() << node.log();
  const auto ended = events(node.log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 1u) << node.log();
  EXPECT_EQ(ended[0].value("reason", ""), "data-cap") << node.log();
  EXPECT_EQ(ended[0].value("class", ""), "limited");
  EXPECT_EQ(ended[0].value("identity", ""), "unlisted-node");
  const uint64_t toPeer = ended[0].value("bytes_to_peer", uint64_t{0});
  // Cut at exactly the cap: the largest whole number of 1000-byte messages within 131072 bytes.
  EXPECT_EQ(toPeer, 131'000u);
  EXPECT_EQ(peer.bytes(), toPeer);
  // The peer echoed every message back (131000 bytes). The relay counted each echo it forwarded to the
  // client: whole messages, never more than the peer echoed, and all but those still in flight when the cap
  // ended the allocation (a generous half, for a loaded machine; zero would mean to_client is not metered).
  const uint64_t toClient = ended[0].value("bytes_to_client", uint64_t{0});
  const uint64_t echoed = peer.bytes();
  EXPECT_EQ(toClient % 1000, 0u) << toClient;
  EXPECT_LE(toClient, echoed);
  EXPECT_GE(toClient, echoed / 2) << "to_client " << toClient << " of " << echoed << " echoed";
  EXPECT_TRUE(node.process().running());
}

// (d) 486 on the N+1th concurrent allocation of an identity, 508 at the node's allocation total.
TEST(RelayQuota, Allocate486PerIdentityAnd508AtNodeCapacity) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "2", "--auth-secret", kSecret, "--allow-peer", "127.0.0.0/8",
             "--quota-classes", R"({"three": {"allocations": 3}})", "--quota-members", R"({"node-a": "three"})",
             "--max-allocations", "5", "--limited-max-share", "1", "--log-format", "json"});
  ASSERT_TRUE(node.started()) << node.log();
  const Endpoint server = loopback(node.udpPort());
  auto rest = [&](const std::string& id) {
    const std::string user = restUsername(id);
    return std::make_unique<TurnTestClient>(server, user, restPassword(kSecret, user));
  };
  std::vector<std::unique_ptr<TurnTestClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(rest("node-a"));
    ASSERT_TRUE(held.back()->allocate().ok) << i << node.log();
  }
  auto fourth = rest("node-a");
  EXPECT_EQ(fourth->allocate().error, 486);  // node-a's class allows 3, whichever worker gets them
  for (int i = 0; i < 2; ++i) {
    held.push_back(rest("node-b" + std::to_string(i)));
    ASSERT_TRUE(held.back()->allocate().ok) << i;
  }
  auto sixth = rest("node-c");
  EXPECT_EQ(sixth->allocate().error, 508);  // 5 allocations on the node
  // One is released: room again.
  ASSERT_TRUE(held.front()->refresh(0).ok);
  EXPECT_TRUE(sixth->allocate().ok);
}

// (c) SIGHUP re-reads the config file: a live allocation moves to its identity's new class without being
// dropped; a bad file keeps the running policy; keys that need a restart are named.
TEST(RelayQuota, SighupReloadChangesAClassWithoutDroppingALiveAllocation) {
  TempDir dir;
  const std::string config = dir.file("node.json");
  auto write = [&](const std::string& text) {
    std::ofstream f(config, std::ios::trunc);
    f << text;
  };
  write(R"({"listen": ["127.0.0.1:0"], "auth-secret": [")" + std::string(kSecret) +
        R"("], "allow-peer": ["127.0.0.0/8"], "log-format": "json"})");
  Node node({"--config", config});
  ASSERT_TRUE(node.started()) << node.log();
  CountingPeer peer(/*echo=*/false);
  const std::string user = restUsername("node-x");
  TurnTestClient client(loopback(node.udpPort()), user, restPassword(kSecret, user));
  ASSERT_TRUE(client.allocate().ok) << node.log();
  ASSERT_TRUE(client.bindChannel(0x4000, peer.endpoint()).ok);
  const Bytes chunk(1000, 0x42);
  auto sendAndWait = [&](int count) {
    const uint64_t before = peer.bytes();
    for (int i = 0; i < count; ++i) {
      client.sendChannelData(0x4000, chunk);
      if (i % 20 == 19) waitUntil([&] { return peer.bytes() >= before + uint64_t(i + 1) * 1000; }, std::chrono::seconds(2));
    }
    return waitUntil([&] { return peer.bytes() >= before + uint64_t(count) * 1000; }, std::chrono::seconds(5));
  };
  ASSERT_TRUE(sendAndWait(100));  // 100 KB: within limited's 128 KiB

  // node-x becomes "big" (no data cap); the file also changes a key that needs a restart.
  write(R"({"listen": ["127.0.0.1:0"], "auth-secret": [")" + std::string(kSecret) +
        R"("], "allow-peer": ["127.0.0.0/8"], "log-format": "json", "workers": 2,
           "quota-classes": {"big": {"max-lifetime": 3600}}, "quota-members": {"node-x": "big"}})");
  kill(node.process().pid(), SIGHUP);
  ASSERT_TRUE(waitUntil([&] { return !events(node.log(), "config-reloaded").empty(); }, std::chrono::seconds(5)))
      << node.log();
  const auto restart = events(node.log(), "config-reload-needs-restart");
  ASSERT_EQ(restart.size(), 1u) << node.log();
  EXPECT_EQ(restart[0]["keys"], nlohmann::json::array({"workers"}));
  ASSERT_TRUE(sendAndWait(100)) << node.log();  // 200 KB in all: past limited's cap, still relayed
  EXPECT_TRUE(events(node.log(), "allocation-ended").empty()) << node.log();
  // A Refresh now gets the new class's lifetime, beyond limited's 120 s.
  EXPECT_TRUE(client.refresh(1800).ok);

  // A bad file: logged with the key, the running policy stays.
  write(R"({"listen": ["127.0.0.1:0"], "auth-secret": [")" + std::string(kSecret) +
        R"("], "quota-members": {"node-x": "platinum"}})");
  kill(node.process().pid(), SIGHUP);
  ASSERT_TRUE(waitUntil([&] { return !events(node.log(), "config-reload-failed").empty(); }, std::chrono::seconds(5)))
      << node.log();
  const auto failed = events(node.log(), "config-reload-failed");
  EXPECT_NE(failed[0].value("reason", "").find("quota-members"), std::string::npos) << node.log();
  ASSERT_TRUE(sendAndWait(50)) << node.log();
  EXPECT_TRUE(events(node.log(), "allocation-ended").empty()) << node.log();
  ASSERT_TRUE(node.process().stop(SIGTERM));
  const auto ended = events(node.log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].value("class", ""), "big");
  EXPECT_EQ(ended[0].value("bytes_to_peer", uint64_t{0}), 250'000u);
  EXPECT_EQ(peer.bytes(), 250'000u);
}

// (b) 200 concurrent allocations of one identity whose class caps the rate: the rate measured at the
// peer (kernel arrival timestamps, i.e. when the daemon sent) stays within one burst of the cap, and the
// daemon's metering matches what the peer received exactly.
TEST(RelayQuota, TwoHundredAllocationsOfOneIdentityStayWithinOneBurstOfTheCap) {
  constexpr uint64_t kRate = 400'000, kBurst = 65'535;
  Node node({"--listen", "127.0.0.1:0", "--workers", "2", "--auth-secret", kSecret, "--allow-peer", "127.0.0.0/8",
             "--quota-classes",
             R"({"capped": {"bytes-per-second": 400000, "burst": 65535, "allocations": 200}})",
             "--quota-members", R"({"node-r": "capped"})", "--allocations-per-user", "0",
             "--allocate-burst-per-ip", "1000", "--log-format", "json"});
  ASSERT_TRUE(node.started()) << node.log();
  CountingPeer peer(/*echo=*/false);
  const Endpoint server = loopback(node.udpPort());
  std::vector<std::unique_ptr<TurnTestClient>> clients;
  const std::string user = restUsername("node-r");
  for (int i = 0; i < 200; ++i) {
    clients.push_back(std::make_unique<TurnTestClient>(server, user, restPassword(kSecret, user)));
    if (i > 0) clients.back()->learnFrom(*clients.front());
    ASSERT_TRUE(clients.back()->allocate().ok) << i << node.log();
    ASSERT_TRUE(clients.back()->bindChannel(0x4000, peer.endpoint()).ok) << i;
  }
  // Offer far more than the cap for a while: every 25 ms one 1000-byte datagram on each of the 200
  // allocations (about 8 MB/s offered, 20x the cap), 60 rounds; then let the queues drain.
  const Bytes chunk(1000, 0x33);
  for (int round = 0; round < 60; ++round) {
    for (auto& c : clients) c->sendChannelData(0x4000, chunk);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));  // pacing the offered load, not a wait
  }
  waitUntil([&] { return false; }, std::chrono::milliseconds(300));  // the last datagrams land
  const uint64_t received = peer.bytes();
  ASSERT_GT(peer.packets(), 1u);
  const double window = static_cast<double>(peer.lastNs() - peer.firstNs()) / 1e9;
  // Everything after the first datagram arrived within [first, last]: at most rate x window + burst.
  // 20 ms of slack on the window for the daemon's send jitter (its clock is the loop's, in ms).
  EXPECT_LE(peer.bytesAfterFirst(), static_cast<uint64_t>(kRate * (window + 0.02)) + kBurst)
      << "received " << received << " in " << window << " s";
  EXPECT_LT(received, 60u * 200u * 1000u / 2);  // the cap bit: most of the offered load was dropped
  std::printf("200 allocations, cap %llu B/s + %llu B burst: %llu bytes relayed in %.3f s (%.0f B/s after the "
              "first datagram)\n",
              static_cast<unsigned long long>(kRate), static_cast<unsigned long long>(kBurst),
              static_cast<unsigned long long>(received), window, window > 0 ? peer.bytesAfterFirst() / window : 0.0);
  ASSERT_TRUE(node.process().stop(SIGTERM));
  const auto ended = events(node.log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 200u);
  EXPECT_EQ(sumOf(ended, "bytes_to_peer"), received);  // metering is exact
}

}  // namespace
}  // namespace rdv::test
