// Registry benchmarks: verified registrations per second (text ENR -> decode + verify ->
// Registry::registerRecord), discover latency percentiles at 100k records (1M with
// RDV_BENCH_RECORDS=1000000), memory and disk bytes per record, and SQLite write-through rates.
//   registry_bench [--benchmark_filter=...]      RDV_BENCH_RECORDS=N to size the discover set
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/cookie.h"
#include "rendezvous/registry/registry.h"
#include "rendezvous/storage/registry_store.h"

namespace {

using namespace std::chrono_literals;
using rdv::identity::PrivateKey;
using rdv::registry::Registry;
using rdv::registry::TimePoint;

const TimePoint kNow = TimePoint{} + 1'700'000'000s;

// Deterministic keys (secret = i + 1) so runs are comparable; typical 2-endpoint records.
PrivateKey keyFor(uint64_t i) {
  rdv::Bytes secret(32, 0);
  for (int b = 0; b < 8; ++b) secret[31 - b] = static_cast<uint8_t>((i + 1) >> (8 * b));
  return *PrivateKey::fromBytes(secret);
}

rdv::enr::EnrRecord recordFor(uint64_t i) {
  return *rdv::enr::EnrBuilder()
              .setSeq(1)
              .setIp({198, 51, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)})
              .setUdp(static_cast<uint16_t>(40000 + i % 20000))
              .setText("nat", "eim/apdf")
              .sign(keyFor(i));
}

const std::vector<std::string>& textRecords() {
  static const std::vector<std::string> records = [] {
    std::vector<std::string> out;
    for (uint64_t i = 0; i < 20000; ++i) out.push_back(recordFor(i).toText());
    return out;
  }();
  return records;
}

size_t benchRecords() {
  const char* env = std::getenv("RDV_BENCH_RECORDS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 100000;
}

// Parse + verify + register, from the text form the HTTP API receives.
void BM_VerifiedRegistration(benchmark::State& state) {
  const auto& texts = textRecords();
  Registry registry;
  size_t i = 0;
  for (auto _ : state) {
    auto record = rdv::enr::EnrRecord::fromText(texts[i % texts.size()]);
    auto plan = registry.registerRecord("bench", *record, 1h, kNow);
    benchmark::DoNotOptimize(plan);
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_VerifiedRegistration)->Unit(benchmark::kMicrosecond);

// The registry core alone (records already verified): where the time goes besides the signature.
void BM_RegisterCoreOnly(benchmark::State& state) {
  std::vector<rdv::enr::EnrRecord> records;
  for (uint64_t i = 0; i < 5000; ++i) records.push_back(*rdv::enr::EnrRecord::fromText(textRecords()[i]));
  Registry registry;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(registry.registerRecord("bench", records[i % records.size()], 1h, kNow));
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RegisterCoreOnly)->Unit(benchmark::kMicrosecond);

size_t heapInUse() { return mallinfo2().uordblks; }

struct BigRegistry {
  Registry registry{[] {
    rdv::registry::RegistryConfig c;
    c.maxPerNamespace = 10'000'000;
    return c;
  }()};
  size_t records = 0;
  double bytesPerRecord = 0;
};

// Built once: N distinct identities in one namespace (signing dominates the set-up time).
BigRegistry& bigRegistry() {
  static BigRegistry big = [] {
    BigRegistry b;
    b.records = benchRecords();
    const size_t before = heapInUse();
    for (uint64_t i = 0; i < b.records; ++i) {
      auto plan = b.registry.registerRecord("big", recordFor(i), 72h, kNow);
      if (!plan) std::abort();
    }
    b.bytesPerRecord = static_cast<double>(heapInUse() - before) / static_cast<double>(b.records);
    return b;
  }();
  return big;
}

void BM_Discover(benchmark::State& state) {
  auto& big = bigRegistry();
  const size_t limit = static_cast<size_t>(state.range(0));
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<uint64_t> position(0, big.registry.counter());
  std::vector<double> micros;
  micros.reserve(1 << 16);
  for (auto _ : state) {
    const std::string cookie = rdv::registry::encodeCookie("big", position(rng));
    const auto start = std::chrono::steady_clock::now();
    auto page = big.registry.discover("big", limit, cookie, kNow);
    benchmark::DoNotOptimize(page);
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double p) { return micros[static_cast<size_t>(p * static_cast<double>(micros.size() - 1))]; };
  state.counters["records"] = static_cast<double>(big.records);
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["max_us"] = micros.back();
  state.counters["heap_bytes_per_record"] = big.bytesPerRecord;
}
BENCHMARK(BM_Discover)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// Write-through cost per registration (one transaction each) and disk bytes per record.
void BM_StoreSave(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / ("rdv-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto sync = state.range(0) == 1 ? rdv::storage::Synchronous::Full : rdv::storage::Synchronous::Normal;
  {
    auto db = rdv::storage::Database::open((dir / "bench.db").string(), {sync});
    auto store = rdv::storage::RegistryStore::open(*db);
    Registry registry;
    size_t i = 0;
    for (auto _ : state) {
      auto record = rdv::enr::EnrRecord::fromText(textRecords()[i % textRecords().size()]);
      auto plan = registry.registerRecord("ns" + std::to_string(i / textRecords().size()), *record, 1h, kNow);
      if (!store->save(plan->registration)) std::abort();
      ++i;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    (void)db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
    state.counters["disk_bytes_per_record"] = static_cast<double>(std::filesystem::file_size(dir / "bench.db")) /
                                              static_cast<double>(std::max<size_t>(i, 1));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreSave)->Arg(0)->Arg(1)->ArgNames({"full_sync"})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
