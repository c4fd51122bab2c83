#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

extern char** environ;

namespace rdv::test {

namespace {

std::vector<char*> cArgs(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::string binDir() {
  if (const char* d = std::getenv("RDV_BIN_DIR"); d && *d) return d;
  return RDV_DEFAULT_BIN_DIR;
}

std::string binary(const std::string& name) { return binDir() + "/" + name; }

bool onPath(const std::string& program) {
  return run({"/bin/sh", "-c", "command -v " + program + " >/dev/null"}, 5s).exitCode == 0;
}

TempDir::TempDir() {
  std::random_device rd;
  for (int i = 0; i < 100; ++i) {
    auto p = std::filesystem::temp_directory_path() / ("rdv-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(p)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CommandResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout, const std::string& stdinText) {
  TempDir dir;
  const std::string outPath = dir.file("out"), errPath = dir.file("err"), inPath = dir.file("in");
  { std::ofstream(inPath) << stdinText; }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, inPath.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  auto args = cArgs(argv);
  CommandResult r;
  if (posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    r.err = "cannot start " + argv[0];
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  const bool exited = waitUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout, 5ms);
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    r.timedOut = true;
  } else if (WIFEXITED(status)) {
    r.exitCode = WEXITSTATUS(status);
  }
  r.out = slurp(outPath);
  r.err = slurp(errPath);
  return r;
}

uint16_t freeUdpPort() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sin);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0;
  close(fd);
  return ok ? ntohs(sin.sin_port) : 0;
}

std::vector<nlohmann::json> events(const std::string& log, const std::string& event) {
  std::vector<nlohmann::json> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) out.push_back(std::move(j));
  }
  return out;
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

Process::Process(const std::vector<std::string>& argv, const std::string& logPath) : logPath_(logPath) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  auto args = cArgs(argv);
  if (posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    if (!stop(SIGTERM, 5s)) stop(SIGKILL, 5s);
  }
}

bool Process::running() {
  if (pid_ <= 0 || status_) return false;
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) == pid_) {
    status_ = st;
    return false;
  }
  return true;
}

std::optional<int> Process::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  if (status_) return status_;
  kill(pid_, sig);
  int st = 0;
  if (waitUntil([&] { return waitpid(pid_, &st, WNOHANG) == pid_; }, timeout, 5ms)) {
    status_ = st;
    return st;
  }
  return std::nullopt;
}

std::string Process::log() const { return slurp(logPath_); }

long Process::rssKiB() const {
  std::ifstream f("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

Node::Node(std::vector<std::string> args) {
  const std::string readyFile = dir_.file("ready.json");
  std::vector<std::string> argv{binary("rendezvousd"), "--ready-file", readyFile};
  // A test may reuse another node's data directory (restart tests).
  if (std::find(args.begin(), args.end(), "--data-dir") == args.end())
    argv.insert(argv.end(), {"--data-dir", dir_.file("data")});
  // Never the default fixed ports: parallel tests would collide.
  if (std::find(args.begin(), args.end(), "--http-listen") == args.end())
    argv.insert(argv.end(), {"--http-listen", "127.0.0.1:0"});
  argv.insert(argv.end(), args.begin(), args.end());
  // RDV_TEST_KERNEL_FAST_PATH=auto|on runs every node with the kernel fast path (docs/turn.md), so the
  // relay suites can be run once with it: the results must not change.
  if (const char* fastPath = std::getenv("RDV_TEST_KERNEL_FAST_PATH");
      fastPath && *fastPath && std::find(args.begin(), args.end(), "--kernel-fast-path") == args.end())
    argv.insert(argv.end(), {"--kernel-fast-path", fastPath});
  process_ = std::make_unique<Process>(argv, dir_.file("node.log"));
  waitUntil([&] { return std::filesystem::exists(readyFile) || !process_->running(); }, 15s);
  if (std::filesystem::exists(readyFile)) {
    auto j = nlohmann::json::parse(slurp(readyFile), nullptr, false);
    if (j.is_object()) ready_ = j;
  }
}

uint16_t Node::udpPort(size_t i) const {
  const std::string s = udp(i);
  return static_cast<uint16_t>(std::stoi(s.substr(s.rfind(':') + 1)));
}

TestCertificate makeTestCertificate(const TempDir& dir) {
  TestCertificate c{dir.file("cert.pem"), dir.file("key.pem")};
  run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", c.key,
       "-out", c.cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
      30s);
  return c;
}

}  // namespace rdv::test
