// A redis-server of the test's own: a free loopback port, a temp directory, `appendonly yes` (the fleet's
// durability rests on the AOF), killed on destruction. restart() brings it back on the same port and
// directory (the AOF is replayed), kill9() takes it away abruptly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tests/integration/harness.h"

namespace rdv::test {

class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  bool started() const { return started_; }
  uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // Starts it (again) on the same port and directory; true once it answers PING.
  bool start();
  void kill9();
  // One command over a fresh connection (inline protocol): the first reply line, e.g. "+PONG", ":3".
  std::string command(const std::string& inlineCommand) const;
  std::string log() const;

 private:
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
  bool started_ = false;
};

// A TCP port on 127.0.0.1 that is free right now.
uint16_t freeTcpPort();

}  // namespace rdv::test
