#include "rendezvous/node/secret_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "rendezvous/node/config_values.h"

namespace rdv::node {

namespace {

constexpr size_t kMaxSecretFileBytes = 1 << 20;  // a secrets file is small; refuse to slurp a huge one

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// The file's non-empty lines without comments (#) and trailing CR/whitespace, or the error.
std::optional<std::string> readLines(const std::string& key, const std::string& path, std::vector<std::string>& out) {
  const std::string where = "configuration key '" + key + "': '" + path + "'";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block start-up
  if (fd < 0) return where + " cannot be read";
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return where + " is not a regular file";
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return where + " is accessible by group or others (mode " + octal(st.st_mode) +
           "): it holds secrets, so it must be private to the node's user (chmod 600 '" + path + "')";
  }
  std::string text;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() <= kMaxSecretFileBytes) text.append(buf, size_t(n));
  ::close(fd);
  if (n < 0) return where + " cannot be read";
  if (text.size() > kMaxSecretFileBytes) return where + " is larger than 1 MiB";
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    size_t lead = 0;
    while (lead < line.size() && (line[lead] == ' ' || line[lead] == '\t')) ++lead;
    line.erase(0, lead);
    if (!line.empty() && line[0] != '#') out.push_back(std::move(line));
    start = end + 1;
  }
  if (out.empty()) return where + " holds no entry";
  return std::nullopt;
}

}  // namespace

bool isSecretKey(const std::string& key) { return key == "auth-secret" || key == "admin-token" || key == "user"; }

std::optional<std::string> loadSecretFiles(Config& c) {
  if (!c.authSecretFile.empty()) {
    std::vector<std::string> lines;
    if (auto err = readLines("auth-secret-file", c.authSecretFile, lines)) return err;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (auto weak = config_detail::weakSecret(lines[i]))
        return "configuration key 'auth-secret-file': '" + c.authSecretFile + "' line " + std::to_string(i + 1) +
               ": " + *weak;
      c.authSecrets.push_back(lines[i]);
    }
  }
  if (!c.adminTokenFile.empty()) {
    std::vector<std::string> lines;
    if (auto err = readLines("admin-token-file", c.adminTokenFile, lines)) return err;
    if (lines.size() != 1)
      return "configuration key 'admin-token-file': '" + c.adminTokenFile + "' must hold exactly one token line";
    if (auto weak = config_detail::weakSecret(lines[0]))
      return "configuration key 'admin-token-file': '" + c.adminTokenFile + "': " + *weak;
    c.adminToken = lines[0];
  }
  if (!c.usersFile.empty()) {
    std::vector<std::string> lines;
    if (auto err = readLines("users-file", c.usersFile, lines)) return err;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& t = lines[i];
      const auto colon = t.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == t.size())
        return "configuration key 'users-file': '" + c.usersFile + "' line " + std::to_string(i + 1) +
               ": not NAME:PASSWORD";
      relay::StaticUser u{t.substr(0, colon), t.substr(colon + 1), {}};
      // coturn's userdb key form "NAME:0x" + 32 hex digits: the MD5 long-term key (for this node's realm).
      Bytes key;
      if (u.password.size() == 34 && u.password.rfind("0x", 0) == 0 && fromHex(u.password.substr(2), key) &&
          key.size() == 16) {
        u.md5Key = std::move(key);
        u.password.clear();
      }
      c.users.push_back(std::move(u));
    }
  }
  return std::nullopt;
}

}  // namespace rdv::node
