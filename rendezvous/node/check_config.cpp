#include "rendezvous/node/check_config.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "rendezvous/identity/private_key.h"
#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/io/tls.h"

namespace rdv::node {

namespace fs = std::filesystem;

namespace {

// The data directory exists as a writable directory, or its nearest existing parent is writable.
std::optional<std::string> checkDataDir(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return "data-dir '" + dir + "' exists and is not a directory";
    if (::access(dir.c_str(), W_OK | X_OK) != 0) return "data-dir '" + dir + "' is not writable by this user";
    return std::nullopt;
  }
  fs::path parent = fs::absolute(dir, ec).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec) && parent != parent.root_path()) parent = parent.parent_path();
  if (!fs::is_directory(parent, ec) || ::access(parent.c_str(), W_OK | X_OK) != 0)
    return "data-dir '" + dir + "' cannot be created: '" + parent.string() + "' is not a writable directory";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> checkStartup(const Config& config) {
  if (!config.tlsListen.empty()) {
    auto ctx = TlsContext::server(config.certFile, config.keyFile);
    if (!ctx) return ctx.error();
  }
  if (auto err = checkDataDir(dataDirOf(config))) return err;
  std::error_code ec;
  const std::string keyPath = nodeKeyPathOf(config);
  if (fs::exists(keyPath, ec)) {
    auto key = identity::PrivateKey::load(keyPath);
    if (!key) return "node-key '" + keyPath + "': " + identity::describe(key.error());
  } else if (!config.nodeKeyFile.empty()) {
    if (auto err = checkDataDir(fs::path(keyPath).parent_path().string()))
      return "node-key '" + keyPath + "' cannot be created: " + *err;
  }
  const std::string secretPath = authSecretPathOf(config);
  if (config.authSecrets.empty() && fs::exists(secretPath, ec) && ::access(secretPath.c_str(), R_OK) != 0)
    return "auth-secret file '" + secretPath + "' cannot be read";
  return std::nullopt;
}

}  // namespace rdv::node
