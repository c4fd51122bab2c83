// The kernel fast path (rendezvous/node/fastpath) against the real kernel, in network namespaces this
// test makes and removes: ChannelData forwarded both ways byte for byte with valid checksums, counters
// equal to what the sockets received, the limit cut at one datagram, and everything the maps do not name
// (STUN, unknown channels, unbound, over the limit) delivered to the user-space socket unchanged.
// Two checksum cases, since the program must be right for both: senders that compute the UDP checksum
// in full (offloads off), and senders whose datagrams carry CHECKSUM_PARTIAL (a local socket on veth or
// loopback: the checksum is filled in later from csum_start, which must still point at the UDP header
// after the program moved things). In both the receivers verify every checksum. Skips with the reason
// where BPF cannot load (no root).
#include "rendezvous/node/fastpath/fast_path.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace rdv::node {
namespace {

std::atomic<int> counter{0};

bool run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// A network namespace made for one test and removed with it, whatever happens.
class Netns {
 public:
  Netns() : name_("rdvfp-" + std::to_string(getpid()) + "-" + std::to_string(counter++)) {
    ok_ = run("ip netns add " + name_) && run("ip -n " + name_ + " link set lo up");
  }
  ~Netns() { run("ip netns del " + name_); }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  bool ip(const std::string& args) const { return run("ip -n " + name_ + " " + args); }
  // Runs fn with the calling thread inside the namespace (sockets made there stay there).
  template <class F>
  auto inside(F fn) const -> decltype(fn()) {
    decltype(fn()) out{};
    std::thread t([&] {
      int fd = open(("/var/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) return;
      close(fd);
      out = fn();
    });
    t.join();
    return out;
  }

 private:
  std::string name_;
  bool ok_ = false;
};

struct Received {
  std::string data;
  Endpoint from;
};

int udpSocket(const Netns& ns, const Endpoint& bindTo) {
  return ns.inside([&]() -> int {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    unsigned len = bindTo.toSockaddr(ss);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return -1;
    return fd;
  });
}

void sendTo(int fd, const std::string& data, const Endpoint& to) {
  sockaddr_storage ss{};
  unsigned len = to.toSockaddr(ss);
  ASSERT_EQ(sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&ss), len),
            static_cast<ssize_t>(data.size()));
}

std::optional<Received> receive(int fd, int timeoutMs = 2000) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeoutMs) != 1) return std::nullopt;
  char buf[2048];
  sockaddr_storage ss{};
  socklen_t sl = sizeof(ss);
  ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&ss), &sl);
  if (n < 0) return std::nullopt;
  auto from = Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  return Received{std::string(buf, static_cast<size_t>(n)), from.value_or(Endpoint{})};
}

std::string channelData(uint16_t channel, const std::string& payload) {
  std::string out;
  out.push_back(static_cast<char>(channel >> 8));
  out.push_back(static_cast<char>(channel & 0xff));
  out.push_back(static_cast<char>(payload.size() >> 8));
  out.push_back(static_cast<char>(payload.size() & 0xff));
  return out + payload;
}

Endpoint ep(const char* text) { return *Endpoint::parse(text); }

// Sets a device's checksum offloads (ethtool -K DEV tx on|off rx on|off). With tx off the kernel computes
// a datagram's UDP checksum before it leaves the device, in software, from csum_start; with rx off the
// receiving stack verifies every checksum it gets (with rx on, veth marks datagrams as verified).
bool offload(const Netns& ns, const std::string& dev, bool tx, bool rx) {
  return ns.inside([&]() -> bool {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0;
    for (auto [cmd, on] : {std::pair<uint32_t, bool>{ETHTOOL_STXCSUM, tx}, {ETHTOOL_SRXCSUM, rx}}) {
      ethtool_value v{cmd, on ? 1u : 0u};
      ifreq ifr{};
      std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
      ifr.ifr_data = reinterpret_cast<char*>(&v);
      ok = ok && ioctl(fd, SIOCETHTOOL, &ifr) == 0;
    }
    if (fd >= 0) close(fd);
    return ok;
  });
}

// UDP datagrams the namespace's stack dropped for a bad checksum (/proc/net/snmp, InCsumErrors).
long udpChecksumErrors(const Netns& ns) {
  return ns.inside([&]() -> long {
    std::ifstream snmp("/proc/net/snmp");
    std::string header, values, line;
    while (std::getline(snmp, line)) {
      if (line.rfind("Udp:", 0) != 0) continue;
      if (header.empty()) { header = line; continue; }
      values = line;
      break;
    }
    std::istringstream h(header), v(values);
    std::string name, value;
    while (h >> name && v >> value)
      if (name == "InCsumErrors") return std::stol(value);
    return -1;
  });
}

// How the senders' datagrams carry their UDP checksum.
enum class Checksums {
  Full,     // computed by the sender (every offload off): CHECKSUM_NONE on the way
  Partial,  // left to the device (the senders' tx offload on): CHECKSUM_PARTIAL until the relay's
            // devices, whose tx offload is off, compute it from csum_start as the packet leaves
};

std::string modeName(const ::testing::TestParamInfo<Checksums>& info) {
  return info.param == Checksums::Full ? "FullChecksums" : "PartialChecksums";
}

std::string pattern(size_t size) {
  std::string payload(size, '\0');
  for (size_t i = 0; i < size; ++i) payload[i] = static_cast<char>((i * 7 + size) & 0xff);
  return payload;
}

// The sizes around the edges: the smallest, one ChannelData word, the last size a locally sent datagram
// with a misplaced csum_start was dropped at (68), the first it was not, a typical media packet, the most
// that fits a 1500-byte MTU both ways.
const std::vector<size_t> kSizes = {1, 4, 5, 68, 69, 100, 1200, 1400};

// client --veth-- relay --veth-- peer, the relay forwarding in its TC program (attached to rc, rp and lo).
class FastPathTest : public ::testing::TestWithParam<Checksums> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, BPF)";
    ASSERT_TRUE(client_.ok() && relay_.ok() && peer_.ok()) << "cannot create network namespaces";
    std::string tag = std::to_string(getpid() % 100000) + std::to_string(counter.load());
    cVeth_ = "fc" + tag;
    pVeth_ = "fp" + tag;
    ASSERT_TRUE(run("ip link add " + cVeth_ + " netns " + client_.name() + " type veth peer name rc netns " +
                    relay_.name()));
    ASSERT_TRUE(run("ip link add " + pVeth_ + " netns " + peer_.name() + " type veth peer name rp netns " +
                    relay_.name()));
    ASSERT_TRUE(client_.ip("addr add 198.18.1.2/24 dev " + cVeth_) && client_.ip("link set " + cVeth_ + " up"));
    ASSERT_TRUE(relay_.ip("addr add 198.18.1.1/24 dev rc") && relay_.ip("link set rc up"));
    ASSERT_TRUE(relay_.ip("addr add 198.18.2.1/24 dev rp") && relay_.ip("link set rp up"));
    ASSERT_TRUE(peer_.ip("addr add 198.18.2.2/24 dev " + pVeth_) && peer_.ip("link set " + pVeth_ + " up"));
    // The receivers always verify (rx off); the senders leave the checksum to the device in Partial.
    bool senderTx = GetParam() == Checksums::Partial;
    ASSERT_TRUE(offload(client_, cVeth_, senderTx, false) && offload(peer_, pVeth_, senderTx, false));
    ASSERT_TRUE(offload(relay_, "rc", false, false) && offload(relay_, "rp", false, false));

    FastPath::Options options;
    options.interfaces = {"rc", "rp", "lo"};
    options.maxBindings = 64;
    options.maxAllocations = 16;
    auto opened = relay_.inside([&] { return std::optional(FastPath::open(options)); });
    ASSERT_TRUE(opened.has_value());
#ifdef RDV_EXPECT_FASTPATH
    ASSERT_TRUE(opened->ok()) << "this build has BPF, yet: " << opened->error();
#else
    if (!opened->ok()) GTEST_SKIP() << "BPF unavailable: " << opened->error();
#endif
    fp_ = std::move(opened->value());

    clientFd_ = udpSocket(client_, ep("198.18.1.2:40000"));
    listenFd_ = udpSocket(relay_, listen_);
    relayFd_ = udpSocket(relay_, relayAddr_);
    peerFd_ = udpSocket(peer_, ep("198.18.2.2:41000"));
    ASSERT_GE(clientFd_, 0);
    ASSERT_GE(listenFd_, 0);
    ASSERT_GE(relayFd_, 0);
    ASSERT_GE(peerFd_, 0);
    ASSERT_TRUE(fp_->watchPort(listen_.port(), true) && fp_->watchPort(relayAddr_.port(), true));
  }
  void TearDown() override {
    for (int fd : {clientFd_, listenFd_, relayFd_, peerFd_})
      if (fd >= 0) close(fd);
    if (fp_) relay_.inside([&] { fp_.reset(); return 0; });  // detach inside the namespace it attached in
  }

  // What the program did, for failure messages.
  std::string statsText() const {
    FastPathStats s = fp_->stats();
    return "fast path stats: to_peer " + std::to_string(s.toPeerPackets) + ", to_client " +
           std::to_string(s.toClientPackets) + ", passed " + std::to_string(s.passed) + ", over budget " +
           std::to_string(s.overBudget) + ", redirect failed " + std::to_string(s.redirectFailed);
  }

  FastPathBinding binding(uint16_t channel = 0x4001) const {
    return FastPathBinding{ep("198.18.1.2:40000"), listen_, relayAddr_, ep("198.18.2.2:41000"), channel, 3};
  }

  Netns client_, relay_, peer_;
  std::string cVeth_, pVeth_;
  Endpoint listen_ = ep("198.18.1.1:3478");
  Endpoint relayAddr_ = ep("198.18.2.1:50000");
  std::unique_ptr<FastPath> fp_;
  int clientFd_ = -1, listenFd_ = -1, relayFd_ = -1, peerFd_ = -1;
};

TEST_P(FastPathTest, ForwardsChannelDataBothWaysByteForByte) {
  ASSERT_TRUE(fp_->bind(binding()));
  ASSERT_TRUE(fp_->setBudget(3, 1 << 20, 1 << 20));
  long peerErrors = udpChecksumErrors(peer_), clientErrors = udpChecksumErrors(client_);
  uint64_t toPeer = 0, toClient = 0;
  for (size_t size : kSizes) {
    std::string payload = pattern(size);
    sendTo(clientFd_, channelData(0x4001, payload), listen_);
    auto atPeer = receive(peerFd_);
    ASSERT_TRUE(atPeer) << "payload of " << size << " bytes did not reach the peer; " << statsText();
    EXPECT_EQ(atPeer->data, payload);
    EXPECT_EQ(atPeer->from, relayAddr_);
    toPeer += size;

    sendTo(peerFd_, payload, relayAddr_);
    auto atClient = receive(clientFd_);
    ASSERT_TRUE(atClient) << "payload of " << size << " bytes did not come back to the client; " << statsText();
    EXPECT_EQ(atClient->data, channelData(0x4001, payload));
    EXPECT_EQ(atClient->from, listen_);
    toClient += size;
  }
  // Nothing reached the user-space sockets, and the receivers' checksum checks all passed.
  EXPECT_FALSE(receive(listenFd_, 50));
  EXPECT_FALSE(receive(relayFd_, 50));
  EXPECT_EQ(udpChecksumErrors(peer_), peerErrors);
  EXPECT_EQ(udpChecksumErrors(client_), clientErrors);

  FastPathCounters c = fp_->takeCounters(3);
  EXPECT_EQ(c.bytesToPeer, toPeer);
  EXPECT_EQ(c.packetsToPeer, kSizes.size());
  EXPECT_EQ(c.bytesToClient, toClient);
  EXPECT_EQ(c.packetsToClient, kSizes.size());
  FastPathCounters again = fp_->takeCounters(3);
  EXPECT_EQ(again.bytesToPeer + again.bytesToClient, 0u) << "counters are read as deltas";
  FastPathStats s = fp_->stats();
  EXPECT_EQ(s.toPeerPackets, kSizes.size());
  EXPECT_EQ(s.toPeerBytes, toPeer);
}

TEST_P(FastPathTest, PassesWhatItDoesNotOwnUnchanged) {
  ASSERT_TRUE(fp_->bind(binding()));
  ASSERT_TRUE(fp_->setBudget(3, 1 << 20, 1 << 20));
  // A STUN Binding request, an unbound channel, padded ChannelData, a peer that is not bound.
  std::string stun("\x00\x01\x00\x00\x21\x12\xa4\x42" "abcdefghijkl", 20);
  for (const std::string& datagram :
       {stun, channelData(0x4002, "other channel"), channelData(0x4001, "pad") + std::string(1, '\0')}) {
    sendTo(clientFd_, datagram, listen_);
    auto atListen = receive(listenFd_);
    ASSERT_TRUE(atListen);
    EXPECT_EQ(atListen->data, datagram);
    EXPECT_EQ(atListen->from, ep("198.18.1.2:40000"));
  }
  int strangerFd = udpSocket(peer_, ep("198.18.2.2:41001"));
  ASSERT_GE(strangerFd, 0);
  sendTo(strangerFd, "not bound", relayAddr_);
  auto atRelay = receive(relayFd_);
  close(strangerFd);
  ASSERT_TRUE(atRelay);
  EXPECT_EQ(atRelay->data, "not bound");
  EXPECT_EQ(atRelay->from, ep("198.18.2.2:41001"));
  EXPECT_FALSE(receive(peerFd_, 50));
  EXPECT_EQ(fp_->takeCounters(3).packetsToPeer, 0u);
  // A peer datagram that would pass 1500 bytes once the 4-byte header is added: user space decides.
  std::string big(1470, 'b');
  sendTo(peerFd_, big, relayAddr_);
  auto bigAtRelay = receive(relayFd_);
  ASSERT_TRUE(bigAtRelay);
  EXPECT_EQ(bigAtRelay->data, big);

  fp_->unbind(binding());
  sendTo(clientFd_, channelData(0x4001, "after unbind"), listen_);
  auto atListen = receive(listenFd_);
  ASSERT_TRUE(atListen);
  EXPECT_EQ(atListen->data, channelData(0x4001, "after unbind"));
}

TEST_P(FastPathTest, LimitCutsAtOneDatagramAndPassesTheRestUp) {
  ASSERT_TRUE(fp_->bind(binding()));
  ASSERT_TRUE(fp_->setBudget(3, 250, 150));  // room for two 100-byte datagrams to the peer, one back
  std::string payload(100, 'x');
  for (int i = 0; i < 2; ++i) {
    sendTo(clientFd_, channelData(0x4001, payload), listen_);
    ASSERT_TRUE(receive(peerFd_));
  }
  sendTo(clientFd_, channelData(0x4001, payload), listen_);
  auto atListen = receive(listenFd_);
  ASSERT_TRUE(atListen) << "the datagram over the limit goes to user space, which applies the quota";
  EXPECT_EQ(atListen->data, channelData(0x4001, payload));
  FastPathCounters c = fp_->takeCounters(3);
  EXPECT_EQ(c.bytesToPeer, 200u);
  EXPECT_EQ(c.overBudget, 1u);
  // The other direction has its own limit: one datagram back, the second goes to user space.
  sendTo(peerFd_, payload, relayAddr_);
  ASSERT_TRUE(receive(clientFd_));
  sendTo(peerFd_, payload, relayAddr_);
  ASSERT_TRUE(receive(relayFd_)) << "over the way back's limit: user space";
  // Refilled from what the kernel had forwarded: 100 more bytes, then the limit again.
  ASSERT_TRUE(fp_->setBudget(3, 100, 0));
  sendTo(clientFd_, channelData(0x4001, payload), listen_);
  ASSERT_TRUE(receive(peerFd_));
  sendTo(clientFd_, channelData(0x4001, payload), listen_);
  ASSERT_TRUE(receive(listenFd_));
  FastPathCounters after = fp_->takeCounters(3);
  EXPECT_EQ(after.bytesToPeer, 100u);
  EXPECT_EQ(after.bytesToClient, 100u);
}

// A client on the relay's own host (a local socket: its datagrams reach the node over lo with
// CHECKSUM_PARTIAL) and a peer in another namespace: to the peer out of rp, whose device computes the
// checksum from csum_start; back to the client into lo, since a datagram from a local address arriving
// on rp would be dropped as martian.
TEST_P(FastPathTest, ForwardsBetweenALocalClientAndARemotePeer) {
  const Endpoint localClient = ep("198.18.1.1:40001");
  int localFd = udpSocket(relay_, localClient);
  ASSERT_GE(localFd, 0);
  FastPathBinding b{localClient, listen_, relayAddr_, ep("198.18.2.2:41000"), 0x4002, 5};
  ASSERT_TRUE(fp_->bind(b));
  ASSERT_TRUE(fp_->setBudget(5, 1 << 20, 1 << 20));
  long peerErrors = udpChecksumErrors(peer_);
  uint64_t bytes = 0;
  for (size_t size : kSizes) {
    std::string payload = pattern(size);
    sendTo(localFd, channelData(0x4002, payload), listen_);
    auto atPeer = receive(peerFd_);
    ASSERT_TRUE(atPeer) << size << " bytes did not reach the peer; " << statsText();
    EXPECT_EQ(atPeer->data, payload);
    EXPECT_EQ(atPeer->from, relayAddr_);
    sendTo(peerFd_, payload, relayAddr_);
    auto atClient = receive(localFd);
    ASSERT_TRUE(atClient) << size << " bytes did not come back to the local client; " << statsText();
    EXPECT_EQ(atClient->data, channelData(0x4002, payload));
    EXPECT_EQ(atClient->from, listen_);
    bytes += size;
  }
  close(localFd);
  EXPECT_FALSE(receive(listenFd_, 50));
  EXPECT_FALSE(receive(relayFd_, 50));
  EXPECT_EQ(udpChecksumErrors(peer_), peerErrors);
  FastPathCounters c = fp_->takeCounters(5);
  EXPECT_EQ(c.bytesToPeer, bytes);
  EXPECT_EQ(c.bytesToClient, bytes);
  EXPECT_EQ(c.packetsToClient, kSizes.size());
}

INSTANTIATE_TEST_SUITE_P(Checksums, FastPathTest, ::testing::Values(Checksums::Full, Checksums::Partial),
                         modeName);

// Everything on loopback in one namespace, as a daemon on 127.0.0.1 with local clients and peers sees
// it: every datagram CHECKSUM_PARTIAL, delivered up lo's stack in place (no redirect). The stack checks
// such a datagram's checksum only in part (it trusts the partial sum for larger ones), which is how a
// misplaced csum_start showed only for payloads of 68 bytes or less; all sizes must arrive, with no
// checksum error counted.
TEST(FastPathLoopback, ForwardsLocalDatagramsOfEverySize) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, BPF)";
  Netns ns;
  ASSERT_TRUE(ns.ok());
  FastPath::Options options;
  options.interfaces = {"lo"};
  options.maxBindings = 8;
  options.maxAllocations = 8;
  auto opened = ns.inside([&] { return std::optional(FastPath::open(options)); });
  ASSERT_TRUE(opened.has_value());
#ifdef RDV_EXPECT_FASTPATH
  ASSERT_TRUE(opened->ok()) << "this build has BPF, yet: " << opened->error();
#else
  if (!opened->ok()) GTEST_SKIP() << "BPF unavailable: " << opened->error();
#endif
  std::unique_ptr<FastPath> fp = std::move(opened->value());
  const Endpoint client = ep("127.0.0.1:40000"), listen = ep("127.0.0.1:3478");
  const Endpoint relay = ep("127.0.0.1:50000"), peer = ep("127.0.0.1:41000");
  int clientFd = udpSocket(ns, client), listenFd = udpSocket(ns, listen);
  int relayFd = udpSocket(ns, relay), peerFd = udpSocket(ns, peer);
  for (int fd : {clientFd, listenFd, relayFd, peerFd}) ASSERT_GE(fd, 0);
  ASSERT_TRUE(fp->watchPort(listen.port(), true) && fp->watchPort(relay.port(), true));
  ASSERT_TRUE(ns.inside([&] { return fp->bind(FastPathBinding{client, listen, relay, peer, 0x4000, 1}); }));
  ASSERT_TRUE(fp->setBudget(1, 1 << 20, 1 << 20));
  long errors = udpChecksumErrors(ns);
  uint64_t bytes = 0;
  for (size_t size : kSizes) {
    std::string payload = pattern(size);
    sendTo(clientFd, channelData(0x4000, payload), listen);
    auto atPeer = receive(peerFd);
    ASSERT_TRUE(atPeer) << size << " bytes did not reach the peer";
    EXPECT_EQ(atPeer->data, payload);
    EXPECT_EQ(atPeer->from, relay);
    sendTo(peerFd, payload, relay);
    auto atClient = receive(clientFd);
    ASSERT_TRUE(atClient) << size << " bytes did not come back to the client";
    EXPECT_EQ(atClient->data, channelData(0x4000, payload));
    EXPECT_EQ(atClient->from, listen);
    bytes += size;
  }
  EXPECT_FALSE(receive(listenFd, 50));
  EXPECT_FALSE(receive(relayFd, 50));
  EXPECT_EQ(udpChecksumErrors(ns), errors);
  FastPathCounters c = fp->takeCounters(1);
  EXPECT_EQ(c.bytesToPeer, bytes);
  EXPECT_EQ(c.bytesToClient, bytes);
  EXPECT_EQ(c.packetsToPeer, kSizes.size());
  for (int fd : {clientFd, listenFd, relayFd, peerFd}) close(fd);
  ns.inside([&] { fp.reset(); return 0; });
}

TEST(FastPathStale, DetachesWhatAKilledDaemonLeftBehind) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  Netns ns;
  ASSERT_TRUE(ns.ok());
  FastPath::Options options;
  options.interfaces = {"lo"};
  options.maxBindings = 8;
  options.maxAllocations = 8;
  options.instance = 7;
  auto found = ns.inside([&]() -> std::optional<int> {
    auto first = FastPath::open(options);
    if (!first) return std::nullopt;
    // A daemon killed with -9 never runs its destructor: leak the object, as the kernel would see it.
    FastPath* leaked = first.value().release();
    auto stale = FastPath::detachStale({"lo"}, 7);
    delete leaked;  // its own detach now finds nothing
    return stale ? std::optional<int>(*stale) : std::nullopt;
  });
  if (!found) GTEST_SKIP() << "BPF unavailable";
  EXPECT_EQ(*found, 1);
  auto again = ns.inside([&]() -> std::optional<int> {
    auto stale = FastPath::detachStale({"lo"}, 7);
    return stale ? std::optional<int>(*stale) : std::nullopt;
  });
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
  EXPECT_TRUE(ns.ip("link show lo"));
}

}  // namespace
}  // namespace rdv::node
