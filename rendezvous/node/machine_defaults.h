// Defaults derived from the machine (issue 12, relay hoarding): max-allocations from the relay port range,
// the open-file limit and memory; bps-capacity from the NICs' speed. Applied when the configuration does
// not set the key (0 set explicitly still means unlimited); --print-config shows the values.
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "rendezvous/node/config.h"

namespace rdv::node {

struct MachineFacts {
  uint64_t openFiles = 1024;         // RLIMIT_NOFILE (soft)
  uint64_t memoryBytes = 1ull << 30;  // physical memory (MemTotal)
  uint64_t nicBitsPerSecond = 0;      // the fastest up, non-loopback NIC (/sys/class/net/*/speed); 0: unknown
};
MachineFacts readMachineFacts();

// Pure, so it is tested with made-up machines:
//   max-allocations = min(relay ports, open files / 2, memory / 4 / 64 KiB), at least 1
//   bps-capacity    = NIC speed / 8 bytes per second (each relayed byte crosses the NIC once in, once
//                     out: full duplex), or 125,000,000 (1 Gbit/s) when no NIC reports its speed
struct DerivedLimits {
  uint32_t maxAllocations = 0;
  uint64_t bpsCapacity = 0;
};
DerivedLimits deriveLimits(const MachineFacts& m, uint32_t relayPorts);
constexpr uint64_t kFallbackNicBitsPerSecond = 1'000'000'000;
constexpr uint64_t kMemoryPerAllocation = 64 * 1024;  // engine state, a relay socket and its queued data

// Sets max-allocations and bps-capacity in `c` and in the effective JSON `j` unless `j` has them.
void applyMachineDefaults(nlohmann::json& j, Config& c, const MachineFacts& m);

}  // namespace rdv::node
