// rdv-apibench --scenario registry: verified registrations per second through the node's HTTP API
// (POST /v1/registrations: the node decodes and verifies each signed ENR, then commits it to SQLite
// before answering 201), then discover latency (GET /v1/registrations, one request at a time).
// Records are signed before anything is timed, each with its own key; when a run needs more than
// `records` registrations the records are posted again (a refresh: verified and committed too), each
// with a new proof of possession signed as it is sent (the node accepts a signed request once).
#include <algorithm>
#include <ctime>
#include <memory>
#include <vector>

#include "bench/api/signal_load.h"
#include "bench/api/tcp.h"
#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/unregister_message.h"

namespace rdv::bench {
namespace {

struct HttpClient {
  TcpConn tcp;
  bool connected = false;
  bool busy = false;
  int64_t sentAt = 0;
};

size_t countOf(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

double percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return static_cast<double>(v[k]) / 1000.0;
}

}  // namespace

nlohmann::json runRegistry(const RegistryOptions& o) {
  nlohmann::json j = {{"scenario", "registry"}, {"label", o.label}, {"ok", false}};
  const std::string ns = "bench-" + std::to_string(o.keyOffset) + "-" + std::to_string(monoNs() % 1000000);
  std::vector<std::string> requests;
  std::vector<identity::PrivateKey> keys;
  std::vector<enr::EnrRecord> records;
  std::vector<int64_t> signedAt;  // the last proof's time per record (unix ms), so no proof repeats
  const int64_t t0 = monoNs();
  for (size_t i = 0; i < o.records; ++i) {
    Bytes secret(32, 0);
    const uint64_t v = o.keyOffset + i + 1;
    for (int b = 0; b < 8; ++b) secret[31 - b] = static_cast<uint8_t>(v >> (8 * b));
    secret[0] = 0x3c;
    auto key = identity::PrivateKey::fromBytes(secret);
    if (!key) {
      j["error"] = "key generation failed";
      return j;
    }
    auto record = enr::EnrBuilder()
                      .setSeq(1)
                      .setIp({198, 51, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)})
                      .setUdp(static_cast<uint16_t>(40000 + i % 20000))
                      .setText("nat", "eim/apdf")
                      .sign(*key);
    if (!record) {
      j["error"] = "record signing failed";
      return j;
    }
    // Proof of possession (docs/registry.md): the record's key signs (namespace, ttl, time).
    const int64_t now = static_cast<int64_t>(std::time(nullptr)) * 1000 + static_cast<int64_t>(i % 1000);
    auto proof = key->sign(registry::registerDigest(ns, record->encoded(), 3600, now));
    if (!proof) {
      j["error"] = "request signing failed";
      return j;
    }
    const nlohmann::json body = {
        {"namespace", ns}, {"enr", record->toText()}, {"ttl", 3600}, {"time", now}, {"signature", toHex(*proof)}};
    requests.push_back(httpRequest("POST", o.server, "/v1/registrations", body.dump()));
    keys.push_back(*key);
    records.push_back(*record);
    signedAt.push_back(now);
  }
  // A refresh of record i: the same record with a proof signed now (a later millisecond than the last).
  auto refresh = [&](size_t i) {
    int64_t now = static_cast<int64_t>(std::time(nullptr)) * 1000;
    if (now <= signedAt[i]) now = signedAt[i] + 1;
    signedAt[i] = now;
    auto proof = keys[i].sign(registry::registerDigest(ns, records[i].encoded(), 3600, now));
    const nlohmann::json body = {{"namespace", ns}, {"enr", records[i].toText()}, {"ttl", 3600}, {"time", now},
                                 {"signature", proof ? toHex(*proof) : std::string()}};
    return httpRequest("POST", o.server, "/v1/registrations", body.dump());
  };
  j["prebuild_s"] = static_cast<double>(monoNs() - t0) / 1e9;

  Epoll loop;
  std::vector<std::unique_ptr<HttpClient>> clients;
  std::string error;
  for (size_t i = 0; i < o.connections; ++i) {
    auto c = std::make_unique<HttpClient>();
    if (!c->tcp.connect(o.server, error)) {
      j["error"] = error;
      return j;
    }
    loop.add(c->tcp.fd, c.get(), true);
    c->tcp.writeArmed = true;
    clients.push_back(std::move(c));
  }
  uint64_t next = 0, registered = 0, failed = 0;
  std::string lastError;
  std::vector<int64_t> postLatency;
  bool stopping = false;
  auto post = [&](HttpClient& c) {
    if (stopping || (o.count > 0 && next >= o.count)) return;
    c.busy = true;
    c.sentAt = monoNs();
    const uint64_t n = next++;
    const bool first = n < requests.size();
    if (!c.tcp.send(loop, first ? requests[n] : refresh(n % requests.size()))) ++failed;
  };
  const double cpuBefore = o.serverPid > 0 ? cpuSeconds(o.serverPid) : 0;
  const int64_t start = monoNs();
  const int64_t end = start + static_cast<int64_t>(o.duration * 1e9);
  epoll_event events[64];
  size_t open = clients.size();
  while (open > 0) {
    const int64_t now = monoNs();
    if (now >= end || (o.count > 0 && registered + failed >= o.count)) stopping = true;
    bool anyBusy = false;
    for (auto& c : clients) anyBusy |= c->busy || !c->connected;
    if (stopping && !anyBusy) break;
    if (now > end + 10'000'000'000LL) {
      lastError = "registrations unanswered 10 s after the end";
      ++failed;
      break;
    }
    const int n = loop.wait(events, 64, 5);
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<HttpClient*>(events[i].data.ptr);
      if (c.tcp.fd < 0) continue;
      if (!c.connected) {
        if (int err = c.tcp.connectResult(); err != 0) {
          lastError = "connect failed";
          ++failed;
          c.tcp.close(loop);
          --open;
          continue;
        }
        c.connected = true;
        c.tcp.flush(loop);
        post(c);
        continue;
      }
      if (events[i].events & EPOLLOUT) c.tcp.flush(loop);
      if (!(events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      if (!c.tcp.readAvailable()) {
        lastError = "the node closed a connection";
        ++failed;
        c.tcp.close(loop);
        c.busy = false;
        --open;
        continue;
      }
      bool bad = false;
      while (auto a = parseHttpAnswer(c.tcp.pending(), bad)) {
        if (a->status == 201) {
          ++registered;
          postLatency.push_back(monoNs() - c.sentAt);
        } else {
          ++failed;
          lastError = "POST answered " + std::to_string(a->status) + ": " + std::string(a->body.substr(0, 160));
        }
        c.tcp.consume(a->size);
        c.busy = false;
        post(c);
      }
      if (bad) {
        lastError = "unparseable HTTP answer";
        ++failed;
        c.tcp.close(loop);
        --open;
      }
    }
  }
  const double seconds = static_cast<double>(std::min(monoNs(), end) - start) / 1e9;
  for (auto& c : clients) c->tcp.close(loop);
  if (o.serverPid > 0 && registered > 0) {
    const double cpu = cpuSeconds(o.serverPid) - cpuBefore;
    j["server_cpu_us_per_registration"] = cpu * 1e6 / static_cast<double>(registered);
    j["per_core"] = cpu > 0 ? static_cast<double>(registered) / cpu : 0;
  }
  j["seconds"] = seconds;
  j["registered"] = registered;
  j["failed"] = failed;
  j["value"] = seconds > 0 ? static_cast<double>(registered) / seconds : 0;
  j["unit"] = "registrations/s";
  j["post_p50_us"] = percentile(postLatency, 0.5);
  j["post_p99_us"] = percentile(postLatency, 0.99);

  // Discover latency: one keep-alive connection, one GET at a time, pages of `limit` records.
  const size_t expected = std::min<uint64_t>(o.limit, std::min<uint64_t>(registered, requests.size()));
  std::vector<int64_t> discover;
  HttpClient d;
  if (!d.tcp.connect(o.server, error)) {
    j["error"] = error;
    return j;
  }
  loop.add(d.tcp.fd, &d, true);
  d.tcp.writeArmed = true;
  const std::string get =
      httpRequest("GET", o.server, "/v1/registrations?namespace=" + ns + "&limit=" + std::to_string(o.limit), "");
  const int64_t dEnd = monoNs() + static_cast<int64_t>(std::max(1.0, o.duration) * 1e9);
  uint64_t discoverFailed = 0;
  while (discover.size() + discoverFailed < o.discoverRequests && monoNs() < dEnd + 5'000'000'000LL) {
    const int n = loop.wait(events, 64, 5);
    if (n == 0) continue;
    if (!d.connected) {
      if (d.tcp.connectResult() != 0) break;
      d.connected = true;
      d.tcp.flush(loop);
      d.sentAt = monoNs();
      d.tcp.send(loop, get);
      continue;
    }
    if (events[0].events & EPOLLOUT) d.tcp.flush(loop);
    if (!d.tcp.readAvailable()) {
      lastError = "the node closed the discover connection";
      ++discoverFailed;
      break;
    }
    bool bad = false;
    if (auto a = parseHttpAnswer(d.tcp.pending(), bad)) {
      const int64_t took = monoNs() - d.sentAt;
      if (a->status == 200 && countOf(a->body, "\"enr\":") == expected) {
        discover.push_back(took);
      } else {
        ++discoverFailed;
        lastError = "discover answered " + std::to_string(a->status) + " with " +
                    std::to_string(countOf(a->body, "\"enr\":")) + " records, expected " + std::to_string(expected);
      }
      d.tcp.consume(a->size);
      if (monoNs() >= dEnd) break;
      d.sentAt = monoNs();
      d.tcp.send(loop, get);
    } else if (bad) {
      ++discoverFailed;
      lastError = "unparseable discover answer";
      break;
    }
  }
  d.tcp.close(loop);
  j["discover_requests"] = discover.size();
  j["discover_failed"] = discoverFailed;
  j["discover_limit"] = o.limit;
  j["discover_p50_us"] = percentile(discover, 0.5);
  j["discover_p99_us"] = percentile(discover, 0.99);
  const bool ok = registered > 0 && failed == 0 && !discover.empty() && discoverFailed == 0;
  j["ok"] = ok;
  if (!ok) j["error"] = lastError.empty() ? "no registration answered" : lastError;
  return j;
}

}  // namespace rdv::bench
