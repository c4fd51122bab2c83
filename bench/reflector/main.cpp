// rdv-reflector: the load of bench/run.py --veth's reflector rows. It sets up the TURN allocations (or
// the raw forwarder's flows) like rdv-loadgen, then attaches reflector.bpf.c at TC ingress of the load
// namespace's devices, injects a window of datagrams per flow and lets them circulate between the relay
// and the reflectors with no user space on the load side. The timed phase reads the reflectors' counters,
// /proc/stat and the server's CPU time; then the clients' datagrams are drained up to their sockets and
// verified (framing, channel, payload bytes, no duplicate), which gives the packets still in flight at
// the end. Prints one JSON line; exit 0 (even for a failed run: "ok": false), 2 on a bad command line,
// 77 when BPF cannot be used here (no root, no BPF), so a test can skip.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen/options.h"
#include "bench/loadgen/server_cpu.h"
#include "bench/loadgen/turn_clients.h"
#include "bench/loadgen/udp.h"
#include "bench/reflector/reflector.h"

namespace rdv::bench {
namespace {

struct Args {
  Options turn;                  // server, user, password, client IP, flows (for TurnClients)
  Endpoint peer;                 // the peer address the channels are bound to (bounced at --peer-dev)
  std::vector<std::string> devices;
  unsigned window = 16;          // datagrams injected per flow
  unsigned payload = 100;
  double duration = 3;           // the timed phase, seconds
  double warmup = 0.5;           // seconds between the injection and the timed phase
  bool raw = false;              // the raw forwarder: bare payloads, no TURN
  bool probe = false;            // only load the program (and unload it): can BPF be used here?
  Endpoint serve;                // --serve: be the null relay at this address instead (see kUsage)
  std::string readyFile;         // --serve: written once the reflector bounces
  std::vector<int> injectCpus;   // flow i is injected from injectCpus[i % size] (its softirq runs there)
};

const char* kUsage =
    "usage: rdv-reflector --server IP:PORT --client-ip IP --peer IP:PORT --device DEV [--device DEV]\n"
    "  [--flows N] [--window N] [--payload BYTES] [--duration S] [--warmup S] [--raw]\n"
    "  [--user U --password P] [--server-pid PID] [--inject-cpus 0,1]\n"
    "Sets up N allocations with a channel to --peer (or N flows through the raw forwarder with --raw),\n"
    "attaches the reflector at TC ingress of every --device, injects --window datagrams per flow and\n"
    "measures for --duration seconds. Prints one JSON line. Needs root (BPF); exit 77 without it.\n"
    "rdv-reflector --probe: load the program and unload it (exit 0), or say why not (exit 77).\n"
    "rdv-reflector --serve IP:PORT --device DEV [--ready-file F]: the null relay, the harness's measure of\n"
    "the load alone: bounce every datagram sent to IP:PORT at DEV until SIGTERM.\n";

bool parseCpus(const std::string& s, std::vector<int>& out) {
  size_t at = 0;
  while (at < s.size()) {
    size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    const std::string one = s.substr(at, comma - at);
    if (one.empty() || one.find_first_not_of("0123456789") != std::string::npos || one.size() > 4) return false;
    out.push_back(std::stoi(one));
    at = comma + 1;
  }
  return !out.empty();
}

std::optional<Args> parse(int argc, char** argv, std::string& error) {
  Args a;
  a.turn.flows = 16;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    if (name == "--raw" || name == "--probe") {
      (name == "--raw" ? a.raw : a.probe) = true;
      continue;
    }
    if (i + 1 >= argc) return error = "missing value for " + name, std::nullopt;
    const std::string v = argv[++i];
    char* end = nullptr;
    const double number = std::strtod(v.c_str(), &end);
    const bool isNumber = end && *end == '\0' && !v.empty() && number >= 0;
    if (name == "--serve") {
      auto ep = Endpoint::parse(v);
      if (!ep || !ep->ip().isV4() || !isBenchAddress(*ep)) return error = "--serve: an IPv4 IP:PORT in 198.18.0.0/15", std::nullopt;
      a.serve = *ep;
    } else if (name == "--ready-file") {
      a.readyFile = v;
    } else if (name == "--server" || name == "--peer") {
      auto ep = Endpoint::parse(v);
      if (!ep || !ep->ip().isV4() || !isBenchAddress(*ep)) return error = name + ": an IPv4 IP:PORT in 198.18.0.0/15 or loopback", std::nullopt;
      (name == "--server" ? a.turn.server : a.peer) = *ep;
    } else if (name == "--client-ip") {
      auto ip = IpAddress::parse(v);
      if (!ip || !ip->isV4()) return error = "--client-ip: an IPv4 address", std::nullopt;
      a.turn.clientIp = *ip;
    } else if (name == "--device") {
      a.devices.push_back(v);
    } else if (name == "--user") {
      a.turn.user = v;
    } else if (name == "--password") {
      a.turn.password = v;
    } else if (name == "--inject-cpus") {
      if (!parseCpus(v, a.injectCpus)) return error = "--inject-cpus: a list like 0,1", std::nullopt;
    } else if (!isNumber) {
      return error = "bad or unknown option " + name, std::nullopt;
    } else if (name == "--flows" && number >= 1 && number <= 4000) {
      a.turn.flows = static_cast<unsigned>(number);
    } else if (name == "--window" && number >= 1 && number <= 4096) {
      a.window = static_cast<unsigned>(number);
    } else if (name == "--payload" && number >= 12 && number <= 1400) {
      a.payload = static_cast<unsigned>(number);
    } else if (name == "--duration" && number > 0 && number <= 600) {
      a.duration = number;
    } else if (name == "--warmup" && number <= 60) {
      a.warmup = number;
    } else if (name == "--server-pid" && number >= 1 && number < (1u << 30)) {
      a.turn.serverPid = static_cast<int>(number);
    } else {
      return error = "bad value for " + name, std::nullopt;
    }
  }
  if (a.probe) return a;
  if (a.serve.port() != 0) {
    if (a.devices.empty()) return error = "--serve needs --device", std::nullopt;
    return a;
  }
  if (a.turn.server.port() == 0 || a.peer.port() == 0 || !a.turn.clientIp || a.devices.empty())
    return error = "--server, --peer, --client-ip and --device are required", std::nullopt;
  return a;
}

// One core's line of /proc/stat: busy (everything but idle and iowait) and softirq+irq, in ticks.
struct CoreTicks {
  unsigned long long busy = 0, irq = 0, total = 0;
};

std::vector<CoreTicks> readCores() {
  std::vector<CoreTicks> out;
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return out;
  char line[512];
  while (std::fgets(line, sizeof(line), f)) {
    if (std::strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') continue;  // not "cpu " (the sum)
    unsigned cpu = 0;
    unsigned long long v[8] = {};
    if (std::sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
                    &v[5], &v[6], &v[7]) != 9)
      continue;
    CoreTicks t;
    t.irq = v[5] + v[6];
    t.busy = v[0] + v[1] + v[2] + t.irq + v[7];
    t.total = t.busy + v[3] + v[4];
    out.push_back(t);
  }
  std::fclose(f);
  return out;
}

// The 12-byte stamp and the fill of datagram `seq` of flow `flow`.
void fillPayload(uint8_t* p, unsigned length, uint32_t flow, uint32_t seq) {
  std::memcpy(p, &flow, 4);
  std::memcpy(p + 4, &seq, 4);
  const uint32_t magic = 0x52464c54;  // "RFLT"
  std::memcpy(p + 8, &magic, 4);
  for (unsigned i = 12; i < length; ++i) p[i] = static_cast<uint8_t>(flow * 7 + seq * 13 + i);
}

// The datagram a client sends: ChannelData 0x4000 + payload (RFC 8656 §12.4; no padding over UDP), or
// the bare payload to the raw forwarder.
unsigned buildDatagram(uint8_t* out, const Args& a, uint32_t flow, uint32_t seq) {
  unsigned header = 0;
  if (!a.raw) {
    out[0] = 0x40, out[1] = 0x00, out[2] = static_cast<uint8_t>(a.payload >> 8), out[3] = static_cast<uint8_t>(a.payload);
    header = 4;
  }
  fillPayload(out + header, a.payload, flow, seq);
  return header + a.payload;
}

struct Drained {
  uint64_t valid = 0, invalid = 0, duplicates = 0;
};

// Reads what the drain delivers to the client sockets until all that was injected is back or they stay
// quiet for 500 ms (a relay starved of CPU on a busy machine may hold some that long; 5 s at most),
// checking each datagram against what was injected on that flow.
Drained drain(const Args& a, const std::vector<int>& fds, uint64_t injected) {
  Drained d;
  std::vector<std::vector<bool>> seen(fds.size(), std::vector<bool>(a.window, false));
  std::vector<pollfd> pfds;
  for (int fd : fds) pfds.push_back({fd, POLLIN, 0});
  Batch batch;
  std::vector<uint8_t> expect(Batch::kBufSize);
  const int64_t hardEnd = nowNs() + 5'000'000'000;
  while (nowNs() < hardEnd && d.valid < injected) {
    if (poll(pfds.data(), pfds.size(), 500) <= 0) break;
    for (size_t f = 0; f < fds.size(); ++f) {
      if (!(pfds[f].revents & POLLIN)) continue;
      for (unsigned n = batch.receive(fds[f]); n; n = batch.receive(fds[f])) {
        for (unsigned k = 0; k < n; ++k) {
          const uint8_t* p = batch.buffer(k);
          const unsigned len = batch.length(k);
          if (!a.raw && len >= 1 && (p[0] & 0xC0) == 0) continue;  // a STUN message: not ours
          uint32_t flow = 0, seq = 0;
          const unsigned header = a.raw ? 0 : 4;
          if (len != header + a.payload) { ++d.invalid; continue; }
          std::memcpy(&flow, p + header, 4);
          std::memcpy(&seq, p + header + 4, 4);
          if (flow != f || seq >= a.window) { ++d.invalid; continue; }
          buildDatagram(expect.data(), a, flow, seq);
          if (std::memcmp(expect.data(), p, len) != 0) { ++d.invalid; continue; }
          if (seen[f][seq]) { ++d.duplicates; continue; }
          seen[f][seq] = true;
          ++d.valid;
        }
      }
    }
  }
  return d;
}

volatile std::sig_atomic_t gStop = 0;
void onSignal(int) { gStop = 1; }

// --serve: bounces what arrives for a.serve until SIGTERM or SIGINT; the reflector's own deadline ends
// the bouncing within an hour in any case.
int serve(const Args& a, Reflector& reflector) {
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  if (!reflector.addTarget(a.serve, RF_PEER) || !reflector.setMode(RF_REFLECT, nowNs() + 3600'000'000'000)) {
    std::fprintf(stderr, "rdv-reflector: cannot write the BPF maps\n");
    return 1;
  }
  if (!a.readyFile.empty()) {
    const std::string tmp = a.readyFile + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return 1;
    std::fprintf(f, "{\"udp\":[\"%s\"],\"pid\":%d}\n", a.serve.toString().c_str(), getpid());
    std::fclose(f);
    std::rename(tmp.c_str(), a.readyFile.c_str());
  }
  while (!gStop) poll(nullptr, 0, 200);
  return 0;
}

JsonLine fail(const std::string& error) { return JsonLine().add("ok", false).add("error", error); }

JsonLine run(const Args& a, Reflector& reflector) {
  // Set-up, with the reflector passing everything up the stack.
  TurnClients clients(a.turn);
  std::vector<int> fds;
  std::string error;
  if (a.raw) {
    for (unsigned i = 0; i < a.turn.flows; ++i) {
      const int fd = openUdp(Endpoint(*a.turn.clientIp, 0), &a.turn.server, error);
      if (fd < 0) return fail(error);
      fds.push_back(fd);
    }
  } else {
    if (!clients.open(a.turn.flows, error)) return fail(error);
    clients.run(Plan::Channel, a.peer, nowNs() + 10'000'000'000 + a.turn.flows * 2'000'000LL, 64, 0, 0);
    for (const auto& s : clients.sessions())
      if (s.stage == Session::Stage::Done) fds.push_back(s.fd);
    if (fds.size() != a.turn.flows) return fail("relay setup failed: " + clients.stats().lastError);
  }
  for (int fd : fds)
    if (!reflector.addTarget(localEndpoint(fd), a.raw ? RF_CLIENT_RAW : RF_CLIENT_CHANNEL)) return fail("target map full");
  // The safety net: the reflectors stop bouncing on their own 10 s after the drain should have ended.
  const int64_t until = nowNs() + static_cast<int64_t>((a.warmup + a.duration + 15) * 1e9);
  if (!reflector.addTarget(a.peer, RF_PEER) || !reflector.setMode(RF_REFLECT, until)) return fail("cannot write the BPF maps");

  // The injection: `window` datagrams per flow, each flow from its CPU.
  uint64_t injected = 0;
  Batch out;
  for (size_t f = 0; f < fds.size(); ++f) {
    if (!a.injectCpus.empty()) pinToCpu(a.injectCpus[f % a.injectCpus.size()]);
    for (unsigned seq = 0; seq < a.window;) {
      unsigned n = 0;
      for (; n < Batch::kBatch && seq + n < a.window; ++n) {
        out.setLength(n, buildDatagram(out.buffer(n), a, static_cast<uint32_t>(f), seq + n));
        out.clearAddress(n);
      }
      const unsigned sent = out.send(fds[f], n);
      injected += sent;
      seq += n;
    }
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(a.warmup));

  // The timed phase.
  const ReflectorCounts c0 = reflector.counts();
  const auto cores0 = readCores();
  const auto machine0 = machineBusySeconds(), irq0 = machineIrqSeconds(), self0 = processCpuSeconds(getpid());
  const auto server0 = processCpuSeconds(a.turn.serverPid);
  const int64_t t0 = nowNs();
  std::this_thread::sleep_for(std::chrono::duration<double>(a.duration));
  const ReflectorCounts c1 = reflector.counts();
  const int64_t t1 = nowNs();
  const auto cores1 = readCores();
  const auto machine1 = machineBusySeconds(), irq1 = machineIrqSeconds(), self1 = processCpuSeconds(getpid());
  const auto server1 = processCpuSeconds(a.turn.serverPid);

  // The drain: what is still circulating comes up to the client sockets and is verified.
  reflector.setMode(RF_DRAIN, until);
  const Drained d = drain(a, fds, injected);
  reflector.setMode(RF_PASS, 0);
  const ReflectorCounts c2 = reflector.counts();
  if (!a.raw) clients.releaseAll(nowNs() + 2'000'000'000);
  for (int fd : fds)
    if (a.raw) close(fd);

  const double seconds = static_cast<double>(t1 - t0) / 1e9;
  const uint64_t atClient = c1.packets[RF_AT_CLIENT] - c0.packets[RF_AT_CLIENT];
  const uint64_t atPeer = c1.packets[RF_AT_PEER] - c0.packets[RF_AT_PEER];
  const uint64_t relayed = atClient + atPeer;
  const uint64_t lost = injected > d.valid ? injected - d.valid : 0;
  JsonLine j;
  j.add("ok", atClient > 0 && d.invalid == 0 && d.duplicates == 0).add("value", static_cast<double>(atClient) / seconds);
  j.add("unit", std::string("round trips/s")).add("relayed_per_s", static_cast<double>(relayed) / seconds);
  j.add("seconds", seconds).add("payload", static_cast<uint64_t>(a.payload)).add("flows", static_cast<uint64_t>(fds.size()));
  j.add("to_client_packets", atClient).add("to_peer_packets", atPeer);
  // Bytes per relayed packet as the reflectors saw them, over the whole run (set-up traffic passes
  // uncounted): payload + 4 at a TURN client (the ChannelData header), the payload at the peer.
  const auto per = [](uint64_t bytes, uint64_t packets) { return packets ? static_cast<double>(bytes) / static_cast<double>(packets) : 0.0; };
  j.add("to_client_bytes_per_packet", per(c2.bytes[RF_AT_CLIENT] + c2.bytes[RF_DRAINED], c2.packets[RF_AT_CLIENT] + c2.packets[RF_DRAINED]));
  j.add("to_peer_bytes_per_packet", per(c2.bytes[RF_AT_PEER], c2.packets[RF_AT_PEER]));
  // The whole run's datagrams relayed each way as the reflectors saw them (set-up to release): what the
  // relay's own counters must show (bench/veth_bench.py compares them with rendezvousd's /metrics).
  j.add("run_to_peer_packets", c2.packets[RF_AT_PEER]).add("run_to_client_packets", c2.packets[RF_AT_CLIENT] + c2.packets[RF_DRAINED]);
  j.add("in_flight_start", injected).add("in_flight_end", d.valid).add("lost", lost);
  j.add("drained_invalid", d.invalid).add("drained_duplicates", d.duplicates);
  j.add("drained_counted", c2.packets[RF_DRAINED]);
  if (machine0 && machine1 && irq0 && irq1) {
    const double us = (*machine1 - *machine0) * 1e6;
    j.add("machine_cpu_us", us).add("machine_cpu_us_per", relayed ? us / static_cast<double>(relayed) : 0.0);
    j.add("irq_cpu_us", (*irq1 - *irq0) * 1e6);
  }
  if (self0 && self1) j.add("loadgen_cpu_us", (*self1 - *self0) * 1e6);
  if (server0 && server1) {
    const double us = (*server1 - *server0) * 1e6;
    j.add("server_cpu_us", us).add("units", relayed).add("cpu_us_per", relayed ? us / static_cast<double>(relayed) : 0.0);
  }
  if (cores0.size() == cores1.size()) {  // each core's busy and irq+softirq share of the phase
    std::string busy, irq;
    for (size_t i = 0; i < cores0.size(); ++i) {
      const double total = static_cast<double>(cores1[i].total - cores0[i].total);
      char b[32];
      std::snprintf(b, sizeof(b), "%s%.2f", i ? "/" : "", total > 0 ? static_cast<double>(cores1[i].busy - cores0[i].busy) / total : 0.0);
      busy += b;
      std::snprintf(b, sizeof(b), "%s%.2f", i ? "/" : "", total > 0 ? static_cast<double>(cores1[i].irq - cores0[i].irq) / total : 0.0);
      irq += b;
    }
    j.add("core_busy", busy).add("core_softirq", irq);
  }
  if (atClient == 0) j.add("error", std::string("nothing circulated (") + std::to_string(injected) + " injected)");
  else if (d.invalid || d.duplicates)
    j.add("error", std::to_string(d.invalid) + " drained datagrams failed verification, " + std::to_string(d.duplicates) + " duplicates");
  return j;
}

}  // namespace
}  // namespace rdv::bench

int main(int argc, char** argv) {
  using namespace rdv::bench;
  std::string error;
  auto args = parse(argc, argv, error);
  if (!args) {
    std::fprintf(stderr, "rdv-reflector: %s\n%s", error.c_str(), kUsage);
    return 2;
  }
  if (geteuid() != 0) {
    std::printf("%s\n", fail("needs root (BPF at TC ingress)").str().c_str());
    return 77;
  }
  auto reflector = Reflector::open(args->probe ? std::vector<std::string>{} : args->devices, error);
  if (!reflector) {
    std::printf("%s\n", fail("BPF: " + error).str().c_str());
    return 77;
  }
  if (args->probe) {
    std::printf("%s\n", JsonLine().add("ok", true).str().c_str());
    return 0;
  }
  if (args->serve.port() != 0) return serve(*args, *reflector);
  JsonLine j = run(*args, *reflector);
  reflector.reset();  // detached before the result is printed: a caller may delete the devices next
  j.add("raw", args->raw).add("window", static_cast<uint64_t>(args->window));
  std::printf("%s\n", j.str().c_str());
  return 0;
}
