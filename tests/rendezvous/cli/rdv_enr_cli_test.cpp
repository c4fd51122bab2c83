// Runs the built rdv binary: key new, enr encode / decode / verify, and their failures.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/rendezvous/cli/rdv_cli_fixture.h"

namespace {

using rdv::test::readFile;
using rdv::test::rdvPath;

constexpr const char* kEipRecord =
    "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlw"
    "hH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";

class RdvEnrCli : public rdv::test::RdvCliTest {};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

TEST_F(RdvEnrCli, KeyNewWritesA0600FileAndPrintsTheNodeId) {
  const auto keyFile = (dir_ / "peer.key").string();
  auto r = run("key new --out " + keyFile);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(trim(r.out).size(), 64u);
  struct stat st {};
  ASSERT_EQ(::stat(keyFile.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = run("key new --out " + keyFile);
  EXPECT_EQ(again.exitCode, 1);
  EXPECT_NE(again.err.find("never overwritten"), std::string::npos) << again.err;
}

TEST_F(RdvEnrCli, EncodeDecodeVerifyRoundTrip) {
  const auto keyFile = (dir_ / "peer.key").string();
  auto created = run("key new --out " + keyFile);
  ASSERT_EQ(created.exitCode, 0);
  const std::string nodeId = trim(created.out);

  auto enc = run("enr encode --key " + keyFile + " --seq 9 --ip 198.51.100.7 --udp 3478 --tcp 3479 --set nat=eim/apdf --set direct=0x01");
  ASSERT_EQ(enc.exitCode, 0) << enc.err;
  const std::string record = trim(enc.out);
  ASSERT_EQ(record.rfind("enr:", 0), 0u);

  auto dec = run("enr decode " + record);
  ASSERT_EQ(dec.exitCode, 0) << dec.err;
  auto json = nlohmann::json::parse(dec.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << dec.out;
  EXPECT_EQ(json["seq"], 9);
  EXPECT_EQ(json["node_id"], nodeId);
  EXPECT_EQ(json["keys"]["ip"], "198.51.100.7");
  EXPECT_EQ(json["keys"]["udp"], 3478);
  EXPECT_EQ(json["keys"]["tcp"], 3479);
  EXPECT_EQ(json["keys"]["nat"], "eim/apdf");
  EXPECT_EQ(json["keys"]["direct"], "0x01");
  EXPECT_EQ(json["keys"]["id"], "v4");

  auto ok = run("enr verify " + record);
  EXPECT_EQ(ok.exitCode, 0);
  EXPECT_NE(ok.out.find(nodeId), std::string::npos);
}

TEST_F(RdvEnrCli, DecodesTheEipExample) {
  auto dec = run(std::string("enr decode ") + kEipRecord);
  ASSERT_EQ(dec.exitCode, 0) << dec.err;
  auto json = nlohmann::json::parse(dec.out, nullptr, false);
  EXPECT_EQ(json["node_id"], "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7");
  EXPECT_EQ(json["keys"]["ip"], "127.0.0.1");
  EXPECT_EQ(json["keys"]["udp"], 30303);
}

TEST_F(RdvEnrCli, VerifyRefusesWithAReason) {
  std::string tampered = kEipRecord;
  tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
  auto bad = run("enr verify " + tampered);
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.err.find("invalid"), std::string::npos) << bad.err;
  auto padded = run(std::string("enr verify ") + kEipRecord + "=");
  EXPECT_EQ(padded.exitCode, 1);
  EXPECT_NE(padded.err.find("base64"), std::string::npos) << padded.err;
  auto noPrefix = run("enr verify abc");
  EXPECT_EQ(noPrefix.exitCode, 1);
  EXPECT_NE(noPrefix.err.find("enr:"), std::string::npos) << noPrefix.err;
}

TEST_F(RdvEnrCli, EncodeErrorsAreClear) {
  auto missing = run("enr encode --key " + (dir_ / "nope.key").string());
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.err.find("key file"), std::string::npos) << missing.err;
  const auto keyFile = (dir_ / "k.key").string();
  ASSERT_EQ(run("key new --out " + keyFile).exitCode, 0);
  auto badIp = run("enr encode --key " + keyFile + " --ip 300.1.1.1");
  EXPECT_EQ(badIp.exitCode, 1);
  EXPECT_NE(badIp.err.find("IPv4"), std::string::npos);
  auto tooBig = run("enr encode --key " + keyFile + " --set pad=" + std::string(280, 'p'));
  EXPECT_EQ(tooBig.exitCode, 1);
  EXPECT_NE(tooBig.err.find("300 bytes"), std::string::npos) << tooBig.err;
}

}  // namespace
