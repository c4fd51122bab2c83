// rdv-apibench's two scenarios against a running rendezvousd's HTTP listener: signalling (WebSocket
// /v1/signal) and the registry (POST/GET /v1/registrations). Each returns its one-line JSON result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "rendezvous/base/address.h"

namespace rdv::bench {

struct SignalOptions {
  Endpoint server;          // the node's http-listen endpoint
  // A second node of the same fleet (docs/fleet.md): each pair's second client logs in there, so every
  // envelope crosses the fleet (Redis pub/sub). Unset: every client at `server`.
  std::optional<Endpoint> server2;
  std::string label = "rendezvousd";
  size_t clients = 1000;    // WebSocket clients, in pairs
  size_t pool = 8;          // envelopes each client seals before the timed phase
  size_t body = 200;        // body bytes per envelope (before encryption)
  size_t window = 4;        // unacknowledged envelopes per client (when rate is 0)
  double rate = 0;          // envelopes/s in total, round-robin over clients (0: window mode)
  double duration = 3;      // seconds of the timed phase
  uint64_t count = 0;       // also stop after this many envelopes (0: duration only)
  int serverPid = 0;        // for RSS (memory per idle connection); 0: not measured
  bool idleOnly = false;    // connect, authenticate, measure memory, stop
  size_t connectBatch = 100;  // handshakes pending at a time
  double setupSeconds = 60;   // for connecting, authenticating and the warm-up
  uint64_t keyOffset = 0;     // distinct identities across runs against one node
};

nlohmann::json runSignal(const SignalOptions& o);

struct RegistryOptions {
  Endpoint server;
  std::string label = "rendezvousd";
  size_t records = 2000;     // distinct signed records, registered in turn (then refreshed)
  size_t connections = 8;    // keep-alive connections posting registrations
  double duration = 3;       // seconds of registration load
  uint64_t count = 0;        // also stop after this many registrations
  size_t discoverRequests = 2000;  // sequential GETs for the latency percentiles (at most `duration` s)
  size_t limit = 100;              // records per discover page
  int serverPid = 0;               // for the server's CPU time per registration; 0: not measured
  uint64_t keyOffset = 0;
};

nlohmann::json runRegistry(const RegistryOptions& o);

}  // namespace rdv::bench
