// Secrets read from files (auth-secret-file, admin-token-file, users-file; issue 12 item 8), so that they
// need not be on the command line, where every user of the host sees them in /proc/PID/cmdline.
#pragma once

#include <optional>
#include <string>

#include "rendezvous/node/config.h"

namespace rdv::node {

// Reads the files `c` names and adds their secrets to the inline keys' values (auth secrets and users
// after the inline ones; the admin token replaces an inline one). Refuses, like ssh does for private
// keys, a file that group or others may read or write; also an unreadable, empty or malformed file and
// a weak secret. The error names the key and the file.
std::optional<std::string> loadSecretFiles(Config& c);

// The keys whose values are secrets: given as flags they are visible in the process list.
bool isSecretKey(const std::string& key);

}  // namespace rdv::node
