#include "tests/fleet/fleet_http.h"

#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include "rendezvous/base/address.h"

namespace rdv::test {

HttpReply httpGet(const std::string& hostPort, const std::string& target, const std::string& authorization) {
  HttpReply r;
  auto ep = Endpoint::parse(hostPort);
  if (!ep) return r;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_storage ss{};
  const unsigned len = ep->toSockaddr(ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    return r;
  }
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + hostPort + "\r\nConnection: close\r\n";
  if (!authorization.empty()) req += "Authorization: " + authorization + "\r\n";
  req += "\r\n";
  (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) in.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (in.rfind("HTTP/1.1 ", 0) != 0) return r;
  r.status = std::stoi(in.substr(9, 3));
  const auto end = in.find("\r\n\r\n");
  if (end != std::string::npos) r.body = in.substr(end + 4);
  return r;
}

std::string metricOf(const std::string& adminHostPort, const std::string& token, const std::string& name) {
  auto r = httpGet(adminHostPort, "/metrics", "Bearer " + token);
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ", 0) == 0) return line.substr(name.size() + 1);
  return "";
}

}  // namespace rdv::test
