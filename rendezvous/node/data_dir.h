// The node's files under --data-dir: the directory itself (created 0700 if missing), the node key
// (created 0600 on first start, then reused so the node id stays the same across restarts) and, when no
// auth-secret is configured, the TURN REST secret (created 0600 the same way, so credentials the node
// issued stay valid across restarts).
#pragma once

#include <optional>
#include <string>
#include <utility>

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
// The data directory's lock: one daemon per data directory (two would both write the same SQLite files,
// and the second would mark the first one's live allocations "interrupted"). flock(2) on
// <dir>/rendezvous.lock, which holds the holder's pid; the kernel drops the lock when the process ends,
// however it ends, so a crash leaves no stale lock. Held for as long as the object lives.
class DataDirLock {
 public:
  DataDirLock() = default;
  explicit DataDirLock(int fd) : fd_(fd) {}
  DataDirLock(DataDirLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  DataDirLock& operator=(DataDirLock&& o) noexcept;
  ~DataDirLock();
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};
inline constexpr const char* kLockFile = "rendezvous.lock";
// Takes the lock, or says who holds it: "data-dir 'd' is in use by another rendezvousd (pid 1234)".
Result<DataDirLock, std::string> lockDataDir(const std::string& dir);

// Loads the key file, or generates and writes it (0600) when missing.
Result<identity::PrivateKey, std::string> loadOrCreateNodeKey(const std::string& path);
// Reads the secret file (one line), or generates 32 random bytes (hex) and writes them (0600) when missing.
Result<std::string, std::string> loadOrCreateAuthSecret(const std::string& path);
// With no auth-secret configured: creates the data dir if needed and appends the data dir's secret
// (loadOrCreateAuthSecret) to config.authSecrets. An operator's own secrets are kept as they are.
std::optional<std::string> ensureAuthSecret(Config& config);

}  // namespace rdv::node
