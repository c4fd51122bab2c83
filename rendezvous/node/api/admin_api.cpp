#include "rendezvous/node/api/admin_api.h"

#include <charconv>
#include <chrono>

#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {

constexpr const char* kUnauthorized = "the admin API needs 'Authorization: Bearer <admin-token>'";

std::string_view lastSegment(const std::string& path, std::string_view prefix) {
  return std::string_view(path).substr(prefix.size());
}

}  // namespace

struct AdminApi::State {
  storage::Database db;
  std::optional<storage::BanStore> bans;
  std::shared_ptr<relay::AdmissionControl> admission;
  AdminHooks hooks;
};

AdminApi::AdminApi(std::unique_ptr<State> state) : state_(std::move(state)) {}
AdminApi::~AdminApi() = default;

Result<std::unique_ptr<AdminApi>, std::string> AdminApi::open(const std::string& databasePath,
                                                              std::shared_ptr<relay::AdmissionControl> admission,
                                                              AdminHooks hooks) {
  using Out = Result<std::unique_ptr<AdminApi>, std::string>;
  auto db = storage::Database::open(databasePath);
  if (!db) return Out(unexpected("bans: cannot open " + databasePath + ": " + db.error().message));
  auto state = std::make_unique<State>(State{std::move(*db), std::nullopt, std::move(admission), std::move(hooks)});
  auto store = storage::BanStore::open(state->db);
  if (!store) return Out(unexpected("bans: " + store.error().message));
  state->bans.emplace(std::move(*store));
  std::unique_ptr<AdminApi> api(new AdminApi(std::move(state)));
  if (auto err = api->publishBans()) return Out(unexpected("bans: " + *err));
  return Out(std::move(api));
}

std::optional<std::string> AdminApi::publishBans() {
  auto rows = state_->bans->active(state_->hooks.unixNow());
  if (!rows) return rows.error().message;
  relay::BanMap map;
  for (const auto& b : *rows) map[b.identity] = relay::Ban{b.reason, b.until};
  state_->admission->setBans(std::move(map));
  return std::nullopt;
}

nlohmann::json allocationJson(const relay::AllocationInfo& a, double nowMono,
                              const std::function<std::string(const relay::RelayPort&)>& relayAddress) {
  nlohmann::json relays = nlohmann::json::array();
  for (uint8_t i = 0; i < a.relayCount; ++i) relays.push_back(relayAddress(a.relays[i]));
  const double started = std::chrono::duration<double>(a.started.time_since_epoch()).count();
  static const char* transports[] = {"udp", "tcp", "tls"};
  return {{"id", a.id},
          {"client", a.tuple.client.toString()},
          {"transport", transports[static_cast<int>(a.tuple.transport)]},
          {"relay", relays},
          {"peers", a.peers},
          {"bytes_up", a.toPeer.bytes},
          {"bytes_down", a.toClient.bytes},
          {"age_seconds", static_cast<int64_t>(std::max(0.0, nowMono - started))},
          {"started", a.startedUnix},
          {"identity", a.identity},
          {"username", a.username},
          {"class", a.quotaClass}};
}

HttpResponse AdminApi::listAllocations(const HttpRequest& r) {
  const auto identity = r.queryValue("identity");
  const auto cls = r.queryValue("class");
  const double now = state_->hooks.monoSeconds();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : state_->hooks.allocations()) {
    if (identity && a.identity != *identity) continue;
    if (cls && a.quotaClass != *cls) continue;
    list.push_back(allocationJson(a, now, state_->hooks.relayAddress));
  }
  std::sort(list.begin(), list.end(), [](const auto& x, const auto& y) { return x["id"] < y["id"]; });
  return jsonResponse(200, {{"allocations", list}});
}

HttpResponse AdminApi::endAllocation(const HttpRequest& r) {
  const std::string_view text = lastSegment(r.path, "/v1/allocations/");
  uint64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id == 0)
    return jsonError(400, "bad_id", "expected /v1/allocations/{id} with a numeric id");
  if (!state_->hooks.endAllocation(id)) return jsonError(404, "not_found", "no live allocation " + std::to_string(id));
  logEvent(Level::Info, "allocation-ended-by-admin", {{"id", id}});
  return jsonResponse(200, {{"ended", id}, {"reason", "ended-by-admin"}});
}

HttpResponse AdminApi::addBan(const HttpRequest& r) {
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return jsonError(400, "bad_json", "expected a JSON object");
  const auto identity = body.find("identity");
  if (identity == body.end() || !identity->is_string() || identity->get<std::string>().empty() ||
      identity->get<std::string>().size() > storage::BanStore::kMaxIdentityBytes)
    return jsonError(400, "bad_identity", "'identity' must be a string of 1-256 bytes (node id, REST ID or user)");
  storage::BanRow row{identity->get<std::string>(), "", state_->hooks.unixNow(), 0};
  if (const auto reason = body.find("reason"); reason != body.end()) {
    if (!reason->is_string() || reason->get<std::string>().size() > storage::BanStore::kMaxReasonBytes)
      return jsonError(400, "bad_reason", "'reason' must be a string of at most 1024 bytes");
    row.reason = reason->get<std::string>();
  }
  if (const auto until = body.find("until"); until != body.end() && !until->is_null()) {
    if (!until->is_number_integer() || until->get<int64_t>() <= row.created)
      return jsonError(400, "bad_until", "'until' must be a unix time in the future (or absent: until lifted)");
    row.until = until->get<int64_t>();
  }
  if (auto s = state_->bans->put(row); !s) return jsonError(500, "storage", s.error().message);
  if (auto err = publishBans()) return jsonError(500, "storage", *err);
  logEvent(Level::Info, "identity-banned", {{"identity", row.identity}, {"reason", row.reason}, {"until", row.until}});
  return jsonResponse(201, {{"identity", row.identity}, {"reason", row.reason}, {"created", row.created},
                            {"until", row.until == 0 ? nlohmann::json(nullptr) : nlohmann::json(row.until)}});
}

HttpResponse AdminApi::listBans(const HttpRequest&) {
  auto rows = state_->bans->active(state_->hooks.unixNow());
  if (!rows) return jsonError(500, "storage", rows.error().message);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& b : *rows)
    list.push_back({{"identity", b.identity}, {"reason", b.reason}, {"created", b.created},
                    {"until", b.until == 0 ? nlohmann::json(nullptr) : nlohmann::json(b.until)}});
  return jsonResponse(200, {{"bans", list}});
}

HttpResponse AdminApi::liftBan(const HttpRequest& r) {
  const std::string identity(lastSegment(r.path, "/v1/bans/"));
  if (identity.empty()) return jsonError(400, "bad_identity", "expected /v1/bans/{identity}");
  auto removed = state_->bans->remove(identity);
  if (!removed) return jsonError(500, "storage", removed.error().message);
  if (!*removed) return jsonError(404, "not_found", "no ban for '" + identity + "'");
  if (auto err = publishBans()) return jsonError(500, "storage", *err);
  logEvent(Level::Info, "identity-unbanned", {{"identity", identity}});
  return jsonResponse(200, {{"identity", identity}, {"lifted", true}});
}

HttpResponse AdminApi::drain(const HttpRequest& r) {
  if (r.method == "POST" || r.method == "DELETE") {
    const bool on = r.method == "POST";
    state_->admission->setDraining(on);
    logEvent(Level::Warn, on ? "draining" : "drain-ended", {{"alternate", state_->hooks.alternate()}});
  }
  const std::string alternate = state_->hooks.alternate();
  return jsonResponse(200, {{"draining", state_->admission->draining()},
                            {"alternate", alternate.empty() ? nlohmann::json(nullptr) : nlohmann::json(alternate)}});
}

void AdminApi::addRoutes(HttpServer& server, std::function<bool(const HttpRequest&)> authorized) {
  auto guarded = [authorized](HttpResponse (AdminApi::*method)(const HttpRequest&), AdminApi* self) {
    return [authorized, method, self](const HttpRequest& r) {
      if (!authorized(r)) return jsonError(401, "unauthorized", kUnauthorized);
      return (self->*method)(r);
    };
  };
  server.route("GET", "/v1/allocations", guarded(&AdminApi::listAllocations, this));
  server.route("DELETE", "/v1/allocations/*", guarded(&AdminApi::endAllocation, this));
  server.route("POST", "/v1/bans", guarded(&AdminApi::addBan, this));
  server.route("GET", "/v1/bans", guarded(&AdminApi::listBans, this));
  server.route("DELETE", "/v1/bans/*", guarded(&AdminApi::liftBan, this));
  for (const char* m : {"GET", "POST", "DELETE"}) server.route(m, "/v1/drain", guarded(&AdminApi::drain, this));
}

}  // namespace rdv::node
