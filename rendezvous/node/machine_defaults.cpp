#include "rendezvous/node/machine_defaults.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

namespace rdv::node {

namespace {

uint64_t readNicSpeed() {
  namespace fs = std::filesystem;
  uint64_t fastest = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/sys/class/net", ec)) {
    if (entry.path().filename() == "lo") continue;
    std::ifstream state(entry.path() / "operstate");
    std::string s;
    if (!(state >> s) || s != "up") continue;
    std::ifstream speedFile(entry.path() / "speed");  // Mbit/s; -1 or unreadable for virtual NICs
    long long mbps = 0;
    if (speedFile >> mbps && mbps > 0) fastest = std::max(fastest, static_cast<uint64_t>(mbps) * 1'000'000);
  }
  return fastest;
}

}  // namespace

MachineFacts readMachineFacts() {
  MachineFacts m;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) m.openFiles = rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : rl.rlim_cur;
  const long pages = ::sysconf(_SC_PHYS_PAGES), pageSize = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && pageSize > 0) m.memoryBytes = static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize);
  m.nicBitsPerSecond = readNicSpeed();
  return m;
}

DerivedLimits deriveLimits(const MachineFacts& m, uint32_t relayPorts) {
  DerivedLimits d;
  uint64_t n = relayPorts;
  n = std::min<uint64_t>(n, m.openFiles / 2);
  n = std::min<uint64_t>(n, m.memoryBytes / 4 / kMemoryPerAllocation);
  d.maxAllocations = static_cast<uint32_t>(std::max<uint64_t>(n, 1));
  const uint64_t bits = m.nicBitsPerSecond != 0 ? m.nicBitsPerSecond : kFallbackNicBitsPerSecond;
  d.bpsCapacity = std::max<uint64_t>(bits / 8, 65535);  // never below the largest datagram
  return d;
}

void applyMachineDefaults(nlohmann::json& j, Config& c, const MachineFacts& m) {
  const DerivedLimits d = deriveLimits(m, c.relayPorts.size());
  if (!j.contains("max-allocations")) {
    c.quota.maxAllocations = d.maxAllocations;
    j["max-allocations"] = d.maxAllocations;
  }
  if (!j.contains("bps-capacity")) {
    c.quota.bpsCapacity = d.bpsCapacity;
    j["bps-capacity"] = d.bpsCapacity;
  }
}

}  // namespace rdv::node
