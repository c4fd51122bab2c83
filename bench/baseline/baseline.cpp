// rdv-baseline: the machine's raw-socket limit for the benchmarks, in as little code as possible.
//   echo     answers every datagram with itself (the baseline for STUN Binding)
//   forward  a relay without STUN: each client source gets its own socket connected to --peer; client
//            datagrams go out through it, and what the peer sends back goes to that client (the baseline
//            for ChannelData, Send/Data and relay latency)
// Both batch with recvmmsg/sendmmsg on one thread. Writes {"udp":["IP:PORT"],"pid":N} to --ready-file.
// forward --rx-timestamps (a measurement of the measurement, docs/benchmarks.md "latency-paired"): every
// socket gets SO_TIMESTAMPNS, and the time from each datagram's kernel receive stamp to the return of the
// sendmmsg that forwarded it (its residence) is kept; at exit one JSON line of percentiles goes to stdout.
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <unordered_map>
#include <vector>

#include "bench/loadgen/udp.h"

namespace rdv::bench {
namespace {

volatile std::sig_atomic_t gStop = 0;
void onSignal(int) { gStop = 1; }

struct Args {
  std::string mode;
  Endpoint listen;
  Endpoint peer;
  std::string readyFile;
  int cpu = -1;
  bool rxTimestamps = false;
};

int64_t realtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Residence times of forwarded datagrams (--rx-timestamps), one direction.
class Residence {
 public:
  void add(int64_t ns) {
    if (ns > 0 && samples_.size() < 4'000'000) samples_.push_back(ns);
  }
  std::string json(const char* name) {
    std::string out = std::string("\"") + name + "_samples\":" + std::to_string(samples_.size());
    for (double p : {0.5, 0.99, 0.999}) {
      if (samples_.empty()) break;
      const size_t k = std::min(samples_.size() - 1, static_cast<size_t>(p * static_cast<double>(samples_.size())));
      std::nth_element(samples_.begin(), samples_.begin() + static_cast<long>(k), samples_.end());
      char buf[96];
      std::snprintf(buf, sizeof(buf), ",\"%s_p%g_us\":%.3f", name, p * 100, samples_[k] / 1000.0);
      out += buf;
    }
    return out;
  }

 private:
  std::vector<int64_t> samples_;
};

void enableRxTimestamps(int fd) {
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
}

void runEcho(int fd) {
  Batch batch;
  Poller poller;
  std::vector<uint32_t> ready;
  poller.add(fd, 0);
  while (!gStop) {
    poller.wait(ready, 200);
    if (ready.empty()) continue;
    for (unsigned n = batch.receive(fd); n; n = batch.receive(fd)) {
      for (unsigned k = 0; k < n; ++k) {
        batch.setLength(k, batch.length(k));
        const auto& a = batch.address(k);
        batch.setAddress(k, a, a.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
      }
      batch.send(fd, n);
    }
  }
}

uint64_t keyOf(const sockaddr_storage& a) {  // IPv4 client address and port as one number
  const auto& in = reinterpret_cast<const sockaddr_in&>(a);
  return (uint64_t{in.sin_addr.s_addr} << 16) | in.sin_port;
}

class Forwarder {
 public:
  Forwarder(int listenFd, const Endpoint& peer, const IpAddress& local, bool rxTimestamps)
      : listenFd_(listenFd), peer_(peer), local_(local), stamps_(rxTimestamps) {
    poller_.add(listenFd, 0);
    if (stamps_) {
      enableRxTimestamps(listenFd);
      in_.enableControl();
    }
  }

  void run() {
    std::vector<uint32_t> ready;
    while (!gStop) {
      poller_.wait(ready, 200);
      for (uint32_t i : ready) i == 0 ? fromClients() : fromPeer(i - 1);
    }
    if (stamps_)
      std::printf("{%s,%s}\n", toPeer_.json("to_peer").c_str(), toClient_.json("to_client").c_str());
  }

 private:
  struct Flow {
    int fd;
    sockaddr_storage client;
  };

  // Client datagrams, forwarded through each client's own socket; consecutive datagrams of one client
  // go out in one sendmmsg.
  void fromClients() {
    const unsigned n = in_.receive(listenFd_);
    unsigned k = 0;
    while (k < n) {
      const uint64_t key = keyOf(in_.address(k));
      const int fd = flowFor(key, in_.address(k));
      unsigned m = 0;
      for (; k < n && keyOf(in_.address(k)) == key; ++k, ++m) {
        std::memcpy(out_.buffer(m), in_.buffer(k), in_.length(k));
        out_.setLength(m, in_.length(k));
        out_.clearAddress(m);
      }
      if (fd >= 0) out_.send(fd, m);
      if (stamps_) {
        const int64_t sent = realtimeNs();
        for (unsigned i = k - m; i < k; ++i) toPeer_.add(sent - in_.rxStampNs(i));
      }
    }
  }

  void fromPeer(uint32_t index) {
    Flow& f = flows_[index];
    const unsigned n = in_.receive(f.fd);
    int64_t stamps[Batch::kBatch] = {};
    for (unsigned k = 0; k < n; ++k) {
      if (stamps_) stamps[k] = in_.rxStampNs(k);
      in_.setLength(k, in_.length(k));
      in_.setAddress(k, f.client, sizeof(sockaddr_in));
    }
    if (n) in_.send(listenFd_, n);
    if (stamps_ && n) {
      const int64_t sent = realtimeNs();
      for (unsigned k = 0; k < n; ++k) toClient_.add(sent - stamps[k]);
    }
  }

  int flowFor(uint64_t key, const sockaddr_storage& client) {
    auto it = byClient_.find(key);
    if (it != byClient_.end()) return flows_[it->second].fd;
    std::string error;
    const int fd = openUdp(Endpoint(local_, 0), &peer_, error);  // from the listen address, as a relay
    if (fd < 0) return -1;
    if (stamps_) enableRxTimestamps(fd);
    byClient_.emplace(key, static_cast<uint32_t>(flows_.size()));
    flows_.push_back({fd, client});
    poller_.add(fd, static_cast<uint32_t>(flows_.size()));
    return fd;
  }

  int listenFd_;
  Endpoint peer_;
  IpAddress local_;
  Poller poller_;
  Batch in_;
  Batch out_;
  std::vector<Flow> flows_;
  std::unordered_map<uint64_t, uint32_t> byClient_;  // client address -> index in flows_
  bool stamps_;
  Residence toPeer_, toClient_;
};

bool parseArgs(int argc, char** argv, Args& a) {
  if (argc < 2) return false;
  a.mode = argv[1];
  for (int i = 2; i < argc; i += 2) {
    const std::string name = argv[i];
    if (name == "--rx-timestamps") {
      a.rxTimestamps = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) return false;
    const char* v = argv[i + 1];
    if (name == "--listen" || name == "--peer") {
      auto ep = Endpoint::parse(v);
      if (!ep || !isBenchAddress(*ep)) return false;
      (name == "--listen" ? a.listen : a.peer) = *ep;
    } else if (name == "--ready-file") {
      a.readyFile = v;
    } else if (name == "--cpu") {
      a.cpu = std::atoi(v);
    } else {
      return false;
    }
  }
  return (a.mode == "echo" || (a.mode == "forward" && a.peer.port() != 0)) && a.listen.family() == Family::V4;
}

}  // namespace
}  // namespace rdv::bench

int main(int argc, char** argv) {
  using namespace rdv::bench;
  Args a;
  a.listen = *rdv::Endpoint::parse("127.0.0.1:0");
  if (!parseArgs(argc, argv, a)) {
    std::fprintf(stderr,
                 "usage: rdv-baseline echo|forward [--listen 127.0.0.1:PORT] [--peer 127.0.0.X:PORT (forward)]\n"
                 "                    [--ready-file F] [--cpu N] [--rx-timestamps (forward)]\n");
    return 2;
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  pinToCpu(a.cpu);
  std::string error;
  const int fd = openUdp(a.listen, nullptr, error);
  if (fd < 0) {
    std::fprintf(stderr, "rdv-baseline: %s\n", error.c_str());
    return 1;
  }
  if (!a.readyFile.empty()) {
    const std::string tmp = a.readyFile + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return 1;
    std::fprintf(f, "{\"udp\":[\"%s\"],\"pid\":%d}\n", localEndpoint(fd).toString().c_str(), getpid());
    std::fclose(f);
    std::rename(tmp.c_str(), a.readyFile.c_str());
  }
  if (a.mode == "echo") runEcho(fd);
  else Forwarder(fd, a.peer, a.listen.ip(), a.rxTimestamps).run();
  close(fd);
  return 0;
}
