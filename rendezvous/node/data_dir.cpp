#include "rendezvous/node/data_dir.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "rendezvous/node/log.h"

namespace rdv::node {

namespace fs = std::filesystem;

std::string dataDirOf(const Config& config) { return config.dataDir.empty() ? kDefaultDataDir : config.dataDir; }

std::string databasePathOf(const Config& config) { return (fs::path(dataDirOf(config)) / kDatabaseFile).string(); }

std::string nodeKeyPathOf(const Config& config) {
  return config.nodeKeyFile.empty() ? (fs::path(dataDirOf(config)) / kNodeKeyFile).string() : config.nodeKeyFile;
}

std::string authSecretPathOf(const Config& config) { return (fs::path(dataDirOf(config)) / kAuthSecretFile).string(); }

Result<bool, std::string> ensureDataDir(const std::string& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return false;
  if (fs::exists(dir, ec)) return unexpected("data-dir '" + dir + "' exists and is not a directory");
  if (!fs::create_directories(dir, ec) || ec)
    return unexpected("data-dir '" + dir + "' cannot be created: " + (ec ? ec.message() : "unknown error"));
  // It holds the node key and the database: owner only.
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  logEvent(Level::Info, "data-dir-created", {{"path", dir}});
  return true;
}

DataDirLock& DataDirLock::operator=(DataDirLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
}

Result<DataDirLock, std::string> lockDataDir(const std::string& dir) {
  const std::string path = (fs::path(dir) / kLockFile).string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return unexpected("data-dir '" + dir + "': cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) holder += buf[i];
    ::close(fd);
    if (err == EWOULDBLOCK)
      return unexpected("data-dir '" + dir + "' is in use by another rendezvousd (pid " +
                        (holder.empty() ? std::string("unknown") : holder) + "); one data directory per node");
    return unexpected("data-dir '" + dir + "': cannot lock " + path + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return unexpected("data-dir '" + dir + "': cannot write " + path + ": " + std::strerror(err));
  }
  return DataDirLock(fd);
}

Result<identity::PrivateKey, std::string> loadOrCreateNodeKey(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    auto key = identity::PrivateKey::load(path);
    if (!key) return unexpected("node-key '" + path + "': " + identity::describe(key.error()));
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      logEvent(Level::Warn, "node-key-permissions", {{"path", path}, {"reason", "readable by group or others; chmod 600"}});
    return std::move(*key);
  }
  auto key = identity::PrivateKey::generate();
  if (!key) return unexpected(std::string("node-key: ") + identity::describe(key.error()));
  if (auto saved = key->save(path); !saved)
    return unexpected("node-key '" + path + "' cannot be written: " + identity::describe(saved.error()));
  logEvent(Level::Info, "node-key-created", {{"path", path}, {"node_id", key->nodeId().hex()}});
  return std::move(*key);
}

Result<std::string, std::string> loadOrCreateAuthSecret(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::ifstream f(path);
    std::string secret;
    if (!f || !std::getline(f, secret)) return unexpected("auth-secret file '" + path + "' cannot be read");
    while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ')) secret.pop_back();
    if (secret.empty()) return unexpected("auth-secret file '" + path + "' is empty");
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
      logEvent(Level::Warn, "auth-secret-permissions", {{"path", path}, {"reason", "readable by group or others; chmod 600"}});
    logEvent(Level::Info, "auth-secret-loaded", {{"path", path}});
    return secret;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return unexpected(std::string("auth-secret: no randomness from OpenSSL"));
  static const char* hex = "0123456789abcdef";
  std::string secret;
  for (unsigned char b : raw) secret += {hex[b >> 4], hex[b & 15]};
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return unexpected("auth-secret file '" + path + "' cannot be written: " + std::strerror(errno));
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  if (::close(fd) != 0 || !ok) return unexpected("auth-secret file '" + path + "' cannot be written: " + std::strerror(errno));
  logEvent(Level::Info, "auth-secret-created",
           {{"path", path}, {"reason", "no auth-secret configured; /v1/ice-servers signs TURN credentials with this one"}});
  return secret;
}

std::optional<std::string> ensureAuthSecret(Config& config) {
  if (!config.authSecrets.empty()) return std::nullopt;
  if (auto made = ensureDataDir(dataDirOf(config)); !made) return made.error();
  auto secret = loadOrCreateAuthSecret(authSecretPathOf(config));
  if (!secret) return secret.error();
  config.authSecrets.push_back(std::move(*secret));
  return std::nullopt;
}

}  // namespace rdv::node
