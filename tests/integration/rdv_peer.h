// A peer identity made with the real rdv CLI, for tests that drive rdv register/send/inbox/connect: a key
// file (`rdv key new --out`, which prints the node id) and its signed record (`rdv enr encode`).
#pragma once

#include <string>

#include "tests/integration/harness.h"

namespace rdv::test {

struct Peer {
  std::string key;     // the key file, in the test's directory
  std::string enr;     // enr:... (no address in it)
  std::string nodeId;  // 64 hex digits
};

// `name`.key in `dir`; failures are test failures (EXPECT), the fields then stay empty.
Peer makePeer(const TempDir& dir, const std::string& name);

}  // namespace rdv::test
