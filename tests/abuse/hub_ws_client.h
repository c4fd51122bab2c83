// A small WebSocket and HTTP client for the hub and registry attack tests: it binds its own
// 127.x source address (attackers and the honest client come from different addresses), speaks just
// enough RFC 6455 (masked text frames out, unmasked frames in, close frames), and can stop reading
// on purpose. Blocking sockets with deadlines; nothing here is shared with the product's client.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rendezvous/identity/private_key.h"
#include "signalling/envelope/crypto.h"
#include "signalling/envelope/envelope.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"

namespace rdv::test::abuse {

using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock::time_point;

// A TCP connection from `sourceIp` (port 0) to "IP:PORT"; -1 on failure. `rcvbuf` > 0 shrinks the
// receive buffer (a client that does not read fills up sooner).
inline int connectFrom(const std::string& sourceIp, const std::string& hostPort, int rcvbuf = 0) {
  const auto colon = hostPort.rfind(':');
  sockaddr_in to{}, from{};
  to.sin_family = from.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(hostPort.substr(colon + 1))));
  if (inet_pton(AF_INET, hostPort.substr(0, colon).c_str(), &to.sin_addr) != 1) return -1;
  if (inet_pton(AF_INET, sourceIp.c_str(), &from.sin_addr) != 1) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool sendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads into `buf` until it holds `want` bytes, the peer closes (`*eof` set), or the deadline passes.
inline bool readAtLeast(int fd, std::string& buf, size_t want, SteadyTime deadline, bool* eof = nullptr) {
  char chunk[65536];
  while (buf.size() < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      if (eof != nullptr) *eof = true;
      return false;
    }
    buf.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

struct HttpReply {
  int status = 0;
  nlohmann::json body;
};

// One HTTP/1.1 request from `sourceIp` (Connection: close); status 0 when there was no answer.
inline HttpReply httpFrom(const std::string& sourceIp, const std::string& hostPort, const std::string& method,
                          const std::string& target, const std::string& body = {}) {
  HttpReply r;
  const int fd = connectFrom(sourceIp, hostPort);
  if (fd < 0) return r;
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + hostPort + "\r\nConnection: close\r\n";
  if (!body.empty()) req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  std::string in;
  if (sendAll(fd, req)) readAtLeast(fd, in, SIZE_MAX, std::chrono::steady_clock::now() + 10s);
  ::close(fd);
  if (in.size() >= 12 && in.rfind("HTTP/1.1 ", 0) == 0) r.status = std::stoi(in.substr(9, 3));
  if (const auto end = in.find("\r\n\r\n"); end != std::string::npos)
    r.body = nlohmann::json::parse(in.substr(end + 4), nullptr, false);
  return r;
}

class WsClient {
 public:
  WsClient() = default;
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;
  ~WsClient() { close(); }

  bool open(const std::string& sourceIp, const std::string& hostPort, const std::string& path = "/v1/signal",
            int rcvbuf = 0) {
    fd_ = connectFrom(sourceIp, hostPort, rcvbuf);
    if (fd_ < 0) return false;
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + hostPort +
                            "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (!sendAll(fd_, req)) return false;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (buf_.find("\r\n\r\n") == std::string::npos)
      if (!readAtLeast(fd_, buf_, buf_.size() + 1, deadline)) return false;
    const auto end = buf_.find("\r\n\r\n");
    const bool upgraded = buf_.rfind("HTTP/1.1 101", 0) == 0;
    buf_.erase(0, end + 4);
    return upgraded;
  }

  bool sendText(const std::string& text) {
    std::string f;
    f.push_back(static_cast<char>(0x81));
    if (text.size() < 126) {
      f.push_back(static_cast<char>(0x80 | text.size()));
    } else if (text.size() < 65536) {
      f.push_back(static_cast<char>(0x80 | 126));
      f.push_back(static_cast<char>(text.size() >> 8));
      f.push_back(static_cast<char>(text.size() & 0xff));
    } else {
      f.push_back(static_cast<char>(0x80 | 127));
      for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((static_cast<uint64_t>(text.size()) >> (8 * i)) & 0xff));
    }
    f.append(4, '\0');  // masking key 0: the payload goes as is
    f += text;
    return fd_ >= 0 && sendAll(fd_, f);
  }

  // The next text frame, or nullopt at the deadline or when the server closed (closeCode() then says why).
  std::optional<std::string> receive(SteadyTime deadline) {
    while (fd_ >= 0) {
      if (!readAtLeast(fd_, buf_, 2, deadline, &peerClosed_)) return std::nullopt;
      const uint8_t op = static_cast<uint8_t>(buf_[0]) & 0x0f;
      uint64_t len = static_cast<uint8_t>(buf_[1]) & 0x7f;
      size_t header = 2;
      if (len == 126 || len == 127) {
        const size_t extra = len == 126 ? 2 : 8;
        if (!readAtLeast(fd_, buf_, 2 + extra, deadline, &peerClosed_)) return std::nullopt;
        len = 0;
        for (size_t i = 0; i < extra; ++i) len = (len << 8) | static_cast<uint8_t>(buf_[2 + i]);
        header += extra;
      }
      if (!readAtLeast(fd_, buf_, header + len, deadline, &peerClosed_)) return std::nullopt;
      std::string payload = buf_.substr(header, len);
      buf_.erase(0, header + len);
      if (op == 0x8) {
        if (payload.size() >= 2) closeCode_ = (static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]);
        peerClosed_ = true;
        close();
        return std::nullopt;
      }
      if (op == 0x1) return payload;
    }
    return std::nullopt;
  }

  // Challenge -> auth -> welcome with `key`; false when any step fails.
  bool authenticate(const identity::PrivateKey& key, SteadyTime deadline) {
    while (auto text = receive(deadline)) {
      auto frame = signalling::decodeFrame(*text);
      if (!frame) continue;
      if (auto* c = std::get_if<signalling::ChallengeFrame>(&*frame)) {
        auto sig = signalling::signChallenge(key, c->hub, c->nonce);
        if (!sig || !sendText(signalling::encodeFrame(signalling::AuthFrame{key.nodeId(), *sig}))) return false;
      } else if (std::get_if<signalling::WelcomeFrame>(&*frame)) {
        return true;
      } else if (std::get_if<signalling::ErrorFrame>(&*frame)) {
        return false;
      }
    }
    return false;
  }

  bool isOpen() const { return fd_ >= 0; }
  int closeCode() const { return closeCode_; }  // 0 when no close frame came
  bool closedByPeer() const { return peerClosed_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string buf_;
  int closeCode_ = 0;
  bool peerClosed_ = false;
};

// A sealed envelope of `body` from `from` to `to`, as an envelope frame's text.
inline std::string envelopeText(const identity::PrivateKey& from, const identity::PublicKey& to, uint64_t seq,
                                const std::string& body, signalling::Rng& rng) {
  signalling::EnvelopeHeader h{from.nodeId(), to.nodeId(), signalling::EnvelopeType::Message, seq,
                               static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         std::chrono::system_clock::now().time_since_epoch())
                                                         .count())};
  auto e = signalling::seal(from, to, h, asBytes(body), rng);
  return e ? signalling::encodeFrame(signalling::EnvelopeFrame{*e}) : std::string();
}

// The ack status ("delivered"/"stored") or error code of the answer to the envelope with `seq`.
inline std::string outcomeOf(WsClient& ws, uint64_t seq, SteadyTime deadline) {
  while (auto text = ws.receive(deadline)) {
    auto frame = signalling::decodeFrame(*text);
    if (!frame) continue;
    if (auto* a = std::get_if<signalling::AckFrame>(&*frame); a && a->seq == seq)
      return std::string(signalling::ackStatusName(a->status));
    if (auto* e = std::get_if<signalling::ErrorFrame>(&*frame); e && e->seq == seq) return e->code;
  }
  return "no-answer";
}

}  // namespace rdv::test::abuse
