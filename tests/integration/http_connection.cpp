#include "tests/integration/http_connection.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "rendezvous/base/address.h"

namespace rdv::test {

std::string lowerCase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string headerOf(const HttpAnswer& a, const std::string& name) {
  auto it = a.headers.find(name);
  return it == a.headers.end() ? "<absent>" : it->second;
}

HttpConnection::HttpConnection(const std::string& hostPort) : hostPort_(hostPort) {
  auto ep = Endpoint::parse(hostPort);
  EXPECT_TRUE(ep.has_value()) << hostPort;
  if (!ep) return;
  fd_ = ::socket(ep->ip().isV4() ? AF_INET : AF_INET6, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_storage ss{};
  const unsigned len = ep->toSockaddr(ss);
  connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  EXPECT_TRUE(connected_) << "connect " << hostPort;
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

HttpAnswer HttpConnection::request(const std::string& method, const std::string& target,
                                   const std::vector<std::string>& headers, const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + hostPort_ + "\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "\r\n" + body;
  if (!connected_ || ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return {};
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
    if (!fill()) return {};
  HttpAnswer a;
  const std::string head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  if (head.rfind("HTTP/1.1 ", 0) != 0 || head.size() < 12) return {};
  a.status = std::atoi(head.substr(9, 3).c_str());
  for (size_t at = head.find("\r\n"); at != std::string::npos;) {
    const size_t next = head.find("\r\n", at + 2);
    const std::string line = head.substr(at + 2, next == std::string::npos ? std::string::npos : next - at - 2);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      a.headers[lowerCase(line.substr(0, colon))] = value;
    }
    at = next;
  }
  const size_t length = a.headers.count("content-length") ? std::stoul(a.headers["content-length"]) : 0;
  while (buffer_.size() < length)
    if (!fill()) return {};
  a.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return a;
}

std::string HttpConnection::leftover(int ms) {
  pollfd p{fd_, POLLIN, 0};
  if (connected_ && ::poll(&p, 1, ms) == 1 && (p.revents & POLLIN)) {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) buffer_.append(buf, static_cast<size_t>(n));
  }
  std::string out;
  out.swap(buffer_);
  return out;
}

bool HttpConnection::fill() {
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

HttpAnswer httpOnce(const std::string& hostPort, const std::string& method, const std::string& target,
                    const std::vector<std::string>& headers, const std::string& body) {
  HttpConnection c(hostPort);
  return c.request(method, target, headers, body);
}

}  // namespace rdv::test
