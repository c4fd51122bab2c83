// The HTTP API's request parsing (docs/registry.md, docs/operator.md): query strings, JSON bodies and the
// Authorization header, through the pure parsers and through the real handlers (a RegistryApi on a
// temporary data directory, the IceServersApi, parseUsageQuery). The first byte picks:
//   0: a query string ("a=b&c" as libwebsockets splits and decodes it) for GET /v1/registrations,
//      GET /v1/ice-servers (Bearer) and GET /v1/usage;
//   1: a POST /v1/registrations body; 2: a DELETE /v1/registrations body;
//   3: an Authorization header for GET /v1/ice-servers (RDV-Sig or Bearer).
// Every answer has a status in 200..599 and a JSON body; an error is {"error": code, "message": text}.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "rendezvous/identity/private_key.h"
#include "rendezvous/node/config.h"
#include "rendezvous/node/api/ice_servers.h"
#include "rendezvous/node/log.h"
#include "rendezvous/node/api/registry_api.h"
#include "rendezvous/node/api/usage_api.h"
#include "rendezvous/registry/cookie.h"
#include "tests/fuzz/check.h"

using namespace rdv;
using namespace rdv::node;

namespace {

constexpr int64_t kNow = 1'700'000'000;

void checkResponse(const HttpResponse& r) {
  FUZZ_CHECK(r.status >= 200 && r.status <= 599);
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!j.is_discarded() && j.is_object());
  if (r.status >= 400) FUZZ_CHECK(j.contains("error") && j["error"].is_string() && j.contains("message"));
}

std::string g_dataDir;
void removeDataDir() {
  std::error_code ec;
  if (!g_dataDir.empty()) std::filesystem::remove_all(g_dataDir, ec);
}

// One registry for the whole run, on a data directory removed at exit.
RegistryApi& registryApi() {
  static std::unique_ptr<RegistryApi> api = [] {
    initLogging("off", LogFormat::Text);
    g_dataDir = (std::filesystem::temp_directory_path() / ("rdv-fuzz-http-" + std::to_string(getpid()))).string();
    std::atexit(removeDataDir);
    Config c;
    c.dataDir = g_dataDir;
    c.registryMaxPerIdentity = 4;
    c.registryMaxPerNamespace = 16;
    auto opened = RegistryApi::open(c, [] { return registry::TimePoint{} + std::chrono::seconds(kNow); });
    FUZZ_CHECK(opened.ok());
    return std::move(*opened);
  }();
  return *api;
}

IceServersApi& iceApi() {  // get() records accepted signatures (ReplayCache): not const
  static IceServersApi api = [] {
    IceServersConfig c;
    c.authSecrets = {"fuzz-secret-0123456789", "old-secret-0123456789"};
    c.nodeId = identity::PrivateKey::fromHex(std::string(64, '1'))->nodeId();  // fixed, so seeds can sign
    c.udp = {*Endpoint::parse("127.0.0.1:3478"), *Endpoint::parse("[::1]:3478")};
    c.tls = {*Endpoint::parse("127.0.0.1:5349")};
    return IceServersApi(c, [] { return kNow; });
  }();
  return api;
}

HttpRequest requestWithQuery(std::string_view query) {
  HttpRequest r;
  r.method = "GET";
  size_t start = 0;
  while (start <= query.size()) {
    const size_t amp = std::min(query.find('&', start), query.size());
    if (amp > start) addQueryArgument(r.query, query.substr(start, amp - start));
    start = amp + 1;
  }
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  RegistryApi& registry = registryApi();
  switch (data[0] % 4) {
    case 0: {
      HttpRequest r = requestWithQuery(text);
      for (const auto& [k, v] : r.query) FUZZ_CHECK(k.find('=') == std::string::npos);
      if (auto limit = r.queryValue("limit")) (void)parseDiscoverLimit(*limit);
      if (auto ns = r.queryValue("namespace")) (void)registry::decodeCookie(*ns, r.queryValue("cookie").value_or(""));
      checkResponse(registry.getRegistrations(r));
      r.authorization = "Bearer fuzz-secret-0123456789";
      checkResponse(iceApi().get(r));
      if (auto q = parseUsageQuery(r, kNow)) {
        FUZZ_CHECK(q->since <= q->until);
        FUZZ_CHECK(q->by == "identity" || q->by == "day" || q->by == "class");
      } else {
        FUZZ_CHECK(!q.error().empty());
      }
      break;
    }
    case 1: {
      if (auto parsed = parseRegistrationRequest(text)) FUZZ_CHECK(parsed->record.encoded().size() <= 300);
      else checkResponse(parsed.error());
      HttpRequest r;
      r.method = "POST";
      r.body = text;
      checkResponse(registry.postRegistration(r));
      break;
    }
    case 2: {
      if (auto parsed = parseUnregistrationRequest(text)) (void)parsed->id.hex();
      else checkResponse(parsed.error());
      HttpRequest r;
      r.method = "DELETE";
      r.body = text;
      checkResponse(registry.deleteRegistration(r));
      break;
    }
    case 3: {
      HttpRequest r;
      const size_t q = text.find('?');
      r.authorization = text.substr(0, q);
      if (q != std::string::npos) r = [&] {
        HttpRequest withQuery = requestWithQuery(std::string_view(text).substr(q + 1));
        withQuery.authorization = text.substr(0, q);
        return withQuery;
      }();
      const HttpResponse resp = iceApi().get(r);
      checkResponse(resp);
      if (resp.status == 200) {
        auto j = nlohmann::json::parse(resp.body);
        FUZZ_CHECK(j["iceServers"].is_array() && !j["iceServers"].empty());
      }
      break;
    }
  }
  return 0;
}
