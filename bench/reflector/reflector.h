// The benchmark's reflector (reflector.bpf.c) from user space: load it, attach it at TC ingress of the
// load namespace's devices, name the targets it bounces for, switch its mode and read its counters.
// Detached (and its maps freed) when the object goes away; a filter left by a killed predecessor is
// replaced at attach (same handle and priority).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/reflector/reflector_maps.h"
#include "rendezvous/base/address.h"

namespace rdv::bench {

struct ReflectorCounts {
  uint64_t packets[RF_COUNTERS] = {};
  uint64_t bytes[RF_COUNTERS] = {};
};

class Reflector {
 public:
  // Loads the program and attaches it to every device named; nullptr and `error` on failure (no BPF,
  // no privileges, no such device).
  static std::unique_ptr<Reflector> open(const std::vector<std::string>& devices, std::string& error);
  ~Reflector();
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  bool addTarget(const Endpoint& destination, rf_kind kind);
  // Until `untilNs` (CLOCK_MONOTONIC, nowNs()); after it the program passes everything, whatever the mode.
  bool setMode(rf_mode mode, int64_t untilNs);
  // Summed over the CPUs.
  ReflectorCounts counts() const;

 private:
  struct Impl;
  explicit Reflector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdv::bench
