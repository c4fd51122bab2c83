#include "rendezvous/node/api/http_server.h"

#include <fstream>

#include "rendezvous/node/api/http_server_impl.h"
#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {

// TLS on the listener (http-cert, http-key): libwebsockets' vhost SSL on OpenSSL, so the API is
// https:// and the signalling hub wss://. The files are checked first for a clear start-up error.
std::optional<std::string> applyTls(const HttpServerConfig& config, lws_context_creation_info& info) {
  if (config.tlsCertFile.empty()) return std::nullopt;
  for (const auto& [key, path] : {std::pair{"http-cert", &config.tlsCertFile}, std::pair{"http-key", &config.tlsKeyFile}})
    if (!std::ifstream(*path).good()) return std::string(key) + ": cannot read '" + *path + "'";
  info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.ssl_cert_filepath = config.tlsCertFile.c_str();
  info.ssl_private_key_filepath = config.tlsKeyFile.c_str();
  return std::nullopt;
}

}  // namespace

std::optional<std::string> HttpRequest::queryValue(const std::string& key) const {
  auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

void addQueryArgument(std::map<std::string, std::string>& query, std::string_view argument) {
  const auto eq = argument.find('=');
  if (eq == std::string_view::npos) query[std::string(argument)] = "";
  else query[std::string(argument.substr(0, eq))] = std::string(argument.substr(eq + 1));
}

HttpResponse jsonResponse(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

HttpResponse jsonError(int status, const std::string& code, const std::string& message) {
  return jsonResponse(status, {{"error", code}, {"message", message}});
}

HttpServer::HttpServer(HttpServerConfig config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& method, const std::string& path, HttpHandler handler) {
  impl_->routes[path][method] = std::move(handler);
}

void HttpServer::every(std::chrono::milliseconds interval, std::function<void()> task) {
  auto t = std::make_unique<Impl::Timer>();
  t->owner = impl_.get();
  t->interval = interval;
  t->task = std::move(task);
  impl_->timers.push_back(std::move(t));
}

void HttpServer::websocket(const std::string& path, WebSocketHandlers handlers, size_t maxMessageBytes) {
  impl_->websockets[path] = {std::move(handlers), maxMessageBytes};
}

bool HttpServer::sendText(uint64_t connection, std::string text) {
  auto it = impl_->wsConnections.find(connection);
  if (it == impl_->wsConnections.end()) return false;
  auto [wsi, c] = it->second;
  if (c->closing || c->queuedBytes + text.size() > kMaxQueuedBytes) return false;
  c->queuedBytes += text.size();
  c->queue.push_back(std::move(text));
  lws_callback_on_writable(wsi);
  return true;
}

void HttpServer::closeWebSocket(uint64_t connection, const std::string& reason, uint16_t code) {
  auto it = impl_->wsConnections.find(connection);
  if (it == impl_->wsConnections.end()) return;
  auto [wsi, c] = it->second;
  c->closing = true;
  c->closeCode = code;
  c->closeReason = reason.substr(0, 120);  // a close frame's reason is at most 123 bytes
  lws_callback_on_writable(wsi);
}

std::optional<std::string> HttpServer::start() {
  lws_set_log_level(LLL_ERR, [](int, const char* line) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    logEvent(Level::Warn, "http-library", {{"message", s}});
  });
  Impl& d = *impl_;
  // One protocol serves HTTP and WebSocket upgrades (clients that name no subprotocol get protocols[0]).
  d.protocols[0] = {"http", &Impl::callback, sizeof(SessionData), 64 * 1024, 0, nullptr, 0};
  d.protocols[1] = {nullptr, nullptr, 0, 0, 0, nullptr, 0};
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof(info));
  const std::string iface = d.config.listen.ip().toString();
  info.port = d.config.listen.port();
  info.iface = iface.c_str();
  info.protocols = d.protocols;
  info.user = impl_.get();
  info.keepalive_timeout = static_cast<int>(d.config.keepAliveSeconds);
  info.timeout_secs = d.config.requestTimeoutSeconds;
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (d.config.listen.ip().isV4()) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.max_http_header_data = 8192;
  if (auto err = applyTls(d.config, info)) return *err;
  const char* scheme = d.config.tlsCertFile.empty() ? "HTTP" : "HTTPS (check http-cert and http-key)";
  // libwebsockets' own loop is poll(): every wake-up scans every descriptor, which with thousands of
  // mostly idle signalling connections costs more than the messages. Its libuv event library (Debian:
  // libwebsockets-evlib-uv, loaded at run time) uses epoll; without it, poll() still works.
  void* foreignLoops[1] = {nullptr};
  if (uv_loop_init(&d.loop) == 0) {
    foreignLoops[0] = &d.loop;
    info.foreign_loops = foreignLoops;
    info.options |= LWS_SERVER_OPTION_LIBUV;
    d.context = lws_create_context(&info);
    d.onLibuv = d.context != nullptr;
    if (!d.onLibuv) uv_loop_close(&d.loop);
  }
  if (!d.context) {
    info.foreign_loops = nullptr;
    info.options &= ~static_cast<uint64_t>(LWS_SERVER_OPTION_LIBUV);
    d.context = lws_create_context(&info);
    if (d.context)
      logEvent(Level::Warn, "http-poll-loop", {{"reason", "libwebsockets' libuv event library is missing; using poll()"}});
  }
  if (!d.context)
    return std::string("cannot listen for ") + scheme + " on " + d.config.listen.toString() + " (address in use or not local?)";
  d.vhost = lws_get_vhost_by_name(d.context, "default");
  const int port = d.vhost ? lws_get_vhost_listen_port(d.vhost) : -1;
  if (port <= 0) {
    // The listener could not be made (port in use, unusable certificate): lws logged why. Its handles
    // on our loop never ran, and running the loop after lws_context_destroy() calls their close
    // callbacks in lws' libuv plugin, already unloaded (a crash). The node exits with this error, so
    // the loop is left as it is.
    lws_context_destroy(d.context);
    d.context = nullptr;
    d.onLibuv = false;
    return std::string("cannot listen for ") + scheme + " on " + d.config.listen.toString() +
           " (address in use, or see the http-library warnings above)";
  }
  d.bound = Endpoint(d.config.listen.ip(), static_cast<uint16_t>(port));
  for (auto& t : d.timers)
    lws_sul_schedule(d.context, 0, &t->sul, &Impl::onTimer,
                     std::chrono::duration_cast<std::chrono::microseconds>(t->interval).count());
  d.thread = std::thread([&d] {
    if (d.onLibuv) {
      uv_run(&d.loop, UV_RUN_DEFAULT);  // until stop(): uv_stop() from the cancel callback
      return;
    }
    while (!d.stopping.load()) {
      if (lws_service(d.context, 0) < 0) break;
    }
  });
  return std::nullopt;
}

Endpoint HttpServer::boundEndpoint() const { return impl_->bound; }

void HttpServer::stop() {
  Impl& d = *impl_;
  if (!d.context) return;
  d.stopping = true;
  lws_cancel_service(d.context);
  if (d.thread.joinable()) d.thread.join();
  destroyContext();
}

void HttpServer::destroyContext() {
  Impl& d = *impl_;
  lws_context_destroy(d.context);
  d.context = nullptr;
  if (d.onLibuv) {
    // lws closes its handles on our loop: run it until they are gone, then close it.
    for (int i = 0; i < 100 && uv_run(&d.loop, UV_RUN_NOWAIT) != 0; ++i) {
    }
    uv_loop_close(&d.loop);
    d.onLibuv = false;
  }
}

}  // namespace rdv::node
