// Blocking socket helpers for the rdv CLI (the client side needs no event loop for one-shot commands).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace rdv::cli {

// "HOST:PORT", "[v6]:PORT" or "name:PORT" (resolved with getaddrinfo; the first address wins).
Result<Endpoint, std::string> resolveEndpoint(const std::string& text, uint16_t defaultPort = 3478);

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

Result<Fd, std::string> udpSocket(Family family);
bool sendTo(int fd, ByteSpan bytes, const Endpoint& to);
// Waits until `deadline` for one datagram; nullopt on timeout.
std::optional<std::pair<Bytes, Endpoint>> receiveFrom(int fd, std::chrono::steady_clock::time_point deadline);

// A connected byte stream: plain TCP or TLS (OpenSSL, blocking with deadlines).
class Stream {
 public:
  struct TlsOptions {
    std::string caFile;     // trust this CA/certificate; empty: the system store
    std::string serverName; // SNI and name check; empty: check the IP address
    bool insecure = false;  // no certificate verification
  };
  static Result<std::unique_ptr<Stream>, std::string> connect(const Endpoint& to, std::chrono::milliseconds timeout,
                                                              const TlsOptions* tls);
  ~Stream();
  bool write(ByteSpan bytes);
  // Reads what is available (at least one byte) before the deadline; empty on timeout or close.
  Bytes read(std::chrono::steady_clock::time_point deadline);
  // The peer closed the stream or it broke (an empty read() was not a timeout), also with a past deadline.
  bool ended() const { return ended_; }
  Endpoint localEndpoint() const;
  // The socket, for callers that wait on it in their own event loop (then read with a past deadline).
  int fd() const { return fd_.get(); }

 private:
  Stream() = default;
  Fd fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool ended_ = false;
};

}  // namespace rdv::cli
