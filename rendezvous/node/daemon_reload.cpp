#include "rendezvous/node/daemon.h"

// SIGHUP: the configuration is read again through the loader start-up used, validated in full, and its
// reloadable subset applied to the running node (users, auth secrets, TLS certificates, peer lists,
// quotas, log level). Nothing open is closed: each worker gets its new engine config and TLS context as a
// message on its own loop (the engine stays sans-I/O), the API thread its certificate and secrets as
// posted tasks. A file that fails any check changes nothing.

#include <algorithm>
#include <ctime>

#include "rendezvous/node/api/ice_servers.h"
#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {

// Log levels from the most verbose: trace, debug, info, warn, error, off.
bool moreVerbose(const std::string& a, const std::string& b) {
  static const std::vector<std::string> order = {"trace", "debug", "info", "warn", "error", "off"};
  auto rank = [&](const std::string& l) { return std::find(order.begin(), order.end(), l) - order.begin(); };
  return rank(a) < rank(b);
}

}  // namespace

void Daemon::setReloader(nlohmann::json current, ConfigLoader loader) {
  currentJson_ = std::move(current);
  loader_ = std::move(loader);
}

// Everything a reload needs that can fail, checked before anything changes: the data directory's
// auth-secret (as at start, when the file names none) and the TLS files of the listeners that use TLS.
std::optional<std::string> Daemon::prepareReload(Config& next, std::shared_ptr<TlsContext>& tls) const {
  if (next.authSecrets.empty()) {
    Config probe = next;
    probe.dataDir = config_.dataDir;  // the running node's data directory (data-dir needs a restart)
    if (auto err = ensureAuthSecret(probe)) return err;
    next.authSecrets = probe.authSecrets;
  }
  if (!config_.tlsListen.empty()) {
    auto ctx = TlsContext::server(next.certFile, next.keyFile);
    if (!ctx) return "configuration key 'cert': " + ctx.error();
    tls = *ctx;
  }
  if (http_ && !config_.httpCertFile.empty() && !next.httpCertFile.empty()) {
    auto ctx = TlsContext::server(next.httpCertFile, next.httpKeyFile);
    if (!ctx) return "configuration key 'http-cert': " + ctx.error();
  }
  return std::nullopt;
}

// The engine config every worker continues with: the running one's shared parts, the new credentials
// and peer lists. A secret the new list drops retires (it checks the credentials it issued until they
// expire, relay::Config::retiredSecrets); one that comes back is current again.
std::shared_ptr<const relay::Config> Daemon::reloadedRelayConfig(const Config& next, int64_t unixNow) {
  auto listed = [&](const std::string& s) {
    return std::find(next.authSecrets.begin(), next.authSecrets.end(), s) != next.authSecrets.end();
  };
  for (const auto& s : config_.authSecrets) {
    const bool retired = std::any_of(retiredSecrets_.begin(), retiredSecrets_.end(),
                                     [&](const auto& r) { return r.secret == s; });
    if (!listed(s) && !retired) retiredSecrets_.push_back({s, unixNow});
  }
  const int64_t grace = relayBase_->retiredSecretGrace.count();
  std::erase_if(retiredSecrets_, [&](const auto& r) { return listed(r.secret) || unixNow > r.retiredAt + grace; });
  auto rc = std::make_shared<relay::Config>(*relayBase_);
  rc->users = next.users;
  rc->authSecrets = next.authSecrets;
  rc->retiredSecrets = retiredSecrets_;
  rc->policy = relayBase_->policy.withLists(next.allowPeers, next.denyPeers);
  return rc;
}

void Daemon::reload() {
  if (!loader_) {
    logEvent(Level::Warn, "config-reload-failed", {{"reason", "no configuration loader"}});
    return;
  }
  auto loaded = loader_();
  if (!loaded) {
    logEvent(Level::Error, "config-reload-failed", {{"reason", loaded.error()}, {"kept", "the running configuration"}});
    return;
  }
  auto& [json, next] = *loaded;
  std::shared_ptr<TlsContext> tls;
  if (auto err = prepareReload(next, tls)) {
    logEvent(Level::Error, "config-reload-failed", {{"reason", *err}, {"kept", "the running configuration"}});
    return;
  }
  // HTTPS cannot be turned on or off in a running listener.
  const bool httpTlsToggled = config_.httpCertFile.empty() != next.httpCertFile.empty();
  std::vector<std::string> changed, restart;
  nlohmann::json keys = currentJson_;
  mergeConfig(keys, json);
  for (const auto& [key, value] : keys.items()) {
    if (json.contains(key) && currentJson_.contains(key) && json[key] == currentJson_[key]) continue;
    const bool httpTlsKey = key == "http-cert" || key == "http-key";
    if (!isReloadableKey(key) || (httpTlsKey && httpTlsToggled)) {
      restart.push_back(key);
      continue;
    }
    changed.push_back(key);
    if (json.contains(key)) currentJson_[key] = json[key];
    else currentJson_.erase(key);
  }

  quota_->apply(next.quota);
  const auto rc = reloadedRelayConfig(next, static_cast<int64_t>(std::time(nullptr)));
  for (auto& w : workers_) w->reconfigure(rc, tls);
  config_.quota = next.quota;
  config_.users = next.users;
  config_.authSecrets = next.authSecrets;
  config_.allowPeers = next.allowPeers;
  config_.denyPeers = next.denyPeers;
  config_.certFile = next.certFile;
  config_.keyFile = next.keyFile;
  if (http_ && iceServers_)
    http_->post([api = iceServers_.get(), secrets = next.authSecrets] { api->setAuthSecrets(secrets); });
  if (http_ && !config_.httpCertFile.empty() && !httpTlsToggled) {
    config_.httpCertFile = next.httpCertFile;
    config_.httpKeyFile = next.httpKeyFile;
    http_->reloadTls(next.httpCertFile, next.httpKeyFile, [](std::optional<std::string> err) {
      if (err) logEvent(Level::Error, "http-tls-reload-failed", {{"reason", *err}});
    });
  }
  // The reload's own lines are written at the more verbose of the old and the new level.
  const bool levelChanged = next.logLevel != config_.logLevel;
  if (levelChanged && moreVerbose(next.logLevel, config_.logLevel)) setLogLevel(next.logLevel);
  logEvent(Level::Info, "config-reloaded",
           {{"changed", changed},
            {"tls_reloaded", tls != nullptr || (http_ && !config_.httpCertFile.empty() && !httpTlsToggled)},
            {"users", next.users.size()},
            {"auth_secrets", next.authSecrets.size()},
            {"retired_secrets", retiredSecrets_.size()},
            {"quota_classes", next.quota.classes.size()},
            {"quota_members", next.quota.members.size()},
            {"bps_capacity", next.quota.bpsCapacity},
            {"max_allocations", next.quota.maxAllocations}});
  if (!restart.empty()) logEvent(Level::Warn, "config-reload-needs-restart", {{"keys", restart}});
  if (levelChanged) {
    setLogLevel(next.logLevel);
    config_.logLevel = next.logLevel;
  }
}

}  // namespace rdv::node
