#include "rendezvous/client/ws_client.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace rdv::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::string base64(const uint8_t* data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
  out.resize(len > 0 ? static_cast<size_t>(len) : 0);
  return out;
}

// Sec-WebSocket-Accept for a key (RFC 6455 §4.2.2).
std::string acceptFor(const std::string& key) {
  const std::string s = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  return base64(digest, sizeof(digest));
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Result<std::unique_ptr<WebSocketClient>, std::string> WebSocketClient::connect(const std::string& urlText,
                                                                               const std::string& path,
                                                                               std::chrono::milliseconds timeout,
                                                                               const std::string& subprotocol) {
  std::string httpUrl = urlText;
  if (httpUrl.rfind("ws://", 0) == 0) httpUrl = "http://" + httpUrl.substr(5);
  if (httpUrl.rfind("wss://", 0) == 0) httpUrl = "https://" + httpUrl.substr(6);
  auto url = parseHttpUrl(httpUrl);
  if (!url) return unexpected(url.error());
  // An IPv6 literal keeps its brackets in host:port (as httpRequest does), else its colons are misread.
  const bool v6 = url->host.find(':') != std::string::npos;
  const std::string hostPort = (v6 ? "[" + url->host + "]" : url->host) + ":" + std::to_string(url->port);
  auto ep = resolveEndpoint(hostPort);
  if (!ep) return unexpected(ep.error());
  Stream::TlsOptions tls{"", url->host, false};
  auto stream = Stream::connect(*ep, timeout, url->tls ? &tls : nullptr);
  if (!stream) return unexpected(stream.error());
  std::unique_ptr<WebSocketClient> ws(new WebSocketClient());
  ws->stream_ = std::move(*stream);

  uint8_t nonce[16];
  RAND_bytes(nonce, sizeof(nonce));
  const std::string key = base64(nonce, sizeof(nonce));
  const std::string request = "GET " + url->basePath + path + " HTTP/1.1\r\nHost: " + hostPort +
                              "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
                              "\r\nSec-WebSocket-Version: 13\r\nUser-Agent: rdv/0.1.0\r\n" +
                              (subprotocol.empty() ? std::string() : "Sec-WebSocket-Protocol: " + subprotocol + "\r\n") +
                              "\r\n";
  if (!ws->stream_->write(asBytes(request))) return unexpected(std::string("cannot send the upgrade request"));
  const auto deadline = Clock::now() + timeout;
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    Bytes chunk = ws->stream_->read(deadline);
    if (chunk.empty()) return unexpected(std::string("no WebSocket upgrade answer from ") + urlText + path);
    head.append(chunk.begin(), chunk.end());
    if (head.size() > 16384) return unexpected(std::string("upgrade answer too large"));
  }
  const size_t end = head.find("\r\n\r\n") + 4;
  ws->buffered_ = head.substr(end);
  head.resize(end);
  if (head.rfind("HTTP/1.1 101", 0) != 0)
    return unexpected("the node refused the WebSocket upgrade: " + head.substr(0, head.find("\r\n")));
  const std::string expected = "sec-websocket-accept: " + lower(acceptFor(key));
  if (lower(head).find(expected) == std::string::npos)
    return unexpected(std::string("the node's Sec-WebSocket-Accept does not match"));
  if (!subprotocol.empty() && lower(head).find("\r\nsec-websocket-protocol: " + lower(subprotocol) + "\r\n") == std::string::npos)
    return unexpected("the node did not accept the WebSocket subprotocol " + subprotocol);
  return ws;
}

bool WebSocketClient::sendFrame(uint8_t opcode, const std::string& payload) {
  if (closed_) return false;
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  const size_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>(static_cast<uint64_t>(n) >> (8 * i)));
  }
  uint8_t mask[4];
  RAND_bytes(mask, sizeof(mask));
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return stream_->write(asBytes(f));
}

bool WebSocketClient::sendText(const std::string& text) { return sendFrame(0x1, text); }

bool WebSocketClient::sendBinary(const std::string& bytes) { return sendFrame(0x2, bytes); }

std::optional<std::pair<uint8_t, std::string>> WebSocketClient::takeFrame(bool& fin, bool& bad) {
  const auto* p = reinterpret_cast<const uint8_t*>(buffered_.data());
  const size_t have = buffered_.size();
  if (have < 2) return std::nullopt;
  fin = (p[0] & 0x80) != 0;
  const uint8_t opcode = p[0] & 0x0F;
  if (p[1] & 0x80) {  // a server must not mask (RFC 6455 §5.1)
    bad = true;
    return std::nullopt;
  }
  uint64_t len = p[1] & 0x7F;
  size_t off = 2;
  if (len == 126) {
    if (have < 4) return std::nullopt;
    len = (uint64_t{p[2]} << 8) | p[3];
    off = 4;
  } else if (len == 127) {
    if (have < 10) return std::nullopt;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
    off = 10;
  }
  if (len > (16u << 20)) {
    bad = true;
    return std::nullopt;
  }
  if (have < off + len) return std::nullopt;
  std::string payload = buffered_.substr(off, static_cast<size_t>(len));
  buffered_.erase(0, off + static_cast<size_t>(len));
  return std::make_pair(opcode, std::move(payload));
}

std::optional<std::string> WebSocketClient::receive(Clock::time_point deadline) {
  while (!closed_) {
    bool fin = false, bad = false;
    while (auto frame = takeFrame(fin, bad)) {
      auto& [opcode, payload] = *frame;
      if (opcode == 0x8) {  // close
        closed_ = true;
        if (payload.size() >= 2) {
          closeCode_ = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]));
          closeReason_ = payload.substr(2);
        }
        return std::nullopt;
      }
      if (opcode == 0x9) {  // ping
        sendFrame(0xA, payload);
        continue;
      }
      if (opcode == 0xA) continue;  // pong
      message_ += payload;          // text (0x1), binary (0x2) or continuation (0x0)
      if (fin) {
        std::string out;
        out.swap(message_);
        return out;
      }
    }
    if (bad) {
      closed_ = true;
      closeReason_ = "protocol error from the node";
      return std::nullopt;
    }
    Bytes chunk = stream_->read(deadline);
    if (chunk.empty()) {
      if (!stream_->ended() && Clock::now() >= deadline) return std::nullopt;
      closed_ = true;  // the connection broke or closed without a close frame
      return std::nullopt;
    }
    buffered_.append(chunk.begin(), chunk.end());
  }
  return std::nullopt;
}

void WebSocketClient::close() {
  if (closed_) return;
  std::string payload = {static_cast<char>(0x03), static_cast<char>(0xE8)};  // 1000
  sendFrame(0x8, payload);
  closed_ = true;
}

}  // namespace rdv::cli
