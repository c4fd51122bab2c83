// A small blocking WebSocket client (RFC 6455) for rdv's one-shot signalling commands, over net.h's
// Stream (TCP, or TLS for wss://). Text and binary messages (/v1/signal speaks JSON text by default,
// CBOR binary with the rdv.cbor.1 subprotocol); answers pings; masks what it sends, as clients must. Chosen over libwebsockets' client API for the same reason as
// http_client.h: rdv runs one conversation with deadlines, not an event loop.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "rendezvous/client/http_client.h"
#include "rendezvous/client/net.h"
#include "rendezvous/base/result.h"

namespace rdv::cli {

class WebSocketClient {
 public:
  // Connects to `url` (http(s):// or ws(s)://) and upgrades on `path`. With a `subprotocol`, it is
  // asked for in Sec-WebSocket-Protocol and the server must answer with it (else an error naming it).
  static Result<std::unique_ptr<WebSocketClient>, std::string> connect(const std::string& url, const std::string& path,
                                                                       std::chrono::milliseconds timeout,
                                                                       const std::string& subprotocol = {});
  bool sendText(const std::string& text);
  bool sendBinary(const std::string& bytes);
  // The next message (text or binary) before `deadline`; nullopt on timeout. Sets closed() when the peer closed
  // (closeCode()/closeReason() say why) or the connection broke.
  std::optional<std::string> receive(std::chrono::steady_clock::time_point deadline);
  bool closed() const { return closed_; }
  uint16_t closeCode() const { return closeCode_; }
  const std::string& closeReason() const { return closeReason_; }
  void close();
  // The socket (for an event loop); after it turns readable, receive(now) returns what is complete.
  int fd() const { return stream_->fd(); }

 private:
  WebSocketClient() = default;
  bool sendFrame(uint8_t opcode, const std::string& payload);
  // Parses one frame from buffered_ if complete.
  std::optional<std::pair<uint8_t, std::string>> takeFrame(bool& fin, bool& bad);

  std::unique_ptr<Stream> stream_;
  std::string buffered_;
  std::string message_;  // fragments of the message being received
  bool closed_ = false;
  uint16_t closeCode_ = 0;
  std::string closeReason_;
};

}  // namespace rdv::cli
