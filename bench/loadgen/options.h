// rdv-loadgen's command line and its one-line JSON result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rendezvous/base/address.h"

namespace rdv::bench {

struct Options {
  std::string scenario;   // binding | allocate | channel | send | latency | latency-paired | memory
  std::string label;      // echoed in the result ("rendezvousd", "coturn", "baseline")
  Endpoint server;        // the STUN/TURN server, or the raw echo/forwarder
  int cpu = -1;           // pin the load generator to this core (-1: no pinning)
  double duration = 5;    // seconds; every run stops by then
  uint64_t count = 0;     // stop after this many sent requests/packets (0: duration only)
  double rate = 0;        // requests or packets per second in total (0: as fast as the window allows)
  unsigned flows = 4;     // sockets (binding) or allocations (allocate, channel, send, latency, memory)
  unsigned window = 16;   // requests/packets in flight per socket
  unsigned payload = 100; // relayed payload bytes (channel, send, latency)
  bool raw = false;       // plain UDP to the raw baseline (echo or forwarder), no STUN/TURN framing
  std::string user = "bench";
  std::string password = "benchpass";
  std::string restSecret;   // when set: coturn REST credentials computed from this shared secret
  std::string peerBind = "127.0.0.2:0";  // the in-process peer echo (not the node's own 127.0.0.1)
  std::optional<IpAddress> clientIp;     // every client socket's source address (veth runs); default 127.x
  std::optional<Endpoint> forwarder;     // latency-paired: the raw forwarder running beside the server
  int forwarderPid = 0;                  // latency-paired: its pid (with --server-pid: run-queue waits)
  std::string samplesFile;               // latency-paired: every sample as CSV
  double hold = 60;         // memory: seconds to hold the allocations at most (stdin EOF ends it sooner)
  double setupTimeout = 1;  // seconds before a setup request is retransmitted (3 times at most)
  int serverPid = 0;        // when set: the server's CPU time over the timed phase is measured (server_cpu.h)
  bool sync = false;        // print {"event":"ready"} after setup and start the timed phase on a stdin line
  unsigned slice = 0;       // this process is load generator `slice` of `slices` (bench/run.py --procs)
  unsigned slices = 1;
};

// Parses argv; on failure returns nullopt and fills `error`.
std::optional<Options> parseOptions(int argc, char** argv, std::string& error);
const char* usage();

// One JSON object on one line, keys in insertion order.
class JsonLine {
 public:
  JsonLine& add(const std::string& key, double v);
  JsonLine& add(const std::string& key, uint64_t v) { return add(key, static_cast<double>(v)); }
  JsonLine& add(const std::string& key, const std::string& v);
  JsonLine& add(const std::string& key, bool v);
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

}  // namespace rdv::bench
