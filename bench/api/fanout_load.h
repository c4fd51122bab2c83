// rdv-apibench --scenario fanout: topic fan-out and presence latency on a running rendezvousd
// (docs/signalling.md, "Topics" and "Presence"). One JSON result.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "rendezvous/base/address.h"

namespace rdv::bench {

struct FanoutOptions {
  Endpoint server;
  std::string label = "rendezvousd";
  size_t subscribers = 1000;  // WebSocket clients subscribed to one topic
  size_t messages = 50;       // publications by one publisher, one per `intervalMs`
  double intervalMs = 20;
  size_t body = 32;            // body bytes per publication
  size_t presenceRounds = 20;  // an opted-in client connects and closes; a watcher times the events
  uint64_t keyOffset = 0;
};

// deliveries/s (all subscribers), latency percentiles publish -> subscriber, presence online/offline
// latency percentiles (client authenticated/closed -> watcher's event), bytes per publish frame.
nlohmann::json runFanout(const FanoutOptions& o);

}  // namespace rdv::bench
