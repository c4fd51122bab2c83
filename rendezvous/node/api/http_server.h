// The node's HTTP API listener: libwebsockets on its own thread (the "API thread"), which also owns the
// state the API serves (registry, later the signalling hub). Handlers run on that thread, one at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/base/address.h"
#include "rendezvous/node/api/cors.h"

namespace rdv::node {

struct HttpRequest {
  std::string method;  // GET, POST, PUT, DELETE, OPTIONS
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string authorization;  // the Authorization header, if any
  std::string contentType;
  std::string body;
  std::string remoteIp;
  std::string origin;  // the Origin header (browsers), if any

  std::optional<std::string> queryValue(const std::string& key) const;
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  HeaderList headers;  // more headers (lower-case names), e.g. a preflight's CORS answer
};

// One query argument as libwebsockets hands it over (URL-decoded "key=value", or "key" alone): added to
// `query`, a later value of a key replacing an earlier one. Pure, so it is fuzzed (tests/fuzz/http_api.cpp).
void addQueryArgument(std::map<std::string, std::string>& query, std::string_view argument);

// {"error": code, "message": message} with `status` (DESIGN principle 7).
HttpResponse jsonError(int status, const std::string& code, const std::string& message);
HttpResponse jsonResponse(int status, const nlohmann::json& body);

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// A WebSocket endpoint (e.g. /v1/signal). Connection ids are unique for the server's life. Callbacks run
// on the API thread; sendText/closeWebSocket may only be called from the API thread too.
struct WebSocketHandlers {
  std::function<void(uint64_t connection, const std::string& remoteIp)> onOpen;
  std::function<void(uint64_t connection, std::string_view message)> onMessage;
  std::function<void(uint64_t connection)> onClose;
};

struct HttpServerConfig {
  Endpoint listen;
  size_t maxBodyBytes = 64 * 1024;  // larger bodies get 413
  unsigned requestTimeoutSeconds = 10;  // slow or half-open requests are cut after this
  unsigned keepAliveSeconds = 30;
  std::string name = "api";  // for logs
  // Connection caps (0: none). A connection over a cap is closed as soon as it is accepted, and counted.
  size_t maxConnections = 0;
  size_t maxConnectionsPerIp = 0;
  // A WebSocket that has sent no message this long after its upgrade is closed (1008 "idle"); 0: never.
  unsigned wsFirstMessageSeconds = 10;
  // A WebSocket silent this long is pinged; silent as long again (no pong, no message), it is dropped
  // without a close handshake (the peer is gone). 0: no pings.
  unsigned wsPingIntervalSeconds = 30;
  // A close (ours, or after an overflowing output queue) that has not completed after this is dropped.
  unsigned closeGraceSeconds = 5;
  CorsPolicy cors;           // cross-origin pages allowed to call the API (http-cors-origins); none by default
  std::string tlsCertFile;   // PEM chain and key (http-cert, http-key): HTTPS and wss on the listener; empty: plain
  std::string tlsKeyFile;
};

// What the server refused or cut, for /metrics. Written on the API thread, read from any thread.
struct HttpServerStats {
  std::atomic<uint64_t> connections{0};       // open TCP connections (HTTP and WebSocket)
  std::atomic<uint64_t> refusedTotalCap{0};   // closed at accept: maxConnections reached
  std::atomic<uint64_t> refusedPerIpCap{0};   // closed at accept: maxConnectionsPerIp reached for its IP
  std::atomic<uint64_t> idleCloses{0};        // WebSockets closed for sending nothing after the upgrade
  std::atomic<uint64_t> pingTimeouts{0};      // WebSockets dropped for not answering a ping
  std::atomic<uint64_t> slowConsumerCloses{0};  // WebSockets closed because their output queue overflowed
  std::atomic<uint64_t> closeTimeouts{0};     // closes that did not complete within closeGraceSeconds
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerConfig config);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register before start(). Unknown paths get 404, known paths with another method 405.
  void route(const std::string& method, const std::string& path, HttpHandler handler);
  // Register before start(). Text messages larger than `maxMessageBytes` close the connection (1009).
  void websocket(const std::string& path, WebSocketHandlers handlers, size_t maxMessageBytes = 64 * 1024);
  // Register before start(): a WebSocket subprotocol clients may name in Sec-WebSocket-Protocol (lws
  // answers with the first of theirs it knows and refuses the upgrade when it knows none; a client that
  // names none gets plain text messages). `binary`: every message sendText() queues on a connection of
  // this subprotocol is written as a binary WebSocket message.
  void websocketSubprotocol(const std::string& name, bool binary);
  // API thread only: the subprotocol `connection` negotiated, "" when its client named none.
  std::string subprotocolOf(uint64_t connection) const;
  // API thread only. Queues a text message; false when the connection is gone or closing. A message
  // that would take the queue over its limit (4 MiB) is refused, and the connection is closed (1008,
  // "slow consumer"): its queue is freed at once and the close completes within closeGraceSeconds.
  bool sendText(uint64_t connection, std::string text);
  // Sends what is queued, then a close frame with `code` (1000 normal; 4000-4999 application) and `reason`.
  void closeWebSocket(uint64_t connection, const std::string& reason, uint16_t code = 1000);
  // API thread only. Stops (false) or resumes (true) reading `connection`: TCP back-pressure while its
  // frames wait for work elsewhere (the signalling verifier pool).
  void setReading(uint64_t connection, bool reading);
  // Any thread: runs `task` on the API thread soon (after start(); dropped after stop()).
  void post(std::function<void()> task);
  // Runs `task` on the API thread every `interval` (e.g. registry expiry).
  void every(std::chrono::milliseconds interval, std::function<void()> task);

  // Binds and starts the API thread; an error message for the operator on failure.
  std::optional<std::string> start();
  Endpoint boundEndpoint() const;
  const HttpServerStats& stats() const;
  void stop();

  struct Impl;

 private:
  void destroyContext();
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdv::node
