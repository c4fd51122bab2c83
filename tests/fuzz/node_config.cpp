// The node's configuration file (rendezvousd --config FILE): JSON with comments, merged over the embedded
// defaults, validated key by key and across keys. A config that passes must also be usable by what the
// daemon builds from it at start: the quota book (with the fuzzed classes' rates, buckets and budgets
// driven by a few packets), the peer policy and the signalling hub limits.
#include <cstdint>
#include <string>

#include "relay/quota.h"
#include "rendezvous/node/config.h"
#include "rendezvous/node/api/signal_api.h"
#include "tests/fuzz/check.h"

using namespace rdv;

namespace {

void exerciseQuota(const node::Config& c) {
  relay::QuotaBook book(c.quota);
  const int64_t unixNow = 1'700'000'000;
  const relay::Instant start = relay::Instant{} + std::chrono::hours(1000);
  std::vector<std::string> identities = {"alice", "limited-peer"};
  for (const auto& [member, cls] : c.quota.members) {  // configured classes too
    if (identities.size() >= 5) break;
    identities.push_back(member);
  }
  for (const std::string& id : identities) {
    auto lease = book.acquire(id, id, /*staticUser=*/id == "alice", unixNow);
    if (lease.error != 0) {
      FUZZ_CHECK(lease.quota == nullptr && (lease.error == 486 || lease.error == 508));
      continue;
    }
    FUZZ_CHECK(lease.quota != nullptr);
    uint64_t relayed = 0;
    for (int i = 0; i < 8; ++i) {
      const uint64_t bytes = i % 2 ? 1200 : 65535;
      const auto verdict = book.admit(*lease.quota, relayed, bytes, start + std::chrono::milliseconds(i * 10), unixNow);
      if (verdict == relay::Admission::Ok) relayed += bytes;
    }
    (void)book.dailyBudgetSpent(*lease.quota, unixNow + 86400);
    book.release(lease.quota);
  }
  FUZZ_CHECK(book.allocations() == 0);
  // SIGHUP applies the same policy again.
  book.apply(c.quota);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto file = node::parseConfigText(text, "fuzz.json");
  if (!file) {
    FUZZ_CHECK(!file.error().empty());
    return 0;
  }
  auto defaults = node::parseConfigText(node::embeddedDefaultConfig(), "embedded default configuration");
  FUZZ_CHECK(defaults.ok());
  nlohmann::json merged = *defaults;
  node::mergeConfig(merged, *file);
  auto config = node::configFromJson(merged);
  if (!config) {
    // Errors name the key (or say the document is not an object).
    FUZZ_CHECK(config.error().find("configuration") != std::string::npos ||
               config.error().find("unknown configuration key") != std::string::npos);
    return 0;
  }
  // The file alone (no defaults) goes through the same checks without crashing.
  (void)node::configFromJson(*file);

  const node::Config& c = *config;
  FUZZ_CHECK(!c.listen.empty() || !c.tlsListen.empty());
  FUZZ_CHECK(c.registryMinTtlSeconds <= c.registryDefaultTtlSeconds);
  FUZZ_CHECK(c.registryDefaultTtlSeconds <= c.registryMaxTtlSeconds);
  FUZZ_CHECK(relay::validate(c.quota).empty());
  FUZZ_CHECK(!node::validateSignalConfig(c).has_value());
  identity::NodeId hub;
  hub.bytes[0] = 1;
  FUZZ_CHECK(!signalling::validateConfig(node::signalHubConfig(c, hub)).has_value());
  for (const auto& key : {"quota-classes", "listen", "nope"}) (void)node::isReloadableKey(key);

  // The peer policy the daemon builds from allow-peer/deny-peer, asked about a few peers.
  std::vector<IpAddress> own = c.relayAddresses;
  for (const auto& ep : c.listen) own.push_back(ep.ip());
  const relay::PeerPolicy policy(c.allowPeers, c.denyPeers, own, c.relayAddresses);
  for (const char* peer : {"93.184.216.34:5000", "127.0.0.1:50000", "[::ffff:10.0.0.1]:3478", "[2001:db8::1]:1"})
    (void)policy.check(*Endpoint::parse(peer));

  exerciseQuota(c);
  return 0;
}
