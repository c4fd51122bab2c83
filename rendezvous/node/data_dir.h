// The node's files under --data-dir: the directory itself (created 0700 if missing), the node key
// (created 0600 on first start, then reused so the node id stays the same across restarts) and, when no
// auth-secret is configured, the TURN REST secret (created 0600 the same way, so credentials the node
// issued stay valid across restarts).
#pragma once

#include <optional>
#include <string>

#include "rendezvous/identity/private_key.h"
#include "rendezvous/node/config.h"
#include "rendezvous/base/result.h"

namespace rdv::node {

inline constexpr const char* kDefaultDataDir = "rendezvous-data";
inline constexpr const char* kDatabaseFile = "rendezvous.db";
inline constexpr const char* kNodeKeyFile = "node.key";
inline constexpr const char* kAuthSecretFile = "auth-secret";

std::string dataDirOf(const Config& config);
std::string databasePathOf(const Config& config);
std::string nodeKeyPathOf(const Config& config);
std::string authSecretPathOf(const Config& config);

// Creates the directory (and parents) if missing; an operator-facing message on failure.
Result<bool, std::string> ensureDataDir(const std::string& dir);
// Loads the key file, or generates and writes it (0600) when missing.
Result<identity::PrivateKey, std::string> loadOrCreateNodeKey(const std::string& path);
// Reads the secret file (one line), or generates 32 random bytes (hex) and writes them (0600) when missing.
Result<std::string, std::string> loadOrCreateAuthSecret(const std::string& path);
// With no auth-secret configured: creates the data dir if needed and appends the data dir's secret
// (loadOrCreateAuthSecret) to config.authSecrets. An operator's own secrets are kept as they are.
std::optional<std::string> ensureAuthSecret(Config& config);

}  // namespace rdv::node
