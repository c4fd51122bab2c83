// The built rdv binary run from a unit test (no integration harness): a scratch directory per test, and
// run("ARGS") with stdout and stderr captured. Shared by the rdv key/enr command-line tests.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace rdv::test {

struct RunResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};

inline std::string rdvPath() {
  const char* dir = std::getenv("RDV_BIN_DIR");
  return std::string(dir != nullptr ? dir : RDV_DEFAULT_BIN_DIR) + "/rdv";
}

inline std::string readFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class RdvCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rdv-cli-" + std::to_string(::getpid()));
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

}  // namespace rdv::test
