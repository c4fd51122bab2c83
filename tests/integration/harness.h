// Integration-test harness: real processes on loopback, free ports, waits with deadlines, cleanup always.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rdv::test {

using namespace std::chrono_literals;

// Where the built binaries are (RDV_BIN_DIR from CTest, else the build's bin/).
std::string binDir();
std::string binary(const std::string& name);
// Is a program on PATH (e.g. turnutils_stunclient)?
bool onPath(const std::string& program);

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exitCode = -1;  // -1: killed at the deadline
  std::string out;
  std::string err;
  bool timedOut = false;
};
// Runs argv[0] with arguments, waits at most `timeout`, kills it after that.
CommandResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 30s,
                  const std::string& stdinText = {});

// A UDP port on 127.0.0.1 that is free right now (for programs that cannot report the port they bound,
// such as turnutils_peer; callers retry when they lose the race).
uint16_t freeUdpPort();

// Polls `condition` until it is true or the deadline passes.
// The JSON log lines (--log-format json) of `event`, in order.
std::vector<nlohmann::json> events(const std::string& log, const std::string& event);

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step = 20ms);

// A background process: stdout and stderr go to files in `dir`; SIGTERM, then SIGKILL, on destruction.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& logPath);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig`, waits for the exit; returns the exit status (as from waitpid) or nullopt on timeout.
  std::optional<int> stop(int sig, std::chrono::milliseconds timeout = 10s);
  std::string log() const;
  // Resident memory from /proc, in KiB.
  long rssKiB() const;

 private:
  pid_t pid_ = -1;
  std::string logPath_;
  std::optional<int> status_;
};

// rendezvousd with a ready file: start() returns once every socket is bound (or fails the test).
class Node {
 public:
  explicit Node(std::vector<std::string> args);
  bool started() const { return ready_.is_object(); }
  const nlohmann::json& ready() const { return ready_; }
  std::string udp(size_t i = 0) const { return ready_["udp"][i].get<std::string>(); }
  std::string tls(size_t i = 0) const { return ready_["tls"][i].get<std::string>(); }
  std::string http() const { return ready_.value("http", ""); }
  std::string dataDir() const { return dir_.file("data"); }  // unless the args gave --data-dir
  uint16_t udpPort(size_t i = 0) const;
  Process& process() { return *process_; }
  std::string log() const { return process_->log(); }

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
  nlohmann::json ready_;
};

// A self-signed certificate for 127.0.0.1 made with the openssl command, in `dir`.
struct TestCertificate {
  std::string cert;
  std::string key;
};
TestCertificate makeTestCertificate(const TempDir& dir);

}  // namespace rdv::test
