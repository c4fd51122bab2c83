#include "rendezvous/client/net.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace rdv::cli {

using Clock = std::chrono::steady_clock;

namespace {

int msUntil(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

bool waitFor(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, msUntil(deadline));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

std::string sslError() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

}  // namespace

Result<Endpoint, std::string> resolveEndpoint(const std::string& text, uint16_t defaultPort) {
  if (auto ep = Endpoint::parse(text)) return *ep;
  if (auto ip = IpAddress::parse(text)) return Endpoint(*ip, defaultPort);
  std::string host = text;
  uint16_t port = defaultPort;
  if (auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    unsigned v = 0;
    const std::string p = text.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size() || v > 65535 || p.empty())
      return unexpected("'" + text + "': bad port");
    port = static_cast<uint16_t>(v);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (int r = ::getaddrinfo(host.c_str(), nullptr, &hints, &res); r != 0)
    return unexpected("cannot resolve '" + host + "': " + gai_strerror(r));
  std::optional<Endpoint> ep = Endpoint::fromSockaddr(res->ai_addr);
  ::freeaddrinfo(res);
  if (!ep) return unexpected("cannot resolve '" + host + "': no usable address");
  ep->setPort(port);
  return *ep;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}
Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Result<Fd, std::string> udpSocket(Family family) {
  const int fd = ::socket(family == Family::V4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return unexpected(std::string("socket: ") + std::strerror(errno));
  return Fd(fd);
}

bool sendTo(int fd, ByteSpan bytes, const Endpoint& to) {
  sockaddr_storage ss;
  const unsigned len = to.toSockaddr(ss);
  return ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) ==
         static_cast<ssize_t>(bytes.size());
}

std::optional<std::pair<Bytes, Endpoint>> receiveFrom(int fd, Clock::time_point deadline) {
  if (!waitFor(fd, POLLIN, deadline)) return std::nullopt;
  Bytes buf(65536);
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<size_t>(n));
  auto from = Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss));
  if (!from) return std::nullopt;
  return std::make_pair(std::move(buf), *from);
}

Result<std::unique_ptr<Stream>, std::string> Stream::connect(const Endpoint& to, std::chrono::milliseconds timeout,
                                                             const TlsOptions* tls) {
  const auto deadline = Clock::now() + timeout;
  std::unique_ptr<Stream> s(new Stream());
  const int fd = ::socket(to.ip().isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return unexpected(std::string("socket: ") + std::strerror(errno));
  s->fd_ = Fd(fd);
  sockaddr_storage ss;
  const unsigned len = to.toSockaddr(ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS)
    return unexpected("connect " + to.toString() + ": " + std::strerror(errno));
  if (!waitFor(fd, POLLOUT, deadline)) return unexpected("connect " + to.toString() + ": timed out");
  int err = 0;
  socklen_t errLen = sizeof(err);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errLen);
  if (err != 0) return unexpected("connect " + to.toString() + ": " + std::strerror(err));
  if (!tls) return s;

  s->ctx_ = SSL_CTX_new(TLS_client_method());
  if (!s->ctx_) return unexpected("TLS: " + sslError());
  SSL_CTX_set_min_proto_version(s->ctx_, TLS1_2_VERSION);
  if (!tls->insecure) {
    SSL_CTX_set_verify(s->ctx_, SSL_VERIFY_PEER, nullptr);
    const bool loaded = tls->caFile.empty() ? SSL_CTX_set_default_verify_paths(s->ctx_) == 1
                                            : SSL_CTX_load_verify_locations(s->ctx_, tls->caFile.c_str(), nullptr) == 1;
    if (!loaded) return unexpected("TLS: cannot load CA '" + tls->caFile + "': " + sslError());
  }
  s->ssl_ = SSL_new(s->ctx_);
  if (!s->ssl_) return unexpected("TLS: " + sslError());
  SSL_set_fd(s->ssl_, fd);
  if (!tls->insecure) {
    X509_VERIFY_PARAM* param = SSL_get0_param(s->ssl_);
    if (!tls->serverName.empty()) {
      SSL_set_tlsext_host_name(s->ssl_, tls->serverName.c_str());
      X509_VERIFY_PARAM_set1_host(param, tls->serverName.c_str(), 0);
    } else {
      X509_VERIFY_PARAM_set1_ip_asc(param, to.ip().toString().c_str());
    }
  }
  while (true) {
    ERR_clear_error();  // SSL_get_error() reads this thread's queue: see Stream::read
    const int r = SSL_connect(s->ssl_);
    if (r == 1) break;
    const int e = SSL_get_error(s->ssl_, r);
    short events = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (events == 0) {
      const long verify = SSL_get_verify_result(s->ssl_);
      std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : sslError();
      ERR_clear_error();  // a refused certificate leaves errors in this thread's queue
      return unexpected("TLS handshake with " + to.toString() + " failed: " + why);
    }
    if (!waitFor(fd, events, deadline)) return unexpected("TLS handshake with " + to.toString() + ": timed out");
  }
  return s;
}

Stream::~Stream() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
}

bool Stream::write(ByteSpan bytes) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n;
    short wait = POLLOUT;
    if (ssl_) {
      ERR_clear_error();
      n = SSL_write(ssl_, bytes.data() + off, static_cast<int>(bytes.size() - off));
      if (n <= 0) {
        const int e = SSL_get_error(ssl_, static_cast<int>(n));
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return false;
        wait = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        n = 0;
      }
    } else {
      n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) return false;
        n = 0;
      }
    }
    off += static_cast<size_t>(n);
    if (off < bytes.size() && !waitFor(fd_.get(), wait, deadline)) return false;
  }
  return true;
}

Bytes Stream::read(Clock::time_point deadline) {
  Bytes buf(16384);
  while (true) {
    ssize_t n;
    short wait = POLLIN;
    if (ssl_) {
      // OpenSSL keeps one error queue per thread and SSL_get_error() answers SSL_ERROR_SSL while it holds
      // anything: an error left by another connection of this thread (a refused certificate) would make
      // "no data yet" look fatal. The queue must be empty before each TLS I/O call (SSL_get_error(3)).
      ERR_clear_error();
      n = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
      if (n <= 0) {
        const int e = SSL_get_error(ssl_, static_cast<int>(n));
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
          ended_ = true;
          return {};
        }
        wait = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      }
    } else {
      n = ::recv(fd_.get(), buf.data(), buf.size(), 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        ended_ = true;
        return {};
      }
    }
    if (n > 0) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (!waitFor(fd_.get(), wait, deadline)) return {};
  }
}

Endpoint Stream::localEndpoint() const {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  return Endpoint::fromSockaddr(reinterpret_cast<sockaddr*>(&ss)).value_or(Endpoint());
}

}  // namespace rdv::cli
