#include "bench/loadgen/paired_latency.h"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "bench/loadgen/kernel_stamps.h"
#include "bench/loadgen/udp.h"
#include "rendezvous/base/bytes.h"
#include "stun/channel_data.h"

namespace rdv::bench {
namespace {

constexpr uint16_t kChannel = 0x4000;
constexpr size_t kMaxSamples = 4'000'000;
constexpr size_t kStamp = 12;  // sequence (8 bytes), flow (4)
constexpr int kBootstrapRounds = 200;
constexpr double kPercentiles[] = {0.5, 0.99, 0.999};
constexpr const char* kNames[] = {"p50", "p99", "p999"};

// The value at rank floor(p * n) of the samples (the convention of percentileUs), in place; 0 when empty.
int64_t quantile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

double us(int64_t ns) { return static_cast<double>(ns) / 1000.0; }

// One quantity of every complete sample of one path.
struct Series {
  std::vector<int64_t> rtt, out, back, user, wait;
};

// Relay-added at percentile p: the relay path's p-th percentile minus the forwarder's, over the pairs of one
// run (`pairs`: relay, forwarder); its noise: a 95 % bootstrap interval, resampling pairs (so that whatever
// the two packets of a pair shared stays shared). Adds PREFIX{p50,p99,p999}_us and their _ci_us half-widths.
void addedStats(const std::vector<std::array<int64_t, 2>>& pairs, const std::string& prefix, JsonLine& j) {
  std::vector<int64_t> relay, fwd;
  for (const auto& p : pairs) {
    relay.push_back(p[0]);
    fwd.push_back(p[1]);
  }
  int64_t added[3];
  for (size_t i = 0; i < 3; ++i) added[i] = quantile(relay, kPercentiles[i]) - quantile(fwd, kPercentiles[i]);
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<size_t> pick(0, pairs.size() - 1);
  std::vector<int64_t> boot[3];
  for (int b = 0; b < kBootstrapRounds; ++b) {
    for (size_t n = 0; n < pairs.size(); ++n) {
      const auto& p = pairs[pick(rng)];
      relay[n] = p[0];
      fwd[n] = p[1];
    }
    for (size_t i = 0; i < 3; ++i) boot[i].push_back(quantile(relay, kPercentiles[i]) - quantile(fwd, kPercentiles[i]));
  }
  for (size_t i = 0; i < 3; ++i) {
    const int64_t lo = quantile(boot[i], 0.025), hi = quantile(boot[i], 0.975);
    j.add(prefix + kNames[i] + "_us", us(added[i])).add(prefix + kNames[i] + "_ci_us", us(hi - lo) / 2);
  }
}

}  // namespace

PairedLatency::PairedLatency(const PairedConfig& config, std::vector<int> relayFds, std::vector<int> forwarderFds,
                             int peerFd)
    : config_(config), relayFlows_(static_cast<unsigned>(relayFds.size())), peerFd_(peerFd), buf_(4096) {
  for (int fd : relayFds) flows_.push_back({fd, kRelay});
  for (int fd : forwarderFds) flows_.push_back({fd, kForwarder});
  const double planned = config.rate * static_cast<double>(config.durationNs) / 1e9 + 2;
  size_t n = static_cast<size_t>(std::min(planned, static_cast<double>(kMaxSamples)));
  if (config.count) n = std::min<size_t>(n, config.count);
  samples_.resize(n);
  if (config.serverPid > 0 && config.forwarderPid > 0 &&
      !(waits_[kRelay].open(config.serverPid) && waits_[kForwarder].open(config.forwarderPid))) {
    waits_[kRelay].close();
    waits_[kForwarder].close();
  }
}

PairedLatency::~PairedLatency() {
  if (timerFd_ >= 0) close(timerFd_);
  if (epollFd_ >= 0) close(epollFd_);
}

bool PairedLatency::run(std::string& error) {
  if (relayFlows_ == 0 || relayFlows_ == flows_.size() || config_.rate <= 0) {
    error = "latency-paired needs flows on both paths and a --rate";
    return false;
  }
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  timerFd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epollFd_ < 0 || timerFd_ < 0) {
    error = std::string("epoll/timerfd: ") + std::strerror(errno);
    return false;
  }
  auto watch = [&](int fd, uint32_t index) {
    epoll_event ev{};
    ev.events = EPOLLIN;  // EPOLLERR (a TX timestamp queued) is always reported
    ev.data.u32 = index;
    return epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev) == 0;
  };
  const uint32_t peerIndex = static_cast<uint32_t>(flows_.size());
  const uint32_t timerIndex = peerIndex + 1;
  for (uint32_t i = 0; i < flows_.size(); ++i)
    if (!enableKernelTimestamps(flows_[i].fd, error) || !watch(flows_[i].fd, i)) return false;
  if (!enableKernelTimestamps(peerFd_, error) || !watch(peerFd_, peerIndex) || !watch(timerFd_, timerIndex)) {
    if (error.empty()) error = std::string("epoll_ctl: ") + std::strerror(errno);
    return false;
  }
  // A timer, not a sleep in the loop: sends stay on their slots however late the loop ran, and a missed
  // slot is skipped rather than sent in a burst that would queue one path behind the other.
  const int64_t interval = std::max<int64_t>(1000, static_cast<int64_t>(1e9 / config_.rate));
  itimerspec its{};
  its.it_interval = {interval / 1'000'000'000, interval % 1'000'000'000};
  its.it_value = {0, 20'000'000};  // the kernel turns RX stamps on through deferred work (kernel_stamps.h)
  timerfd_settime(timerFd_, 0, &its, nullptr);

  const int64_t end = nowNs() + config_.durationNs;
  int64_t drainUntil = 0;
  std::array<epoll_event, 64> evs{};
  for (;;) {
    const int64_t now = nowNs();
    const bool sending = now < end && next_ < samples_.size();
    if (!sending) {
      if (drainUntil == 0) {
        drainUntil = now + 200'000'000;
        its = {};
        timerfd_settime(timerFd_, 0, &its, nullptr);
      }
      bool pending = false;
      for (uint64_t k = 0; k < next_ && !pending; ++k)
        pending = samples_[k].sent && !samples_[k].answered;
      if (!pending || now > drainUntil) break;
    }
    const int n = epoll_wait(epollFd_, evs.data(), static_cast<int>(evs.size()), sending ? -1 : 10);
    for (int i = 0; i < n; ++i) {
      const uint32_t index = evs[static_cast<size_t>(i)].data.u32;
      if (index == timerIndex) {
        uint64_t expirations = 0;
        if (read(timerFd_, &expirations, sizeof(expirations)) == sizeof(expirations) && expirations) {
          late_ += expirations - 1;
          if (sending) sendNext(nowNs());
        }
      } else if (index == peerIndex) {
        drainTxStamps(peerFd_, true);
        onPeerReadable();
      } else {
        drainTxStamps(flows_[index].fd, false);
        onClientReadable(index);
      }
    }
  }
  for (const Flow& f : flows_) drainTxStamps(f.fd, false);
  drainTxStamps(peerFd_, true);
  return true;
}

// Slot k: pairs (2j, 2j+1) go through both paths, the relay first in even pairs and the forwarder first in
// odd ones, so neither path always follows the other.
void PairedLatency::sendNext(int64_t now) {
  const uint64_t k = next_++;
  const uint64_t pair = k / 2;
  const Path first = pair % 2 == 0 ? kRelay : kForwarder;
  const Path path = k % 2 == 0 ? first : (first == kRelay ? kForwarder : kRelay);
  const unsigned flowsOnPath = path == kRelay ? relayFlows_ : static_cast<unsigned>(flows_.size()) - relayFlows_;
  const uint32_t flow = static_cast<uint32_t>((path == kRelay ? 0 : relayFlows_) + pair % flowsOnPath);

  uint8_t* p = buf_.data();
  size_t header = 0;
  if (path == kRelay) {
    storeBe16(p, kChannel);
    storeBe16(p + 2, static_cast<uint16_t>(config_.payload));
    header = stun::kChannelDataHeaderSize;
  }
  std::memset(p + header, 0x5a, config_.payload);
  storeBe32(p + header, static_cast<uint32_t>(k >> 32));
  storeBe32(p + header + 4, static_cast<uint32_t>(k));
  storeBe32(p + header + 8, flow);
  Sample& s = samples_[k];
  s.flow = flow;
  s.userSent = now;
  s.waitBefore = waits_[path].total();
  if (send(flows_[flow].fd, p, header + config_.payload, MSG_DONTWAIT) < 0) {
    ++sendErrors_;
    return;
  }
  s.sent = true;
  drainTxStamps(flows_[flow].fd, false);  // on loopback the stamp is queued before send() returns
}

PairedLatency::Sample* PairedLatency::sampleOf(const uint8_t* stamp) {
  const uint64_t seq = (uint64_t{loadBe32(stamp)} << 32) | loadBe32(stamp + 4);
  if (seq >= next_ || samples_[seq].flow != loadBe32(stamp + 8) || !samples_[seq].sent) return nullptr;
  return &samples_[seq];
}

void PairedLatency::drainTxStamps(int fd, bool peer) {
  StampedDatagram d;
  while (receiveTxStamp(fd, buf_.data(), buf_.size(), d)) {
    if (d.length < config_.payload || d.stampNs == 0) continue;  // not a TX software stamp of ours
    Sample* s = sampleOf(buf_.data() + d.length - config_.payload);
    if (!s) continue;
    (peer ? s->peerTx : s->clientTx) = d.stampNs;
  }
}

// The peer echoes every datagram to where it came from: a relayed address or the forwarder's socket.
void PairedLatency::onPeerReadable() {
  StampedDatagram d;
  while (receiveStamped(peerFd_, buf_.data(), buf_.size(), d)) {
    Sample* s = d.length == config_.payload ? sampleOf(buf_.data()) : nullptr;
    if (!s) {
      ++invalid_;
      continue;
    }
    s->peerRx = d.stampNs;
    const socklen_t len = d.from.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (sendto(peerFd_, buf_.data(), d.length, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&d.from), len) < 0)
      ++sendErrors_;
    drainTxStamps(peerFd_, true);
  }
}

void PairedLatency::onClientReadable(uint32_t flow) {
  StampedDatagram d;
  while (receiveStamped(flows_[flow].fd, buf_.data(), buf_.size(), d)) {
    const uint8_t* payload = buf_.data();
    unsigned length = d.length;
    if (flows_[flow].path == kRelay) {
      auto cd = stun::parseChannelData(ByteSpan(buf_.data(), d.length));
      if (!cd || cd->channel != kChannel) {
        ++invalid_;
        continue;
      }
      payload = cd->data.data();
      length = static_cast<unsigned>(cd->data.size());
    }
    Sample* s = length == config_.payload ? sampleOf(payload) : nullptr;
    if (!s || s->flow != flow || s->answered) {
      ++invalid_;
      continue;
    }
    s->clientRx = d.stampNs;
    s->userReceived = nowNs();
    s->waitAfter = waits_[flows_[flow].path].total();
    s->answered = true;
  }
}

bool PairedLatency::writeSamples(const std::string& path) const {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  std::fprintf(f, "seq,path,client_tx_ns,peer_rx_ns,peer_tx_ns,client_rx_ns,wait_before_ns,wait_after_ns,"
                  "user_sent_ns,user_received_ns\n");
  for (uint64_t k = 0; k < next_; ++k) {
    const Sample& s = samples_[k];
    if (!s.sent) continue;
    std::fprintf(f, "%llu,%s,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld\n", static_cast<unsigned long long>(k),
                 flows_[s.flow].path == kRelay ? "relay" : "forwarder", static_cast<long long>(s.clientTx),
                 static_cast<long long>(s.peerRx), static_cast<long long>(s.peerTx), static_cast<long long>(s.clientRx),
                 static_cast<long long>(s.waitBefore), static_cast<long long>(s.waitAfter),
                 static_cast<long long>(s.userSent), static_cast<long long>(s.userReceived));
  }
  return std::fclose(f) == 0;
}

uint64_t PairedLatency::relayedByServer() const {
  uint64_t n = 0;
  for (uint64_t k = 0; k < next_; ++k)
    n += samples_[k].answered && flows_[samples_[k].flow].path == kRelay ? 2 : 0;
  return n;
}

void PairedLatency::report(JsonLine& j) const {
  const bool waits = waits_[kRelay].isOpen() && waits_[kForwarder].isOpen();
  Series series[2];
  uint64_t answered = 0, lost = 0, missing = 0;
  // The kernel round trips of the pairs whose two packets completed (relay, forwarder), and of those pairs
  // where neither process waited on a run queue around its packet (no other task delayed either path).
  std::vector<std::array<int64_t, 2>> pairs, uncontended;
  for (uint64_t k = 0; k < next_; ++k) {
    const Sample& s = samples_[k];
    if (!s.sent) continue;
    if (!s.answered) ++lost;
    else ++answered;
    if (s.answered && !s.complete()) ++missing;
    if (!s.complete()) continue;
    Series& v = series[flows_[s.flow].path];
    v.out.push_back(s.peerRx - s.clientTx);
    v.back.push_back(s.clientRx - s.peerTx);
    v.rtt.push_back(v.out.back() + v.back.back());
    v.user.push_back(s.userReceived - s.userSent);
    v.wait.push_back(s.waitAfter - s.waitBefore);
    if (k % 2 == 1 && samples_[k - 1].complete()) {
      const Sample& a = samples_[k - 1];
      const int64_t rttA = (a.peerRx - a.clientTx) + (a.clientRx - a.peerTx);
      const int64_t rttB = v.rtt.back();
      const bool aIsRelay = flows_[a.flow].path == kRelay;
      pairs.push_back({aIsRelay ? rttA : rttB, aIsRelay ? rttB : rttA});
      if (a.waitAfter == a.waitBefore && v.wait.back() == 0) uncontended.push_back(pairs.back());
    }
  }
  j.add("ok", !pairs.empty() && invalid_ == 0).add("unit", std::string("us"));
  j.add("sent", next_ - sendErrors_).add("received", answered).add("lost", lost).add("invalid", invalid_);
  j.add("late_slots", late_).add("send_errors", sendErrors_).add("missing_stamps", missing);
  j.add("pairs", static_cast<uint64_t>(pairs.size())).add("payload", static_cast<uint64_t>(config_.payload));
  const char* prefixes[2] = {"", "fwd_"};
  for (int path = 0; path < 2; ++path) {
    Series v = series[path];
    const std::string pre = prefixes[path];
    j.add(pre + "samples", static_cast<uint64_t>(v.rtt.size()));
    for (size_t i = 0; i < 3; ++i) j.add(pre + "k_rtt_" + kNames[i] + "_us", us(quantile(v.rtt, kPercentiles[i])));
    for (size_t i = 0; i < 2; ++i) {
      j.add(pre + "k_out_" + kNames[i] + "_us", us(quantile(v.out, kPercentiles[i])));
      j.add(pre + "k_back_" + kNames[i] + "_us", us(quantile(v.back, kPercentiles[i])));
      j.add(pre + "user_rtt_" + kNames[i] + "_us", us(quantile(v.user, kPercentiles[i])));
      if (waits) j.add(pre + "run_wait_" + kNames[i] + "_us", us(quantile(v.wait, kPercentiles[i])));
    }
  }
  if (pairs.empty()) {
    j.add("error", std::string("no pair of packets completed with all four kernel timestamps"));
    return;
  }
  if (invalid_) j.add("error", std::to_string(invalid_) + " datagrams failed verification");
  addedStats(pairs, "added_", j);
  if (waits) {
    j.add("uncontended_pairs", static_cast<uint64_t>(uncontended.size()));
    if (!uncontended.empty()) addedStats(uncontended, "uncontended_added_", j);
  }
  // Per direction, from each path's own complete samples.
  for (int dir = 0; dir < 2; ++dir) {
    Series a = series[kRelay], b = series[kForwarder];
    auto& va = dir == 0 ? a.out : a.back;
    auto& vb = dir == 0 ? b.out : b.back;
    for (size_t i = 0; i < 2; ++i)
      j.add(std::string("added_") + (dir == 0 ? "out_" : "back_") + kNames[i] + "_us",
            us(quantile(va, kPercentiles[i]) - quantile(vb, kPercentiles[i])));
  }
  // The pairwise differences: their median is another estimate of the shift; their spread is the two
  // paths' jitter together, not added latency (docs/benchmarks.md).
  std::vector<int64_t> diff;
  for (const auto& p : pairs) diff.push_back(p[0] - p[1]);
  j.add("pair_diff_p50_us", us(quantile(diff, 0.5))).add("pair_diff_p01_us", us(quantile(diff, 0.01)));
  j.add("pair_diff_p99_us", us(quantile(diff, 0.99)));
  j.add("value", us(quantile(diff, 0.5)));
}

}  // namespace rdv::bench
