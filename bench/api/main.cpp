// rdv-apibench: load on a running rendezvousd's HTTP listener, for bench/run.py (scenario 6 of the
// side-by-side benchmarks) or by hand. Prints one JSON line of results on stdout.
//   rdv-apibench --scenario signal --server 127.0.0.1:8080 [--clients 1000] [--window 4 | --rate R]
//                [--duration 3] [--server-pid PID] [--idle-only] [--cpu 1]
//   rdv-apibench --scenario registry --server 127.0.0.1:8080 [--records 2000] [--connections 8]
//   rdv-apibench --scenario fanout --server 127.0.0.1:8080 [--subscribers 1000] [--messages 50]
//                [--interval-ms 20] [--body 32] [--presence-rounds 20]
#include <CLI/CLI.hpp>

#include <iostream>

#include "bench/api/fanout_load.h"
#include "bench/api/signal_load.h"
#include "bench/api/tcp.h"

int main(int argc, char** argv) {
  using namespace rdv::bench;
  CLI::App app{"rdv-apibench: signalling and registry load on rendezvousd's HTTP API (one JSON line out)"};
  std::string scenario = "signal", server, label = "rendezvousd";
  int cpu = -1;
  SignalOptions so;
  RegistryOptions ro;
  FanoutOptions fo;
  double duration = 3;
  uint64_t count = 0, keyOffset = 0;
  app.add_option("--scenario", scenario, "signal | registry | fanout")
      ->check(CLI::IsMember({"signal", "registry", "fanout"}));
  app.add_option("--server", server, "the node's http-listen ADDR:PORT")->required();
  std::string server2;
  app.add_option("--server2", server2,
                 "signal: a second node of the same fleet; each pair's second client logs in there (cross-node envelopes)");
  app.add_option("--label", label, "echoed in the result");
  app.add_option("--cpu", cpu, "pin to this core");
  app.add_option("--duration", duration, "seconds of load");
  app.add_option("--count", count, "also stop after this many envelopes/registrations");
  app.add_option("--key-offset", keyOffset, "shift the deterministic keys (distinct identities per run)");
  app.add_option("--clients", so.clients, "signal: WebSocket clients (even)");
  app.add_option("--pool", so.pool, "signal: envelopes sealed per client before the timed phase");
  app.add_option("--body", so.body, "signal: body bytes per envelope");
  app.add_option("--window", so.window, "signal: unacknowledged envelopes per client");
  app.add_option("--rate", so.rate, "signal: envelopes/s in total (latency at a fixed rate; 0: window mode)");
  app.add_option("--server-pid", so.serverPid, "the node's pid: its CPU time per envelope/registration, RSS per idle connection");
  app.add_flag("--idle-only", so.idleOnly, "signal: connect, authenticate, measure memory, stop");
  app.add_option("--connect-batch", so.connectBatch, "signal: handshakes pending at a time");
  app.add_option("--records", ro.records, "registry: distinct signed records");
  app.add_option("--connections", ro.connections, "registry: keep-alive connections posting");
  app.add_option("--discover-requests", ro.discoverRequests, "registry: sequential discover GETs");
  app.add_option("--limit", ro.limit, "registry: records per discover page");
  app.add_option("--subscribers", fo.subscribers, "fanout: clients subscribed to the topic");
  app.add_option("--messages", fo.messages, "fanout: publications");
  app.add_option("--interval-ms", fo.intervalMs, "fanout: milliseconds between publications");
  app.add_option("--presence-rounds", fo.presenceRounds, "fanout: connect/close rounds timed by a watcher");
  CLI11_PARSE(app, argc, argv);
  auto endpoint = rdv::Endpoint::parse(server);
  if (!endpoint) {
    std::cerr << "rdv-apibench: --server '" << server << "' is not ADDR:PORT\n";
    return 2;
  }
  pinToCpu(cpu);
  nlohmann::json result;
  if (scenario == "signal") {
    so.server = *endpoint;
    if (!server2.empty()) {
      so.server2 = rdv::Endpoint::parse(server2);
      if (!so.server2) {
        std::cerr << "rdv-apibench: --server2 '" << server2 << "' is not ADDR:PORT\n";
        return 2;
      }
    }
    so.label = label;
    so.duration = duration;
    so.count = count;
    so.keyOffset = keyOffset;
    result = runSignal(so);
  } else if (scenario == "fanout") {
    fo.server = *endpoint;
    fo.label = label;
    fo.keyOffset = keyOffset;
    if (app.count("--body") > 0) fo.body = so.body;
    result = runFanout(fo);
  } else {
    ro.server = *endpoint;
    ro.label = label;
    ro.duration = duration;
    ro.count = count;
    ro.keyOffset = keyOffset;
    ro.serverPid = so.serverPid;
    result = runRegistry(ro);
  }
  std::cout << result.dump() << std::endl;
  return result.value("ok", false) ? 0 : 1;
}
