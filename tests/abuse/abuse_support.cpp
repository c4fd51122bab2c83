#include "tests/abuse/abuse_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "stun/constants.h"
#include "stun/message.h"

namespace rdv::test::abuse {

namespace {

sockaddr_in v4(uint32_t hostOrder, uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(hostOrder);
  sin.sin_port = htons(port);
  return sin;
}

stun::TransactionId tidFor(uint32_t salt) {
  stun::TransactionId tid;
  for (int i = 0; i < 4; ++i) tid.bytes[i] = static_cast<uint8_t>(salt >> (8 * i));
  tid.bytes[11] = 0xAB;
  return tid;
}

}  // namespace

std::string dotted(uint32_t hostOrder) {
  const in_addr a{htonl(hostOrder)};
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof buf) ? buf : "?";
}

bool sendFrom(uint32_t source, const Endpoint& to, ByteSpan bytes) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in from = v4(source, 0);
  sockaddr_storage ss;
  const unsigned len = to.toSockaddr(ss);
  const bool ok = bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) == 0 &&
                  sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
                      static_cast<ssize_t>(bytes.size());
  close(fd);
  return ok;
}

int connectFrom(uint32_t source, const Endpoint& to) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const sockaddr_in from = v4(source, 0);
  sockaddr_storage ss;
  const unsigned len = to.toSockaddr(ss);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

bool closedByPeer(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;  // reset
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (n > 0) continue;
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, static_cast<int>(left.count()));
  }
}

Bytes bindingRequest(uint32_t salt) {
  stun::MessageBuilder b(stun::Method::Binding, stun::Class::Request, tidFor(salt));
  return std::move(b).finish();
}

Bytes unauthenticatedAllocate(uint32_t salt) {
  stun::MessageBuilder b(stun::Method::Allocate, stun::Class::Request, tidFor(salt));
  b.addRequestedTransport(stun::kTransportUdp);
  return std::move(b).finish();
}

std::optional<std::chrono::milliseconds> tcpBindingRoundTrip(int fd, std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  const Bytes req = bindingRequest(0x5151);
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return std::nullopt;
  Bytes got;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(start + timeout - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    uint8_t buf[2048];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      return std::nullopt;
    }
    got.insert(got.end(), buf, buf + n);
    if (got.size() >= stun::kHeaderSize && got.size() >= stun::kHeaderSize + loadBe16(got.data() + 2))
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  }
}

std::string httpGetFrom(uint32_t source, const Endpoint& to, const std::string& target, const std::string& bearer) {
  const int fd = connectFrom(source, to);
  if (fd < 0) return {};
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + to.toString() + "\r\n";
  if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
  req += "Connection: close\r\n\r\n";
  std::string in;
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char buf[65536];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return in;
}

std::optional<uint64_t> promValue(const std::string& exposition, const std::string& name) {
  const auto at = exposition.find("\n" + name + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stoull(exposition.substr(at + name.size() + 2));
}

}  // namespace rdv::test::abuse
