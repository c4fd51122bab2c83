#include "tests/fleet/redis_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include "rendezvous/base/address.h"

namespace rdv::test {

uint16_t freeTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

RedisServer::RedisServer() {
  // The port is free when picked; another process may take it before redis binds: pick again.
  for (int attempt = 0; attempt < 5 && !started_; ++attempt) {
    port_ = freeTcpPort();
    started_ = start();
  }
}

RedisServer::~RedisServer() {
  if (process_) process_->stop(SIGKILL, 5s);
}

bool RedisServer::start() {
  if (process_) process_->stop(SIGKILL, 5s);
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir",
                               dir_.path().string(), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                               "--daemonize", "no", "--protected-mode", "yes"},
      dir_.file("redis.log"));
  return waitUntil([&] { return !process_->running() || command("PING") == "+PONG"; }, 10s) && process_->running();
}

void RedisServer::kill9() {
  if (process_) process_->stop(SIGKILL, 5s);
  process_.reset();
}

std::string RedisServer::command(const std::string& inlineCommand) const {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port_);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = inlineCommand + "\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      while (reply.find("\r\n") == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        reply.append(buf, static_cast<size_t>(n));
      }
    }
  }
  ::close(fd);
  return reply.substr(0, reply.find("\r\n"));
}

std::string RedisServer::log() const {
  std::ifstream in(dir_.file("redis.log"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace rdv::test
