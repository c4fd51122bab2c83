// The node's files under --data-dir: the directory itself (created 0700 if missing) and the node
// key (created 0600 on first start, then reused so the node id stays the same across restarts).
#pragma once

#include <string>

#include "rendezvous/identity/private_key.h"
#include "rendezvous/node/config.h"
#include "rendezvous/base/result.h"

namespace rdv::node {

inline constexpr const char* kDefaultDataDir = "rendezvous-data";
inline constexpr const char* kDatabaseFile = "rendezvous.db";
inline constexpr const char* kNodeKeyFile = "node.key";

std::string dataDirOf(const Config& config);
std::string databasePathOf(const Config& config);
std::string nodeKeyPathOf(const Config& config);

// Creates the directory (and parents) if missing; an operator-facing message on failure.
Result<bool, std::string> ensureDataDir(const std::string& dir);
// Loads the key file, or generates and writes it (0600) when missing.
Result<identity::PrivateKey, std::string> loadOrCreateNodeKey(const std::string& path);

}  // namespace rdv::node
