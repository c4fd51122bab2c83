// The node's HTTP API listener: libwebsockets on its own thread (the "API thread"), which also owns the
// state the API serves (registry, later the signalling hub). Handlers run on that thread, one at a time.
#pragma once

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
  CorsPolicy cors;           // cross-origin pages allowed to call the API (http-cors-origins); none by default
  std::string tlsCertFile;   // PEM chain and key (http-cert, http-key): HTTPS and wss on the listener; empty: plain
  std::string tlsKeyFile;
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
  // API thread only. Queues a text message; false when the connection is gone or its queue is full.
  bool sendText(uint64_t connection, std::string text);
  // Sends what is queued, then a close frame with `code` (1000 normal; 4000-4999 application) and `reason`.
  void closeWebSocket(uint64_t connection, const std::string& reason, uint16_t code = 1000);
  // Runs `task` on the API thread every `interval` (e.g. registry expiry).
  void every(std::chrono::milliseconds interval, std::function<void()> task);

  // Binds and starts the API thread; an error message for the operator on failure.
  std::optional<std::string> start();
  Endpoint boundEndpoint() const;
  void stop();

  struct Impl;

 private:
  void destroyContext();
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdv::node
