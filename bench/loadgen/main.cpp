// rdv-loadgen: STUN/TURN load for the side-by-side benchmarks (bench/run.py). One scenario per run,
// bounded by --duration and --count; prints one JSON line of results on stdout.
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include "bench/loadgen/options.h"
#include "bench/loadgen/paired_latency.h"
#include "bench/loadgen/server_cpu.h"
#include "bench/loadgen/traffic.h"
#include "bench/loadgen/turn_clients.h"
#include "bench/loadgen/udp.h"

namespace rdv::bench {
namespace {

int64_t secondsToNs(double s) { return static_cast<int64_t>(s * 1e9); }

// The timed phase of a run, after its set-up. With --sync it starts when a line arrives on stdin (after
// {"event":"ready"} on stdout) and ends with {"event":"done"}, so that bench/run.py can start several
// load generators together (--procs). With --server-pid the server's CPU time is read at its start and
// end: server_cpu_start_us/server_cpu_end_us (cumulative, for summing over processes), server_cpu_us,
// and cpu_us_per = server_cpu_us / units (verified answers, relayed packets or allocations).
class TimedPhase {
 public:
  explicit TimedPhase(const Options& o) : o_(o) {}

  // False when --sync and stdin closed (or stayed silent for 10 minutes) without the go line.
  bool begin() {
    if (o_.sync) {
      std::printf("%s\n", JsonLine().add("event", std::string("ready")).str().c_str());
      std::fflush(stdout);
      pollfd p{STDIN_FILENO, POLLIN, 0};
      char c = 0;
      do {
        if (poll(&p, 1, 600'000) != 1 || read(STDIN_FILENO, &c, 1) != 1) return false;
      } while (c != '\n');
    }
    start_ = processCpuSeconds(o_.serverPid);
    machineStart_ = machineBusySeconds();
    irqStart_ = machineIrqSeconds();
    selfStart_ = processCpuSeconds(getpid());
    return true;
  }

  void end() {
    end_ = processCpuSeconds(o_.serverPid);
    machineEnd_ = machineBusySeconds();
    irqEnd_ = machineIrqSeconds();
    selfEnd_ = processCpuSeconds(getpid());
    if (o_.sync) {
      std::printf("%s\n", JsonLine().add("event", std::string("done")).str().c_str());
      std::fflush(stdout);
    }
  }

  void report(JsonLine& j, uint64_t units) const {
    if (machineStart_ && machineEnd_) {  // every core, every process and softirq: see machineBusySeconds()
      const double us = (*machineEnd_ - *machineStart_) * 1e6;
      j.add("machine_cpu_us", us).add("machine_cpu_us_per", units ? us / static_cast<double>(units) : 0.0);
    }
    if (irqStart_ && irqEnd_ && selfStart_ && selfEnd_) {  // this process and the machine's irq + softirq
      j.add("irq_cpu_us", (*irqEnd_ - *irqStart_) * 1e6).add("loadgen_cpu_us", (*selfEnd_ - *selfStart_) * 1e6);
    }
    if (o_.serverPid <= 0) return;
    if (!start_ || !end_) {
      j.add("cpu_error", "cannot read the CPU time of process " + std::to_string(o_.serverPid));
      return;
    }
    const double us = (*end_ - *start_) * 1e6;
    j.add("server_cpu_start_us", *start_ * 1e6).add("server_cpu_end_us", *end_ * 1e6).add("server_cpu_us", us);
    j.add("units", units).add("cpu_us_per", units ? us / static_cast<double>(units) : 0.0);
  }

 private:
  const Options& o_;
  std::optional<double> start_;
  std::optional<double> end_;
  std::optional<double> machineStart_, machineEnd_, irqStart_, irqEnd_, selfStart_, selfEnd_;
};

JsonLine notStarted() { return JsonLine().add("ok", false).add("error", std::string("--sync: no start line on stdin")); }

void addTurnStats(JsonLine& j, const TurnStats& s) {
  j.add("allocations", s.allocations).add("challenges", s.challenges).add("turn_errors", s.errors);
  j.add("timeouts", s.timeouts).add("mismatches", s.mismatches);
  if (!s.lastError.empty()) j.add("last_error", s.lastError);
}

JsonLine trafficResult(const Options& o, Traffic& t, const char* unit) {
  TrafficStats s = t.stats();
  JsonLine j;
  const double pps = s.seconds > 0 ? static_cast<double>(s.received) / s.seconds : 0;
  j.add("ok", s.received > 0 && s.invalid == 0).add("value", pps).add("unit", std::string(unit));
  j.add("sent", s.sent).add("received", s.received).add("invalid", s.invalid).add("lost", s.lost);
  j.add("seconds", s.seconds).add("payload", static_cast<uint64_t>(o.payload));
  j.add("mbps", s.seconds > 0 ? static_cast<double>(s.payloadBytes) * 8 / s.seconds / 1e6 : 0);
  j.add("p50_us", percentileUs(s.rttNs, 0.5)).add("p99_us", percentileUs(s.rttNs, 0.99));
  j.add("p999_us", percentileUs(s.rttNs, 0.999));
  if (s.received == 0) j.add("error", std::string("no verified answer"));
  else if (s.invalid) j.add("error", std::to_string(s.invalid) + " answers failed verification");
  return j;
}

// Client sockets connected to the server, bound on 127.0.0.1 (or the server's family on ::1), or on
// --client-ip.
bool openClients(const Options& o, std::vector<int>& fds, std::string& error) {
  Endpoint local(o.server.family() == Family::V4 ? IpAddress::v4(0x7f000001) : *IpAddress::parse("::1"), 0);
  if (o.clientIp) local = Endpoint(*o.clientIp, 0);
  for (unsigned i = 0; i < o.flows; ++i) {
    const int fd = openUdp(local, &o.server, error);
    if (fd < 0) return false;
    fds.push_back(fd);
  }
  return true;
}

JsonLine runBinding(const Options& o) {
  std::vector<int> fds;
  std::string error;
  if (!openClients(o, fds, error)) return JsonLine().add("ok", false).add("error", error);
  TimedPhase phase(o);
  if (!phase.begin()) return notStarted();
  TrafficConfig c{o.raw ? Framing::BindingRaw : Framing::BindingStun, 0, o.rate, o.window,
                  nowNs() + secondsToNs(o.duration), o.count};
  Traffic t(c, fds, -1, Endpoint{});
  t.run();
  phase.end();
  for (int fd : fds) close(fd);
  JsonLine j = trafficResult(o, t, "req/s");
  phase.report(j, t.stats().received);
  return j;
}

JsonLine runAllocate(const Options& o) {
  TurnClients clients(o);
  std::string error;
  if (!clients.open(o.flows, error)) return JsonLine().add("ok", false).add("error", error);
  TimedPhase phase(o);
  if (!phase.begin()) return notStarted();
  const int64_t t0 = nowNs();
  clients.run(Plan::Cycle, Endpoint{}, t0 + secondsToNs(o.duration), o.flows, o.rate, o.count);
  const double seconds = static_cast<double>(nowNs() - t0) / 1e9;
  phase.end();
  clients.releaseAll(nowNs() + secondsToNs(2));
  const TurnStats& s = clients.stats();
  JsonLine j;
  j.add("ok", s.cycles > 0 && s.errors == 0).add("value", static_cast<double>(s.allocations) / seconds);
  j.add("unit", std::string("alloc/s")).add("cycles", s.cycles).add("seconds", seconds);
  addTurnStats(j, s);
  if (s.cycles == 0 || s.errors) j.add("error", std::to_string(s.errors) + " errors, last: " + s.lastError);
  phase.report(j, s.allocations);
  return j;
}

// channel, send, latency: allocations bound to the in-process peer (or the raw forwarder), then traffic.
JsonLine runRelay(const Options& o) {
  std::string error;
  auto peerBind = Endpoint::parse(o.peerBind);
  const int peerFd = peerBind ? openUdp(*peerBind, nullptr, error, o.slices > 1) : -1;
  if (peerFd < 0) return JsonLine().add("ok", false).add("error", "peer socket: " + error);
  const Endpoint peer = localEndpoint(peerFd);
  TurnClients clients(o);
  std::vector<int> fds;
  Framing framing = Framing::Raw;
  if (o.raw) {
    if (!openClients(o, fds, error)) return JsonLine().add("ok", false).add("error", error);
  } else {
    const bool channel = o.scenario != "send";
    framing = channel ? Framing::ChannelData : Framing::SendIndication;
    if (!clients.open(o.flows, error)) return JsonLine().add("ok", false).add("error", error);
    clients.run(channel ? Plan::Channel : Plan::Permission, peer, nowNs() + secondsToNs(10 + o.flows / 500.0),
                64, 0, 0);
    for (const auto& s : clients.sessions())
      if (s.stage == Session::Stage::Done) fds.push_back(s.fd);
    if (fds.size() != o.flows) {
      JsonLine j;
      j.add("ok", false).add("error", "relay setup failed: " + clients.stats().lastError);
      addTurnStats(j, clients.stats());
      return j;
    }
  }
  TimedPhase phase(o);
  if (!phase.begin()) return notStarted();
  TrafficConfig c{framing, o.payload, o.rate, o.window, nowNs() + secondsToNs(o.duration), o.count};
  if (o.scenario == "latency") c.lossTimeoutNs = 200'000'000;
  Traffic t(c, fds, peerFd, peer);
  t.run();
  phase.end();
  if (o.raw)
    for (int fd : fds) close(fd);
  clients.releaseAll(nowNs() + secondsToNs(2));
  close(peerFd);
  JsonLine j = trafficResult(o, t, o.scenario == "latency" ? "us" : "pkt/s");
  // Every datagram that reached the peer, and every one back at a client, was relayed once by the server.
  j.add("relayed", t.stats().received + t.stats().peerReceived);
  phase.report(j, t.stats().received + t.stats().peerReceived);
  return j;
}

// latency-paired: --flows allocations with a channel to the in-process peer, as many sockets to the raw
// forwarder (whose --peer is that peer), then packets alternating between the two (paired_latency.h).
JsonLine runPaired(const Options& o) {
  std::string error;
  if (!isBenchAddress(*o.forwarder))
    return JsonLine().add("ok", false).add("error", std::string("--forwarder: not loopback or 198.18.0.0/15"));
  auto peerBind = Endpoint::parse(o.peerBind);
  const int peerFd = peerBind ? openUdp(*peerBind, nullptr, error) : -1;
  if (peerFd < 0) return JsonLine().add("ok", false).add("error", "peer socket: " + error);
  const Endpoint peer = localEndpoint(peerFd);
  TurnClients clients(o);
  std::vector<int> relayFds, fwdFds;
  Options toForwarder = o;
  toForwarder.server = *o.forwarder;
  if (!clients.open(o.flows, error) || !openClients(toForwarder, fwdFds, error)) {
    close(peerFd);
    for (int fd : fwdFds) close(fd);
    return JsonLine().add("ok", false).add("error", error);
  }
  clients.run(Plan::Channel, peer, nowNs() + secondsToNs(10 + o.flows / 500.0), 64, 0, 0);
  for (const auto& s : clients.sessions())
    if (s.stage == Session::Stage::Done) relayFds.push_back(s.fd);
  JsonLine j;
  if (relayFds.size() != o.flows) {
    j.add("ok", false).add("error", "relay setup failed: " + clients.stats().lastError);
    addTurnStats(j, clients.stats());
  } else {
    TimedPhase phase(o);
    if (!phase.begin()) {
      j = notStarted();
    } else {
      PairedLatency paired({o.payload, o.rate, secondsToNs(o.duration), o.count, o.serverPid, o.forwarderPid},
                           relayFds, fwdFds, peerFd);
      const bool ran = paired.run(error);
      phase.end();
      if (!ran) {
        j.add("ok", false).add("error", error);
      } else {
        paired.report(j);
        if (!o.samplesFile.empty() && !paired.writeSamples(o.samplesFile))
          j.add("ok", false).add("error", "cannot write --samples " + o.samplesFile);
        j.add("relayed", paired.relayedByServer());
        phase.report(j, paired.relayedByServer());
      }
    }
  }
  for (int fd : fwdFds) close(fd);
  clients.releaseAll(nowNs() + secondsToNs(2));
  close(peerFd);
  return j;
}

// Holds the allocations until stdin closes (or a line arrives) or --hold seconds pass.
void holdUntilReleased(double seconds) {
  pollfd p{STDIN_FILENO, POLLIN, 0};
  const int64_t end = nowNs() + secondsToNs(seconds);
  for (int64_t now = nowNs(); now < end; now = nowNs()) {
    const int r = poll(&p, 1, static_cast<int>(std::min<int64_t>((end - now) / 1'000'000 + 1, 1000)));
    if (r != 0) return;  // a line, EOF or an error: release
  }
}

JsonLine runMemory(const Options& o) {
  const uint64_t files = raiseFileLimit();
  TurnClients clients(o);
  std::string error;
  if (files < o.flows + 64) return JsonLine().add("ok", false).add("error", "open-file limit too low");
  if (!clients.open(o.flows, error)) return JsonLine().add("ok", false).add("error", error);
  const int64_t t0 = nowNs();
  clients.run(Plan::Hold, Endpoint{}, t0 + secondsToNs(30 + o.flows / 200.0), 128, o.rate, 0);
  const double setup = static_cast<double>(nowNs() - t0) / 1e9;
  std::printf("%s\n", JsonLine().add("event", std::string("holding")).add("allocations", clients.stats().allocations).str().c_str());
  std::fflush(stdout);
  holdUntilReleased(o.hold);
  clients.releaseAll(nowNs() + secondsToNs(10));
  const TurnStats& s = clients.stats();
  JsonLine j;
  j.add("ok", s.allocations == o.flows).add("value", s.allocations).add("unit", std::string("allocations"));
  j.add("setup_seconds", setup).add("released", s.released);
  addTurnStats(j, s);
  if (s.allocations != o.flows) j.add("error", "held " + std::to_string(s.allocations) + " of " + std::to_string(o.flows));
  return j;
}

}  // namespace
}  // namespace rdv::bench

int main(int argc, char** argv) {
  using namespace rdv::bench;
  std::string error;
  auto options = parseOptions(argc, argv, error);
  if (!options) {
    std::fprintf(stderr, "rdv-loadgen: %s\n%s", error.c_str(), usage());
    return 2;
  }
  const Options& o = *options;
  if (!isBenchAddress(o.server)) {
    std::fprintf(stderr, "rdv-loadgen: the server must be on loopback or in 198.18.0.0/15\n");
    return 2;
  }
  const bool pinned = pinToCpu(o.cpu);
  JsonLine j = o.scenario == "binding"    ? runBinding(o)
               : o.scenario == "allocate" ? runAllocate(o)
               : o.scenario == "memory"   ? runMemory(o)
               : o.scenario == "latency-paired" ? runPaired(o)
                                          : runRelay(o);
  j.add("scenario", o.scenario).add("label", o.label).add("raw", o.raw).add("cpu", static_cast<double>(o.cpu));
  j.add("pinned", pinned && o.cpu >= 0).add("flows", static_cast<uint64_t>(o.flows));
  std::printf("%s\n", j.str().c_str());
  return 0;
}
