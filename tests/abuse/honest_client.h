// The honest client of the abuse lab: after an attack, a client on 127.0.0.1 must still register and
// discover, and signal offline (stored, then read) and online (delivered to a running inbox), each
// step within its normal bound. Shared by the tests in tests/abuse.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/rdv_peer.h"

namespace rdv::test::abuse {

using namespace std::chrono_literals;

inline std::string lastLine(const std::string& out) {
  auto end = out.find_last_not_of('\n');
  if (end == std::string::npos) return {};
  auto start = out.rfind('\n', end);
  return out.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
}

// The honest client's round: register + discover, an offline message (stored, then read by
// `rdv inbox`), an online one (delivered to a running inbox). Each step within 20 s.
inline void expectHonestClientServed(Node& node, const TempDir& dir, const std::string& tag) {
  SCOPED_TRACE("honest client after " + tag);
  const std::string url = "http://" + node.http();
  Peer alice = makePeer(dir, tag + "-alice"), bob = makePeer(dir, tag + "-bob");
  const auto t0 = std::chrono::steady_clock::now();
  auto reg = run({binary("rdv"), "register", "--node", url, "--namespace", "honest-" + tag, "--key", alice.key,
                  "--udp", "4000"}, 20s);
  ASSERT_EQ(reg.exitCode, 0) << reg.err;
  auto found = run({binary("rdv"), "discover", "--node", url, "--namespace", "honest-" + tag}, 20s);
  ASSERT_EQ(found.exitCode, 0) << found.err;
  EXPECT_EQ(nlohmann::json::parse(found.out)["registrations"].size(), 1u) << found.out;

  auto offline = run({binary("rdv"), "send", "--node", url, "--key", alice.key, "--to", bob.enr, "offline hello"}, 20s);
  ASSERT_EQ(offline.exitCode, 0) << offline.err;
  EXPECT_NE(lastLine(offline.out).find("\"stored\""), std::string::npos) << offline.out;
  auto got = run({binary("rdv"), "inbox", "--node", url, "--key", bob.key, "--count", "1", "--timeout", "15"}, 20s);
  ASSERT_EQ(got.exitCode, 0) << got.err;
  EXPECT_NE(got.out.find("offline hello"), std::string::npos) << got.out;

  Process inbox({binary("rdv"), "inbox", "--node", url, "--key", bob.key, "--count", "1", "--timeout", "20"},
                dir.file(tag + "-inbox.log"));
  ASSERT_TRUE(waitUntil([&] { return inbox.log().find("listening as") != std::string::npos; }, 15s)) << inbox.log();
  auto online = run({binary("rdv"), "send", "--node", url, "--key", alice.key, "--to", bob.enr, "online hello"}, 20s);
  ASSERT_EQ(online.exitCode, 0) << online.err;
  EXPECT_NE(lastLine(online.out).find("\"delivered\""), std::string::npos) << online.out;
  ASSERT_TRUE(waitUntil([&] { return !inbox.running(); }, 20s));
  EXPECT_NE(inbox.log().find("online hello"), std::string::npos) << inbox.log();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 60s);
  std::cout << "[ measured ] honest round after " << tag << ": "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

}  // namespace rdv::test::abuse
