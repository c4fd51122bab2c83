// Runs the built rdv binary: key address and key import (Ethereum identities, issue 17) with the
// published keystore vectors of tests/vectors/ethereum, and their failures.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/rendezvous/cli/rdv_cli_fixture.h"

namespace {

using rdv::test::readFile;
using rdv::test::rdvPath;

constexpr const char* kSecret = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
// The vectors' address, EIP-55 checksummed (it has only digits and lower-case letters a-f).
constexpr const char* kAddress = "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b";

// The source tree's tests/vectors/ethereum (RDV_ETH_VECTORS, set by CMake).
std::string vectorPath(const std::string& name) { return std::string(RDV_ETH_VECTORS) + "/" + name; }

class RdvKeyCli : public rdv::test::RdvCliTest {};

TEST_F(RdvKeyCli, AddressOfAKeyIsEip55) {
  const auto key = writeFile("k.hex", std::string(kSecret) + "\n");
  auto r = run("key address --key " + key.string());
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kAddress) + "\n");
  auto missing = run("key address --key " + (dir_ / "nope").string());
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_NE(missing.err.find("--key"), std::string::npos) << missing.err;
}

TEST_F(RdvKeyCli, ImportsThePublishedPbkdf2KeystoreWithAPasswordFile) {
  const auto password = writeFile("pw", "testpassword\n");
  const auto out = dir_ / "imported.key";
  auto r = run("key import --keystore " + vectorPath("keystore_pbkdf2.json") + " --password-file " + password.string() +
               " --out " + out.string());
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out.size(), 65u) << r.out;  // the node id and a newline
  EXPECT_NE(r.err.find(kAddress), std::string::npos) << r.err;
  EXPECT_EQ(readFile(out), std::string(kSecret) + "\n");
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto address = run("key address --key " + out.string());
  EXPECT_EQ(address.out, std::string(kAddress) + "\n");
  // Never overwritten.
  auto again = run("key import --keystore " + vectorPath("keystore_pbkdf2.json") + " --password-file " +
                   password.string() + " --out " + out.string());
  EXPECT_EQ(again.exitCode, 1);
  EXPECT_NE(again.err.find("never overwritten"), std::string::npos) << again.err;
}

TEST_F(RdvKeyCli, WrongPasswordAndNoPasswordAreClearErrors) {
  const auto password = writeFile("pw", "not-the-password\n");
  const auto out = dir_ / "k";
  auto wrong = run("key import --keystore " + vectorPath("keystore_pbkdf2.json") + " --password-file " +
                   password.string() + " --out " + out.string());
  EXPECT_EQ(wrong.exitCode, 1);
  EXPECT_NE(wrong.err.find("wrong password"), std::string::npos) << wrong.err;
  EXPECT_FALSE(std::filesystem::exists(out));
  auto noTty = run("key import --keystore " + vectorPath("keystore_pbkdf2.json") + " --out " + out.string());
  EXPECT_EQ(noTty.exitCode, 2);
  EXPECT_NE(noTty.err.find("--password-file"), std::string::npos) << noTty.err;
  const auto junk = writeFile("junk.json", "{\"version\":3}");
  auto bad = run("key import --keystore " + junk.string() + " --password-file " + password.string() + " --out " +
                 out.string());
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.err.find("malformed"), std::string::npos) << bad.err;
}

}  // namespace
