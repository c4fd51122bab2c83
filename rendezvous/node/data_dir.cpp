#include "rendezvous/node/data_dir.h"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "rendezvous/node/log.h"

namespace rdv::node {

namespace fs = std::filesystem;

std::string dataDirOf(const Config& config) { return config.dataDir.empty() ? kDefaultDataDir : config.dataDir; }

std::string databasePathOf(const Config& config) { return (fs::path(dataDirOf(config)) / kDatabaseFile).string(); }

std::string nodeKeyPathOf(const Config& config) {
  return config.nodeKeyFile.empty() ? (fs::path(dataDirOf(config)) / kNodeKeyFile).string() : config.nodeKeyFile;
}

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

}  // namespace rdv::node
