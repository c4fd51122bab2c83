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

namespace {

constexpr const char* kSecret = "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";
// The vectors' address, EIP-55 checksummed (it has only digits and lower-case letters a-f).
constexpr const char* kAddress = "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b";

struct RunResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};

std::string rdvPath() {
  const char* dir = std::getenv("RDV_BIN_DIR");
  return std::string(dir != nullptr ? dir : RDV_DEFAULT_BIN_DIR) + "/rdv";
}

// The source tree's tests/vectors/ethereum (RDV_ETH_VECTORS, set by CMake).
std::string vectorPath(const std::string& name) { return std::string(RDV_ETH_VECTORS) + "/" + name; }

std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RdvKeyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rdv-key-cli-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    ASSERT_TRUE(std::filesystem::exists(rdvPath())) << rdvPath();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // setsid: no controlling terminal, so a missing --password-file cannot prompt. Arguments go through
  // the shell: tests use shell-safe strings only.
  RunResult run(const std::string& args) {
    const auto outFile = dir_ / "stdout";
    const auto errFile = dir_ / "stderr";
    const std::string cmd =
        "setsid " + rdvPath() + " " + args + " </dev/null >" + outFile.string() + " 2>" + errFile.string();
    const int status = std::system(cmd.c_str());
    RunResult r;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = readFile(outFile);
    r.err = readFile(errFile);
    return r;
  }

  std::filesystem::path writeFile(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  std::filesystem::path dir_;
};

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
