#include "bench/loadgen/options.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace rdv::bench {
namespace {

bool toDouble(const char* s, double& out) {
  char* end = nullptr;
  out = std::strtod(s, &end);
  return end && *end == '\0' && std::isfinite(out) && out >= 0;
}

bool toUnsigned(const char* s, uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(s, &end, 10);
  return end && *end == '\0' && s[0] != '-';
}

// Applies one "--name value" pair; false when the name is unknown or the value malformed.
bool apply(Options& o, std::string_view name, const char* v) {
  uint64_t u = 0;
  if (name == "--scenario") return o.scenario = v, true;
  if (name == "--label") return o.label = v, true;
  if (name == "--user") return o.user = v, true;
  if (name == "--password") return o.password = v, true;
  if (name == "--rest-secret") return o.restSecret = v, true;
  if (name == "--peer-bind") return o.peerBind = v, true;
  if (name == "--samples") return o.samplesFile = v, true;
  if (name == "--client-ip") {
    auto ip = IpAddress::parse(v);
    if (ip) o.clientIp = *ip;
    return ip.has_value();
  }
  if (name == "--server") {
    auto ep = Endpoint::parse(v);
    if (ep) o.server = *ep;
    return ep.has_value();
  }
  if (name == "--forwarder") {
    auto ep = Endpoint::parse(v);
    if (ep) o.forwarder = *ep;
    return ep.has_value();
  }
  if (name == "--duration") return toDouble(v, o.duration);
  if (name == "--rate") return toDouble(v, o.rate);
  if (name == "--hold") return toDouble(v, o.hold);
  if (name == "--setup-timeout") return toDouble(v, o.setupTimeout);
  if (name == "--count") return toUnsigned(v, o.count);
  if (name == "--server-pid")
    return toUnsigned(v, u) && u > 0 && u < (1u << 30) && (o.serverPid = static_cast<int>(u), true);
  if (name == "--forwarder-pid")
    return toUnsigned(v, u) && u > 0 && u < (1u << 30) && (o.forwarderPid = static_cast<int>(u), true);
  if (name == "--slice") {  // K/N, 0 <= K < N <= 64
    const std::string_view s(v);
    const size_t slash = s.find('/');
    uint64_t k = 0, n = 0;
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size() || !toUnsigned(std::string(s.substr(0, slash)).c_str(), k) ||
        !toUnsigned(std::string(s.substr(slash + 1)).c_str(), n) || n == 0 || n > 64 || k >= n) {
      return false;
    }
    o.slice = static_cast<unsigned>(k);
    o.slices = static_cast<unsigned>(n);
    return true;
  }
  if (name == "--cpu") return toUnsigned(v, u) && (o.cpu = static_cast<int>(u), true);
  if (name == "--flows" || name == "--allocations" || name == "--sockets")
    return toUnsigned(v, u) && u > 0 && u <= 100000 && (o.flows = static_cast<unsigned>(u), true);
  if (name == "--window") return toUnsigned(v, u) && u > 0 && u <= 512 && (o.window = static_cast<unsigned>(u), true);
  if (name == "--payload")
    return toUnsigned(v, u) && u >= 24 && u <= 1400 && (o.payload = static_cast<unsigned>(u), true);
  return false;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

}  // namespace

const char* usage() {
  return "usage: rdv-loadgen --scenario binding|allocate|channel|send|latency|latency-paired|memory --server IP:PORT\n"
         "  [--label NAME] [--cpu N] [--duration S] [--count N] [--rate PER_S] [--flows N] [--window N]\n"
         "  [--payload BYTES] [--raw] [--user U --password P | --rest-secret S] [--peer-bind IP:PORT]\n"
         "  [--client-ip IP] [--forwarder IP:PORT [--forwarder-pid PID] [--samples CSV]]\n"
         "  [--hold S] [--setup-timeout S] [--server-pid PID] [--sync] [--slice K/N]\n"
         "Prints one JSON line with the results. --raw drives rdv-baseline (echo for binding, forwarder\n"
         "for channel/send/latency) with the same payloads and no STUN/TURN framing.\n"
         "--server-pid: also report the server's CPU time (utime+stime) over the timed phase and per unit\n"
         "(answer, relayed packet or allocation). --sync: after setup print {\"event\":\"ready\"}, start on\n"
         "a line on stdin, print {\"event\":\"done\"} when the timed phase ends. --slice K/N: load generator\n"
         "K of N: client source addresses from slice K, the peer socket shared with the others (SO_REUSEPORT).\n"
         "latency-paired: --flows allocations on --server and as many sockets to the raw forwarder at\n"
         "--forwarder (rdv-baseline forward, its --peer at --peer-bind), one packet at a time at --rate,\n"
         "alternating between the two; kernel software timestamps at every send and receive (the relay-added\n"
         "latency without the load generator's wake-ups; docs/benchmarks.md); with --server-pid and\n"
         "--forwarder-pid also each path's run-queue wait (/proc/PID/task/*/schedstat) around every packet.\n";
}

std::optional<Options> parseOptions(int argc, char** argv, std::string& error) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (name == "--raw" || name == "--sync") {
      (name == "--raw" ? o.raw : o.sync) = true;
      continue;
    }
    if (i + 1 >= argc || !apply(o, name, argv[i + 1])) {
      error = "bad or unknown option " + std::string(name);
      return std::nullopt;
    }
    ++i;
  }
  static const std::string_view kScenarios[] = {"binding", "allocate", "channel", "send", "latency", "latency-paired",
                                                "memory"};
  bool known = false;
  for (auto s : kScenarios) known = known || s == o.scenario;
  if (!known) error = "unknown --scenario '" + o.scenario + "'";
  else if (o.server.port() == 0) error = "--server IP:PORT is required";
  else if (o.raw && (o.scenario == "allocate" || o.scenario == "memory")) error = "--raw has no " + o.scenario;
  else if (o.sync && o.scenario == "memory") error = "--sync has no memory (it holds until stdin closes)";
  else if (o.scenario == "latency-paired" && (o.raw || !o.forwarder || o.rate <= 0))
    error = "latency-paired needs --forwarder IP:PORT and --rate, and has no --raw";
  else if (o.forwarder && o.scenario != "latency-paired") error = "--forwarder is for latency-paired only";
  if (!error.empty()) return std::nullopt;
  return o;
}

JsonLine& JsonLine::add(const std::string& key, double v) {
  char buf[64];
  if (!std::isfinite(v)) v = 0;
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof(buf), "%.0f", v);
  else std::snprintf(buf, sizeof(buf), "%.3f", v);
  fields_.emplace_back(key, buf);
  return *this;
}

JsonLine& JsonLine::add(const std::string& key, const std::string& v) {
  fields_.emplace_back(key, quote(v));
  return *this;
}

JsonLine& JsonLine::add(const std::string& key, bool v) {
  fields_.emplace_back(key, v ? "true" : "false");
  return *this;
}

std::string JsonLine::str() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i) out += ",";
    out += quote(fields_[i].first) + ":" + fields_[i].second;
  }
  return out + "}";
}

}  // namespace rdv::bench
