#include "tests/integration/rdv_peer.h"

#include <gtest/gtest.h>

namespace rdv::test {

Peer makePeer(const TempDir& dir, const std::string& name) {
  Peer p{dir.file(name + ".key"), "", ""};
  const CommandResult made = run({binary("rdv"), "key", "new", "--out", p.key});
  EXPECT_EQ(made.exitCode, 0) << made.err;
  p.nodeId = made.out.substr(0, made.out.find('\n'));
  EXPECT_EQ(p.nodeId.size(), 64u) << made.out;
  const CommandResult enr = run({binary("rdv"), "enr", "encode", "--key", p.key});
  EXPECT_EQ(enr.exitCode, 0) << enr.err;
  p.enr = enr.out.substr(0, enr.out.find('\n'));
  return p;
}

}  // namespace rdv::test
