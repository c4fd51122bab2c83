// The TCP side of rdv-apibench: non-blocking connections on one epoll loop, with the two protocols the
// node's HTTP listener speaks: HTTP/1.1 keep-alive requests and RFC 6455 WebSocket frames (client side:
// masked sends, unmasked receives). Small and benchmark-only: no TLS, no redirects, no compression.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "rendezvous/base/address.h"

namespace rdv::bench {

int64_t monoNs();

// Lifts RLIMIT_NOFILE's soft limit to at least `n` (to the hard limit when n is above it).
void raiseOpenFiles(size_t n);
// VmRSS of a process in KiB (0 when unreadable).
uint64_t rssKib(int pid);
// CPU time (user + system, all threads) a process has used, in seconds (0 when unreadable).
double cpuSeconds(int pid);
// Pins the calling thread to `cpu` (no-op when cpu < 0).
void pinToCpu(int cpu);

class Epoll {
 public:
  Epoll();
  ~Epoll();
  Epoll(const Epoll&) = delete;
  Epoll& operator=(const Epoll&) = delete;
  void add(int fd, void* tag, bool wantWrite);
  void modify(int fd, void* tag, bool wantWrite);
  void remove(int fd);
  int wait(epoll_event* events, int max, int timeoutMs);

 private:
  int fd_;
};

// One non-blocking TCP connection with an input buffer and a pending-output buffer.
struct TcpConn {
  int fd = -1;
  std::string in;    // bytes received and not consumed yet (from inPos)
  size_t inPos = 0;
  std::string out;   // bytes queued and not written yet (from outPos)
  size_t outPos = 0;
  bool writeArmed = false;  // EPOLLOUT is requested

  // Starts a non-blocking connect; false with `error` on immediate failure.
  bool connect(const Endpoint& server, std::string& error);
  // After EPOLLOUT on a connecting socket: 0 when connected, else the errno.
  int connectResult() const;
  // Reads until EAGAIN; false when the peer closed or the socket failed.
  bool readAvailable();
  // Queues bytes and writes as much as the socket takes; arms/disarms EPOLLOUT on `loop`. False on error.
  bool send(Epoll& loop, std::string_view bytes);
  bool flush(Epoll& loop);
  void consume(size_t n);
  std::string_view pending() const { return std::string_view(in).substr(inPos); }
  void close(Epoll& loop);
};

// --- WebSocket (RFC 6455) ---------------------------------------------------------------------------
// The upgrade request for `path` with a random key; `expectedAccept` gets the Sec-WebSocket-Accept the
// server must answer with.
std::string webSocketUpgrade(const Endpoint& server, const std::string& path, std::string& expectedAccept);
// Parses the server's handshake answer at the start of `in`: 0 when incomplete, -1 when refused or
// wrong, else the header length consumed.
long parseUpgradeAnswer(std::string_view in, const std::string& expectedAccept);
// A masked client frame (FIN set) with `opcode` (1 text, 8 close, 10 pong) around `payload`.
std::string maskedFrame(uint8_t opcode, std::string_view payload);

struct WsFrame {
  uint8_t opcode = 0;
  bool fin = true;
  std::string_view payload;  // into the connection's input buffer: valid until it is consumed
  size_t size = 0;           // bytes of the whole frame
};
// The next complete frame at the start of `in`; nullopt when incomplete. `bad` is set when the
// server masked its frame or sent a length the client refuses (over `maxPayload`).
std::optional<WsFrame> parseFrame(std::string_view in, size_t maxPayload, bool& bad);

// --- HTTP/1.1 -----------------------------------------------------------------------------------------
struct HttpAnswer {
  int status = 0;
  std::string_view body;
  size_t size = 0;  // header + body bytes
};
// A complete response at the start of `in` (Content-Length framed), nullopt when incomplete; `bad` on
// a response this client cannot frame.
std::optional<HttpAnswer> parseHttpAnswer(std::string_view in, bool& bad);
std::string httpRequest(const std::string& method, const Endpoint& server, const std::string& target,
                        const std::string& body);

}  // namespace rdv::bench
