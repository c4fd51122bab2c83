// Keys of "Running a public node" (issue 12): relay hoarding limits and secrets read from files. A second
// table beside config_keys.cpp's, appended to it by keys(); the files are read by loadSecretFiles().
#include "rendezvous/node/config_values.h"

namespace rdv::node::config_detail {

const std::vector<Key>& publicNodeKeys() {
  static const std::vector<Key> table = {
      {{"allocate-rate-per-ip", "uint",
        "TURN Allocate requests per second from one source IP, per worker; 486 beyond (1-100000; default 10)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 100000, c.allocateRatePerIp); }},
      {{"allocate-burst-per-ip", "uint", "burst of TURN Allocate requests from one source IP (1-1000000; default 100)",
        false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.allocateBurstPerIp); }},
      {{"limited-max-share", "number",
        "share of the node's allocations (max-allocations) and of bps-capacity the limited class may hold "
        "together, 0-1 (default 0.5; 1: no separate share). Reloaded on SIGHUP", false},
       [](const Json& v, Config& c) { return needNumber(v, 0, 1, c.quota.limitedMaxShare); }},
      {{"auth-secret-file", "string",
        "file of TURN REST shared secrets, one per line, the first current (rotation); added after auth-secret; "
        "must not be readable by group or others", false},
       [](const Json& v, Config& c) { return needString(v, c.authSecretFile); }},
      {{"admin-token-file", "string",
        "file holding the admin API bearer token (first line); instead of admin-token; mode 0600 or stricter",
        false},
       [](const Json& v, Config& c) { return needString(v, c.adminTokenFile); }},
      {{"users-file", "string",
        "file of TURN static users, one NAME:PASSWORD or NAME:0xMD5KEY (coturn's key form) per line (# comments); "
        "added after user; mode 0600 or stricter", false},
       [](const Json& v, Config& c) { return needString(v, c.usersFile); }},
  };
  return table;
}

}  // namespace rdv::node::config_detail
