// The kernel fast path in the real daemon (issue 14, docs/turn.md "Kernel fast path"): rendezvousd with
// kernel-fast-path on, on loopback (every datagram a local socket sends there is CHECKSUM_PARTIAL, the case
// the program must not break). Our TURN client's ChannelData is forwarded by the kernel both ways byte for
// byte at every size from 1 byte up; coturn's turnutils_uclient gets the same results with the fast path as
// without; the limited class is cut at exactly its cap; the allocation's totals, the ledger and /metrics
// agree with what the sockets received; a node killed with -9 leaves a filter that its restart removes;
// `auto` falls back to user space with one log line where BPF cannot load, `on` exits 2. Needs root
// (CAP_BPF, CAP_NET_ADMIN); skips with the reason otherwise.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

constexpr const char* kSecret = "fast-path-rest-secret";

Endpoint loopback(uint16_t port) { return Endpoint(*IpAddress::parse("127.0.0.1"), port); }

Bytes payload(uint32_t i, uint8_t salt) {
  // Mostly 180 bytes, every tenth 1-69 bytes (the sizes a misplaced checksum offset broke), some 1300.
  static constexpr size_t kSmall[] = {1, 4, 5, 67, 68, 69};
  const size_t size = i % 10 == 9 ? kSmall[(i / 10) % 6] : (i % 25 == 12 ? 1300 : 180);
  Bytes b(size);
  for (size_t k = 0; k < size; ++k) b[k] = static_cast<uint8_t>(i * 31 + k * 7 + salt);
  if (size >= 4) storeBe32(b.data(), i);
  return b;
}

uint64_t field(const nlohmann::json& j, const char* name) { return j.value(name, uint64_t{0}); }

// Our filter at TC ingress of lo, as `tc` lists it: the handle is "RD" and the node's instance.
bool filterAttached(uint64_t instance) {
  char handle[32];
  std::snprintf(handle, sizeof(handle), "handle 0x%x", static_cast<unsigned>(0x52440000u | instance));
  auto shown = run({"tc", "filter", "show", "dev", "lo", "ingress"}, 10s);
  return shown.out.find(handle) != std::string::npos;
}

// rendezvousd run without the capabilities BPF needs (a container without CAP_BPF, CAP_NET_ADMIN), until
// its ready file appears or it exits.
struct UnprivilegedNode {
  TempDir dir;
  std::unique_ptr<Process> process;
  explicit UnprivilegedNode(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"setpriv", "--inh-caps=-all", "--ambient-caps=-all",
                                  "--bounding-set=-bpf,-sys_admin,-net_admin,-perfmon", "--",
                                  binary("rendezvousd"), "--ready-file", dir.file("ready.json"), "--data-dir",
                                  dir.file("data"), "--http-listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    process = std::make_unique<Process>(argv, dir.file("node.log"));
    waitUntil([&] { return std::filesystem::exists(dir.file("ready.json")) || !process->running(); }, 15s);
  }
  bool ready() const { return std::filesystem::exists(dir.file("ready.json")); }
};

class FastPathDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "the kernel fast path needs root (CAP_BPF, CAP_NET_ADMIN)";
#ifndef RDV_EXPECT_FASTPATH
    GTEST_SKIP() << "this build has no kernel fast path (clang, bpftool or libbpf-dev missing at configure time)";
#endif
  }
};

const std::string kToken = "fast-path-admin-token-0123456789";

std::string scraper() { return std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/tests/integration/prometheus_scrape.py"; }

TEST_F(FastPathDaemon, KernelForwardsEverySizeBothWaysAndTheTotalsStayExact) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "1", "--user", "alice:wonderland", "--allow-peer",
             "127.0.0.0/8", "--log-format", "json", "--kernel-fast-path", "on", "--admin-listen", "127.0.0.1:0",
             "--admin-token", kToken});
  ASSERT_TRUE(node.started()) << node.log();
  auto started = events(node.log(), "kernel-fast-path");
  ASSERT_EQ(started.size(), 1u) << node.log();
  EXPECT_EQ(started[0].value("devices", ""), "lo");
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  TurnTestClient client(loopback(node.udpPort()), "alice", "wonderland");
  ASSERT_TRUE(client.allocate().ok) << node.log();
  ASSERT_TRUE(client.bindChannel(0x4000, peer.local()).ok);

  constexpr uint32_t kPackets = 300;
  uint64_t bytesToPeer = 0, bytesToClient = 0;
  Endpoint relayed;
  for (uint32_t i = 0; i < kPackets; ++i) {
    const Bytes p = payload(i, 1);
    ASSERT_TRUE(client.sendChannelData(0x4000, p));
    bytesToPeer += p.size();
    auto got = peer.receive(std::chrono::seconds(10), &relayed);
    ASSERT_TRUE(got.has_value()) << "datagram " << i << " (" << p.size() << " B) did not reach the peer\n" << node.log();
    EXPECT_EQ(*got, p) << "datagram " << i;
  }
  EXPECT_EQ(relayed, *client.relayed()) << "the kernel sends from the allocation's relayed address";
  for (uint32_t i = 0; i < kPackets; ++i) {
    const Bytes p = payload(i, 2);
    ASSERT_TRUE(peer.sendTo(relayed, p));
    bytesToClient += p.size();
    auto got = client.receiveData(std::chrono::seconds(10));
    ASSERT_TRUE(got.has_value()) << "datagram " << i << " (" << p.size() << " B) did not come back";
    EXPECT_EQ(*got, p) << "datagram " << i;
  }

  // /metrics (parsed by Prometheus' reference parser) counts what the kernel forwarded.
  const std::string url = "http://" + node.ready()["admin"].get<std::string>() + "/metrics";
  auto scrape = run({"/usr/bin/python3", scraper(), url, kToken});
  ASSERT_EQ(scrape.exitCode, 0) << scrape.err;
  auto m = nlohmann::json::parse(scrape.out, nullptr, false);
  ASSERT_TRUE(m.is_object()) << scrape.out;
  EXPECT_EQ(m.value(R"(rendezvous_relay_fastpath_packets_total{direction="to_peer"})", -1.0), kPackets) << scrape.out;
  EXPECT_EQ(m.value(R"(rendezvous_relay_fastpath_packets_total{direction="to_client"})", -1.0), kPackets);
  EXPECT_EQ(m.value(R"(rendezvous_relay_fastpath_bytes_total{direction="to_peer"})", -1.0),
            static_cast<double>(bytesToPeer));
  EXPECT_EQ(m.value(R"(rendezvous_relay_fastpath_bytes_total{direction="to_client"})", -1.0),
            static_cast<double>(bytesToClient));
  EXPECT_EQ(m.value("rendezvous_relay_fastpath_channels", -1.0), 1.0);

  ASSERT_TRUE(node.process().stop(SIGTERM)) << node.log();
  auto kernel = events(node.log(), "kernel-fast-path-stopped");
  ASSERT_EQ(kernel.size(), 1u) << node.log();
  EXPECT_EQ(field(kernel[0], "to_peer_packets"), kPackets) << "the kernel carried every datagram";
  EXPECT_EQ(field(kernel[0], "to_client_packets"), kPackets);
  EXPECT_EQ(field(kernel[0], "to_peer_bytes"), bytesToPeer);
  EXPECT_EQ(field(kernel[0], "to_client_bytes"), bytesToClient);
  auto ended = events(node.log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 1u) << node.log();
  EXPECT_EQ(field(ended[0], "bytes_to_peer"), bytesToPeer);
  EXPECT_EQ(field(ended[0], "bytes_to_client"), bytesToClient);
  EXPECT_EQ(field(ended[0], "packets_to_peer"), kPackets);
  EXPECT_EQ(field(ended[0], "packets_to_client"), kPackets);
  // The ledger booked exactly that.
  auto ledger = events(node.log(), "ledger-closed");
  ASSERT_EQ(ledger.size(), 1u) << node.log();
  EXPECT_EQ(field(ledger[0], "bytes_to_peer"), bytesToPeer);
  EXPECT_EQ(field(ledger[0], "bytes_to_client"), bytesToClient);
}

// An unknown identity (REST credentials no class names) gets the limited class: its data cap ends the
// allocation at exactly the largest whole number of datagrams within the cap, most of them forwarded by
// the kernel, the last few bytes' decision made by user space.
TEST_F(FastPathDaemon, LimitedClassIsCutAtExactlyItsCap) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "1", "--auth-secret", kSecret, "--allow-peer",
             "127.0.0.0/8", "--log-format", "json", "--kernel-fast-path", "on"});
  ASSERT_TRUE(node.started()) << node.log();
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  const std::string user = restUsername("unlisted-node");
  TurnTestClient client(loopback(node.udpPort()), user, restPassword(kSecret, user));
  ASSERT_TRUE(client.allocate().ok) << node.log();
  ASSERT_TRUE(client.bindChannel(0x4001, peer.local()).ok);
  const Bytes p(1000, 0x3c);
  uint64_t atPeer = 0;
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(client.sendChannelData(0x4001, p));
    auto got = peer.receive(i < 131 ? std::chrono::milliseconds(10000) : std::chrono::milliseconds(300));
    if (!got) break;
    EXPECT_EQ(*got, p);
    atPeer += got->size();
  }
  ASSERT_TRUE(waitUntil([&] { return !events(node.log(), "allocation-ended").empty(); }, 10s)) << node.log();
  auto ended = events(node.log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].value("reason", ""), "data-cap") << node.log();
  EXPECT_EQ(ended[0].value("class", ""), "limited");
  EXPECT_EQ(field(ended[0], "bytes_to_peer"), 131'000u) << "128 KiB: 131 whole datagrams of 1000 bytes";
  EXPECT_EQ(atPeer, 131'000u);
  ASSERT_TRUE(node.process().stop(SIGTERM));
  auto kernel = events(node.log(), "kernel-fast-path-stopped");
  ASSERT_EQ(kernel.size(), 1u) << node.log();
  EXPECT_GE(field(kernel[0], "to_peer_packets"), 100u) << "the kernel forwarded the bulk of it";
  EXPECT_LE(field(kernel[0], "to_peer_bytes"), 131'000u);
  EXPECT_GE(field(kernel[0], "over_allowance"), 1u) << "the datagram past the cap went to user space";
  auto ledger = events(node.log(), "ledger-closed");
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(field(ledger[0], "bytes_to_peer"), 131'000u);
}

struct UclientRun {
  CommandResult result;
  std::vector<nlohmann::json> ended;
  std::vector<nlohmann::json> kernel;
  uint64_t peerBytes = 0, peerPackets = 0;
};

// coturn's turnutils_uclient: 2 clients, 50 messages of 400 bytes each over channels to an echoing
// peer (turnutils_peer's role, played by a thread), through a node with the given fast path setting.
UclientRun runUclient(const std::string& fastPath) {
  UclientRun out;
  Node node({"--listen", "127.0.0.1:0", "--workers", "1", "--auth-secret", kSecret, "--allow-peer", "127.0.0.0/8",
             "--log-format", "json", "--kernel-fast-path", fastPath});
  if (!node.started()) return out;
  UdpSocket peer;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bytes{0}, packets{0};
  std::thread echo([&] {
    while (!stop) {
      Endpoint from;
      auto got = peer.receive(std::chrono::milliseconds(50), &from);
      if (!got) continue;
      bytes += got->size();
      ++packets;
      peer.sendTo(from, *got);
    }
  });
  out.result = run({"turnutils_uclient", "-W", kSecret, "-u", "uclient-node", "-c", "-m", "2", "-n", "50", "-l", "400",
                    "-z", "5", "-p", std::to_string(node.udpPort()), "-e", "127.0.0.1", "-r",
                    std::to_string(peer.port()), "127.0.0.1"},
                   60s);
  stop = true;
  echo.join();
  node.process().stop(SIGTERM);
  out.ended = events(node.log(), "allocation-ended");
  out.kernel = events(node.log(), "kernel-fast-path-stopped");
  out.peerBytes = bytes;
  out.peerPackets = packets;
  return out;
}

TEST_F(FastPathDaemon, UclientGetsTheSameResultsWithTheKernelAsWithout) {
  ASSERT_TRUE(onPath("turnutils_uclient")) << "coturn's turnutils are needed (scripts/install-deps.sh --test)";
  const UclientRun user = runUclient("off");
  const UclientRun kernel = runUclient("on");
  for (const auto* r : {&user, &kernel}) {
    ASSERT_EQ(r->result.exitCode, 0) << r->result.out << r->result.err;
    EXPECT_NE(r->result.out.find("Total lost packets 0 (0.000000%)"), std::string::npos) << r->result.out;
    ASSERT_EQ(r->ended.size(), 4u) << "-m 2: two sessions of two allocations each";
  }
  EXPECT_EQ(kernel.peerBytes, user.peerBytes);
  EXPECT_EQ(kernel.peerPackets, user.peerPackets);
  EXPECT_EQ(kernel.peerBytes, 2u * 50u * 400u);
  uint64_t userToPeer = 0, userToClient = 0, kernelToPeer = 0, kernelToClient = 0;
  for (const auto& e : user.ended) userToPeer += field(e, "bytes_to_peer"), userToClient += field(e, "bytes_to_client");
  for (const auto& e : kernel.ended) kernelToPeer += field(e, "bytes_to_peer"), kernelToClient += field(e, "bytes_to_client");
  EXPECT_EQ(kernelToPeer, userToPeer);
  EXPECT_EQ(kernelToClient, userToClient);
  EXPECT_EQ(kernelToPeer, kernel.peerBytes);
  ASSERT_EQ(kernel.kernel.size(), 1u);
  EXPECT_TRUE(user.kernel.empty());
  // uclient binds its channel and starts sending at once: the first datagram or two can reach user
  // space before the binding is in the kernel's map; the rest goes through the kernel.
  EXPECT_GE(field(kernel.kernel[0], "to_peer_packets"), 90u);
  EXPECT_GE(field(kernel.kernel[0], "to_client_packets"), 90u);
}

// kill -9 leaves the filter attached (the kernel holds the program); the same node's restart (same data
// directory: same filter identity) removes it before attaching its own, and a clean stop removes that.
TEST_F(FastPathDaemon, KillNineThenRestartLeavesNoStaleProgram) {
  TempDir dir;
  const std::vector<std::string> args{"--listen", "127.0.0.1:0", "--workers", "1", "--user", "alice:wonderland",
                                      "--log-format", "json", "--kernel-fast-path", "on", "--data-dir",
                                      dir.file("data")};
  uint64_t instance = 0;
  {
    Node first(args);
    ASSERT_TRUE(first.started()) << first.log();
    auto started = events(first.log(), "kernel-fast-path");
    ASSERT_EQ(started.size(), 1u);
    instance = field(started[0], "instance");
    EXPECT_TRUE(filterAttached(instance));
    ASSERT_TRUE(first.process().stop(SIGKILL));
  }
  EXPECT_TRUE(filterAttached(instance)) << "a daemon killed with -9 cannot detach";
  {
    Node second(args);
    ASSERT_TRUE(second.started()) << second.log();
    ASSERT_EQ(field(events(second.log(), "kernel-fast-path").at(0), "instance"), instance);
    auto shown = run({"tc", "filter", "show", "dev", "lo", "ingress"}, 10s).out;
    char handle[32];
    std::snprintf(handle, sizeof(handle), "handle 0x%x", static_cast<unsigned>(0x52440000u | instance));
    const size_t first = shown.find(handle);
    ASSERT_NE(first, std::string::npos);
    EXPECT_EQ(shown.find(handle, first + 1), std::string::npos) << "exactly one filter of ours:\n" << shown;
    ASSERT_TRUE(second.process().stop(SIGTERM));
  }
  EXPECT_FALSE(filterAttached(instance)) << "a clean stop detaches";
}

// A node killed with -9 that never comes back with its data directory leaves its filter on the device,
// still forwarding its channels' packets. The next node to start there (another data directory) removes
// every filter of ours whose program no process holds any more, and leaves a live node's alone.
TEST_F(FastPathDaemon, AnotherNodeRemovesTheFilterOfANodeKilledWithMinusNine) {
  TempDir dirs;
  auto args = [&](const std::string& name) {
    return std::vector<std::string>{"--listen", "127.0.0.1:0", "--workers", "1", "--user", "alice:wonderland",
                                    "--log-format", "json", "--kernel-fast-path", "on", "--data-dir",
                                    dirs.file(name)};
  };
  Node live(args("live"));
  ASSERT_TRUE(live.started()) << live.log();
  const uint64_t liveInstance = field(events(live.log(), "kernel-fast-path").at(0), "instance");
  uint64_t deadInstance = 0;
  {
    Node dead(args("dead"));
    ASSERT_TRUE(dead.started()) << dead.log();
    deadInstance = field(events(dead.log(), "kernel-fast-path").at(0), "instance");
    ASSERT_NE(deadInstance, liveInstance) << "two data directories, two instances";
    ASSERT_TRUE(dead.process().stop(SIGKILL));
  }
  ASSERT_TRUE(filterAttached(deadInstance)) << "a daemon killed with -9 cannot detach";
  Node next(args("next"));
  ASSERT_TRUE(next.started()) << next.log();
  const auto started = events(next.log(), "kernel-fast-path").at(0);
  EXPECT_GE(field(started, "orphans_removed"), 1u) << next.log();
  EXPECT_FALSE(filterAttached(deadInstance)) << "the dead node's filter is gone";
  EXPECT_TRUE(filterAttached(liveInstance)) << "a live node's filter stays";
  EXPECT_TRUE(filterAttached(field(started, "instance")));
}

TEST_F(FastPathDaemon, AutoFallsBackToUserSpaceWithOneLineWhereBpfCannotLoad) {
  UnprivilegedNode node({"--listen", "127.0.0.1:0", "--workers", "1", "--user", "alice:wonderland", "--allow-peer",
                         "127.0.0.0/8", "--log-format", "json", "--kernel-fast-path", "auto"});
  ASSERT_TRUE(node.ready()) << node.process->log();
  auto why = events(node.process->log(), "kernel-fast-path-unavailable");
  ASSERT_EQ(why.size(), 1u) << node.process->log();
  EXPECT_EQ(why[0].value("using", ""), "user space");
  EXPECT_NE(why[0].value("reason", "").find("CAP_BPF"), std::string::npos) << why[0].dump();
  // And it relays, in user space.
  auto ready = nlohmann::json::parse(run({"cat", node.dir.file("ready.json")}).out, nullptr, false);
  const std::string udp = ready["udp"][0].get<std::string>();
  UdpSocket peer;
  TurnTestClient client(loopback(static_cast<uint16_t>(std::stoi(udp.substr(udp.rfind(':') + 1)))), "alice",
                        "wonderland");
  ASSERT_TRUE(client.allocate().ok);
  ASSERT_TRUE(client.bindChannel(0x4000, peer.local()).ok);
  ASSERT_TRUE(client.sendChannelData(0x4000, Bytes(68, 7)));
  auto got = peer.receive(std::chrono::seconds(5));
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, Bytes(68, 7));
}

TEST_F(FastPathDaemon, OnExitsTwoWhereBpfCannotLoad) {
  UnprivilegedNode node({"--listen", "127.0.0.1:0", "--workers", "1", "--kernel-fast-path", "on"});
  EXPECT_FALSE(node.ready());
  auto status = node.process->stop(SIGTERM);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status)) << node.process->log();
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(node.process->log().find("kernel-fast-path on: "), std::string::npos) << node.process->log();
}

TEST(FastPathDaemonConfig, OnRefusesToStartWithoutASpecificRelayAddress) {
  Node node({"--listen", "0.0.0.0:0", "--workers", "1", "--kernel-fast-path", "on"});
  EXPECT_FALSE(node.started());
  auto status = node.process().stop(SIGTERM);
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(node.log().find("kernel-fast-path on: needs a specific IPv4 relay address"), std::string::npos)
      << node.log();
}

TEST(FastPathDaemonConfig, AutoFallsBackToUserSpaceWithOneLine) {
  Node node({"--listen", "0.0.0.0:0", "--workers", "1", "--kernel-fast-path", "auto", "--log-format", "json"});
  ASSERT_TRUE(node.started()) << node.log();
  auto why = events(node.log(), "kernel-fast-path-unavailable");
  ASSERT_EQ(why.size(), 1u) << node.log();
  EXPECT_EQ(why[0].value("using", ""), "user space");
}

TEST(FastPathDaemonConfig, RejectsAnUnknownMode) {
  Node node({"--listen", "127.0.0.1:0", "--kernel-fast-path", "fast"});
  EXPECT_FALSE(node.started());
  auto status = node.process().stop(SIGTERM);
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(node.log().find("kernel-fast-path"), std::string::npos) << node.log();
}

}  // namespace
}  // namespace rdv::test
