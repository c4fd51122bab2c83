#include "rendezvous/node/api/registry_api.h"

#include <random>

#include "rendezvous/registry/unregister_message.h"

#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {

using Json = nlohmann::json;
using registry::RegistryError;

constexpr size_t kDefaultDiscoverLimit = 100;

const char* errorCode(RegistryError e) {
  switch (e) {
    case RegistryError::InvalidNamespace: return "invalid_namespace";
    case RegistryError::TtlOutOfRange: return "ttl_out_of_range";
    case RegistryError::InvalidLimit: return "invalid_limit";
    case RegistryError::InvalidCookie: return "invalid_cookie";
    case RegistryError::StaleRecord: return "stale_record";
    case RegistryError::ConflictingRecord: return "conflicting_record";
    case RegistryError::NotRegistered: return "not_registered";
    case RegistryError::BadSignature: return "bad_signature";
    case RegistryError::IdentityCapReached: return "identity_cap_reached";
    case RegistryError::NamespaceCapReached: return "namespace_cap_reached";
    case RegistryError::RegistryFull: return "registry_full";
  }
  return "registry_error";
}

HttpResponse storageError(const storage::DbError& e) {
  logEvent(Level::Error, "registry-storage-failed", {{"code", e.code}, {"reason", e.message}});
  return jsonError(500, "storage_error", "the registration could not be stored");
}

int64_t secondsUntil(registry::TimePoint t, registry::TimePoint now) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count();
  return ms <= 0 ? 0 : (ms + 999) / 1000;  // rounded up: a live registration never shows 0
}

}  // namespace

RegistryApi::RegistryApi(storage::Database db, identity::PrivateKey key, std::string dbPath, Clock clock,
                         const Config& config)
    : db_(std::move(db)),
      key_(std::move(key)),
      dbPath_(std::move(dbPath)),
      clock_(std::move(clock)),
      replays_(config.apiClockSkewSeconds, 65536),
      writesPerIp_(relay::RateLimit{config.registryWritesPerMinute / 60.0, double(config.registryWriteBurst)},
                   relay::RateLimit{config.registryWritesPerMinute / 60.0, double(config.registryWriteBurst)}, 16384,
                   std::random_device{}() * 0x9e3779b97f4a7c15ULL ^ std::random_device{}()) {}

std::optional<HttpResponse> RegistryApi::checkFresh(const identity::NodeId& id, const RequestProof& proof,
                                                    const identity::Hash256& digest) {
  // The window in seconds; the digest (which binds the milliseconds) tells requests of one second apart.
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count();
  const int64_t signedSecond = proof.time >= 0 ? proof.time / 1000 : -1 - (-1 - proof.time) / 1000;
  switch (replays_.check(id, signedSecond, digest, now)) {
    case identity::ReplayVerdict::Fresh: return std::nullopt;
    case identity::ReplayVerdict::Stale:
      return jsonError(401, "stale_signature",
                       "the signed time is more than " + std::to_string(replays_.skewSeconds()) +
                           " s from the node's clock (" + std::to_string(now) + " s)");
    case identity::ReplayVerdict::Replayed: break;
  }
  ++replaysRefused_;
  return jsonError(401, "replayed_signature", "this signed request was used before; sign a new one with the current time");
}

std::optional<HttpResponse> RegistryApi::limitWrites(const HttpRequest& request) {
  auto ip = IpAddress::parse(request.remoteIp);
  if (!ip || writesPerIp_.allow(*ip, std::chrono::steady_clock::now())) return std::nullopt;
  ++rateLimited_;
  return jsonError(429, "rate_limited", "too many registry writes from this address; retry later");
}

Result<std::unique_ptr<RegistryApi>, std::string> RegistryApi::open(const Config& config, Clock clock) {
  if (!clock) clock = [] { return std::chrono::system_clock::now(); };
  if (auto made = ensureDataDir(dataDirOf(config)); !made) return unexpected(made.error());
  auto key = loadOrCreateNodeKey(nodeKeyPathOf(config));
  if (!key) return unexpected(key.error());
  const std::string dbPath = databasePathOf(config);
  auto db = storage::Database::open(dbPath);
  if (!db) return unexpected("data-dir: cannot open '" + dbPath + "': " + db.error().message);

  registry::RegistryConfig rc;
  rc.minTtl = registry::Seconds(config.registryMinTtlSeconds);
  rc.defaultTtl = registry::Seconds(config.registryDefaultTtlSeconds);
  rc.maxTtl = registry::Seconds(config.registryMaxTtlSeconds);
  rc.maxPerIdentity = config.registryMaxPerIdentity;
  rc.maxPerNamespace = config.registryMaxPerNamespace;
  rc.maxRecords = config.registryMaxRecords;

  std::unique_ptr<RegistryApi> api(new RegistryApi(std::move(*db), std::move(*key), dbPath, std::move(clock), config));
  storage::LoadedRegistry loaded;
  auto reg = storage::DurableRegistry::open(api->db_, rc, api->clock_(), &loaded);
  if (!reg) return unexpected("data-dir: cannot load the registry from '" + dbPath + "': " + reg.error().message);
  api->registry_.emplace(std::move(*reg));
  logEvent(Level::Info, "registry-loaded",
           {{"database", dbPath}, {"registrations", loaded.registrations.size()}, {"skipped", loaded.skipped}});
  if (loaded.skipped > 0)
    logEvent(Level::Warn, "registry-rows-skipped", {{"count", loaded.skipped}, {"reason", "record no longer verifies"}});
  return api;
}

void RegistryApi::addRoutes(HttpServer& server) {
  server.route("POST", "/v1/registrations", [this](const HttpRequest& r) { return postRegistration(r); });
  server.route("GET", "/v1/registrations", [this](const HttpRequest& r) { return getRegistrations(r); });
  server.route("DELETE", "/v1/registrations", [this](const HttpRequest& r) { return deleteRegistration(r); });
  server.route("GET", "/v1/node", [this](const HttpRequest& r) { return getNode(r); });
}

std::optional<std::string> RegistryApi::advertise(const NodeServices& services) {
  auto db = storage::Database::open(dbPath_);
  if (!db) return "data-dir: cannot open '" + dbPath_ + "': " + db.error().message;
  auto record = publishNodeRecord(*db, describeServices(services), key_);
  if (!record) return record.error();
  logEvent(Level::Info, "node-record",
           {{"node_id", record->nodeId().hex()}, {"seq", record->seq()}, {"enr", record->toText()}});
  std::lock_guard lock(nodeRecordMutex_);
  nodeRecord_ = std::move(*record);
  return std::nullopt;
}

void RegistryApi::purgeExpired() {
  const auto now = clock_();
  // Memory and disk hold the same rows (open() purged the disk), so the earliest expiry in memory
  // says whether there is anything to delete: no write transaction on idle ticks.
  if (auto next = registry_->nextExpiry(); !next || *next > now) return;
  auto purged = registry_->purgeExpired(now);
  if (!purged) {
    logEvent(Level::Error, "registry-purge-failed", {{"reason", purged.error().message}});
    return;
  }
  if (*purged > 0) logEvent(Level::Info, "registry-purged", {{"count", *purged}, {"remaining", registry_->core().size()}});
}

// POST /v1/registrations {namespace, enr, ttl?, time, signature} -> 201 {namespace, node_id, seq, ttl}
HttpResponse RegistryApi::postRegistration(const HttpRequest& request) {
  if (auto limited = limitWrites(request)) return *limited;
  auto parsed = parseRegistrationRequest(request.body);
  if (!parsed) return parsed.error();
  const std::string& ns = parsed->ns;
  const enr::EnrRecord& record = parsed->record;
  const auto& ttl = parsed->ttl;
  // A ttl out of bounds is refused first (it changes nothing, and the client learns the bounds).
  const auto& bounds = registry_->core().config();
  if (ttl && (*ttl < bounds.minTtl || *ttl > bounds.maxTtl))
    return jsonError(400, errorCode(RegistryError::TtlOutOfRange), registry_->core().message(RegistryError::TtlOutOfRange));
  // Proof of possession: the record's own key signed (namespace, this record, ttl, time) for this request.
  const RequestProof& proof = parsed->proof;
  const uint64_t signedTtl = ttl ? static_cast<uint64_t>(ttl->count()) : 0;
  const auto digest = registry::registerDigest(ns, record.encoded(), signedTtl, proof.time);
  if (!record.publicKey().verify(digest, proof.signature))
    return jsonError(422, "bad_signature", "the signature is not by this record's key over the namespace, ttl and time");
  if (auto stale = checkFresh(record.nodeId(), proof, digest)) return *stale;
  auto plan = registry_->registerRecord(ns, record, parsed->ttl, clock_());
  if (!plan) {
    const storage::DurableError error = plan.error();
    if (const auto* e = std::get_if<RegistryError>(&error))
      return jsonError(registry::httpStatus(*e), errorCode(*e), registry_->core().message(*e));
    return storageError(std::get<storage::DbError>(error));
  }
  return jsonResponse(201, {{"namespace", ns},
                            {"node_id", record.nodeId().hex()},
                            {"seq", record.seq()},
                            {"ttl", plan->ttl.count()}});
}

// GET /v1/registrations?namespace=&limit=&cookie= -> {registrations: [...], cookie}
// GET /v1/registrations?node_id=|address=[&namespace=] -> {registrations: [... with namespace, address]}
HttpResponse RegistryApi::getRegistrations(const HttpRequest& request) {
  const auto ns = request.queryValue("namespace");
  auto who = parseIdentityQuery(request.queryValue("node_id"), request.queryValue("address"));
  if (!who) return who.error();
  if (*who) return getRegistrationsOf(**who, ns);
  if (!ns) return jsonError(400, "missing_field", "the 'namespace' query parameter is required (or 'node_id', 'address')");
  size_t limit = std::min(kDefaultDiscoverLimit, registry_->core().config().maxDiscoverLimit);
  if (const auto text = request.queryValue("limit")) {
    const auto n = parseDiscoverLimit(*text);  // out of range: UINT32_MAX, and the registry says the bounds
    if (!n)
      return jsonError(400, errorCode(RegistryError::InvalidLimit), registry_->core().message(RegistryError::InvalidLimit));
    limit = *n;
  }
  const auto now = clock_();
  auto page = registry_->discover(*ns, limit, request.queryValue("cookie").value_or(""), now);
  if (!page) return jsonError(registry::httpStatus(page.error()), errorCode(page.error()), registry_->core().message(page.error()));
  Json list = Json::array();
  for (const auto& reg : page->registrations) {
    list.push_back({{"enr", reg.record->toText()},
                    {"node_id", reg.nodeId().hex()},
                    {"seq", reg.record->seq()},
                    {"ttl_remaining", secondsUntil(reg.expiresAt, now)}});
  }
  return jsonResponse(200, {{"registrations", std::move(list)}, {"cookie", page->cookie}});
}

HttpResponse RegistryApi::getRegistrationsOf(const IdentityQuery& who, const std::optional<std::string>& ns) {
  const auto now = clock_();
  const auto& core = registry_->core();
  const auto id = who.id ? who.id : core.identityOfAddress(*who.address);
  std::vector<registry::Registration> found;
  if (id) found = core.registrationsOf(*id, now);
  Json list = Json::array();
  for (const auto& reg : found) {
    if (ns && reg.ns != *ns) continue;
    list.push_back({{"namespace", reg.ns}, {"enr", reg.record->toText()}, {"node_id", reg.nodeId().hex()},
                    {"address", identity::EthAddress::ofNodeId(reg.nodeId()).checksummed()},
                    {"seq", reg.record->seq()}, {"ttl_remaining", secondsUntil(reg.expiresAt, now)}});
  }
  return jsonResponse(200, {{"registrations", std::move(list)}});
}

// DELETE /v1/registrations {namespace, node_id, time, signature} -> 200 {namespace, node_id, seq}
HttpResponse RegistryApi::deleteRegistration(const HttpRequest& request) {
  if (auto limited = limitWrites(request)) return *limited;
  auto parsed = parseUnregistrationRequest(request.body);
  if (!parsed) return parsed.error();
  const std::string& ns = parsed->ns;
  const identity::NodeId& id = parsed->id;
  const RequestProof& proof = parsed->proof;
  const auto now = clock_();
  // The signature is checked by the registry (it knows the registered record's key and seq); the
  // time window and single use here, before anything is removed.
  const registry::Registration* reg = registry_->core().find(ns, id);
  if (reg != nullptr && reg->expiresAt > now) {
    const auto digest = registry::unregisterDigest(ns, id, reg->record->seq(), proof.time);
    if (reg->record->publicKey().verify(digest, proof.signature)) {
      if (auto stale = checkFresh(id, proof, digest)) return *stale;
    }
  }
  auto removed = registry_->unregister(ns, id, proof.signature, proof.time, now);
  if (!removed) {
    const storage::DurableError error = removed.error();
    if (const auto* e = std::get_if<RegistryError>(&error))
      return jsonError(registry::httpStatus(*e), errorCode(*e), registry_->core().message(*e));
    return storageError(std::get<storage::DbError>(error));
  }
  return jsonResponse(200, {{"namespace", ns}, {"node_id", id.hex()}, {"seq", removed->record->seq()}});
}

// GET /v1/node -> {enr, node_id, seq}: the node's own record, signed with the node key.
HttpResponse RegistryApi::getNode(const HttpRequest&) {
  std::lock_guard lock(nodeRecordMutex_);
  if (!nodeRecord_) return jsonError(503, "starting", "the node record is not ready yet");
  return jsonResponse(200, {{"enr", nodeRecord_->toText()},
                            {"node_id", nodeRecord_->nodeId().hex()},
                            {"seq", nodeRecord_->seq()}});
}

}  // namespace rdv::node
