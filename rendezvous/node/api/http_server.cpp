#include "rendezvous/node/api/http_server.h"

#include <dlfcn.h>
#include <openssl/ssl.h>

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

void HttpServer::websocketSubprotocol(const std::string& name, bool binary) {
  impl_->subprotocols.emplace_back(name, binary);
}

std::string HttpServer::subprotocolOf(uint64_t connection) const {
  auto it = impl_->wsConnections.find(connection);
  return it == impl_->wsConnections.end() ? std::string() : it->second.second->subprotocol;
}

bool HttpServer::sendText(uint64_t connection, std::string text) {
  auto it = impl_->wsConnections.find(connection);
  if (it == impl_->wsConnections.end()) return false;
  auto [wsi, c] = it->second;
  if (c->closing) return false;
  if (c->queuedBytes + text.size() > kMaxQueuedBytes) {
    // A client that does not read: free what it holds and close (the close, too, has a deadline).
    impl_->stats.slowConsumerCloses.fetch_add(1, std::memory_order_relaxed);
    c->queue.clear();
    c->queuedBytes = 0;
    impl_->beginClose(wsi, *c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow consumer");
    return false;
  }
  c->queuedBytes += text.size();
  c->queue.push_back(std::move(text));
  lws_callback_on_writable(wsi);
  return true;
}

void HttpServer::setReading(uint64_t connection, bool reading) {
  auto it = impl_->wsConnections.find(connection);
  if (it != impl_->wsConnections.end()) lws_rx_flow_control(it->second.first, reading ? 1 : 0);
}

void HttpServer::post(std::function<void()> task) {
  std::lock_guard lock(impl_->postedMutex);
  if (impl_->stopping.load() || !impl_->context) return;  // stop() sets stopping under this lock first
  impl_->posted.push_back(std::move(task));
  lws_cancel_service(impl_->context);
}

void HttpServer::reloadTls(std::string certFile, std::string keyFile,
                           std::function<void(std::optional<std::string>)> done) {
  post([impl = impl_.get(), cert = std::move(certFile), key = std::move(keyFile), done = std::move(done)] {
    std::optional<std::string> err;
    auto* ctx = static_cast<SSL_CTX*>(impl->sslCtx);
    if (!ctx) {
      err = "the listener was started without TLS (a restart turns it on)";
    } else if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1 ||
               SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
               SSL_CTX_check_private_key(ctx) != 1) {
      err = "cannot load '" + cert + "' with '" + key + "'";
    } else {
      impl->config.tlsCertFile = cert;
      impl->config.tlsKeyFile = key;
    }
    if (done) done(err);
  });
}

void HttpServer::Impl::runPosted() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(postedMutex);
    tasks.swap(posted);
  }
  for (auto& t : tasks) t();
}

void HttpServer::closeWebSocket(uint64_t connection, const std::string& reason, uint16_t code) {
  auto it = impl_->wsConnections.find(connection);
  if (it == impl_->wsConnections.end()) return;
  auto [wsi, c] = it->second;
  impl_->beginClose(wsi, *c, code, reason);
}

namespace {

// libwebsockets loads its libuv event library as a plugin (dlopen) and unloads it (dlclose) inside
// lws_context_destroy(), while close callbacks of its uv handles may still be queued on our loop: the
// uv_run() that must follow then jumps into unmapped code (seen in gdb on the taken-HTTP-port path of
// issue 12: the pc in no mapped library). Holding our own RTLD_NODELETE reference keeps the plugin
// mapped for the life of the process, whatever lws does.
void pinLibuvEventLibrary() {
  static const bool pinned = [] {
    for (const char* name : {"libwebsockets-evlib_uv.so", "libwebsockets-evlib_uv.so.17"}) {
      if (dlopen(name, RTLD_NOW | RTLD_NODELETE | RTLD_GLOBAL) != nullptr) return true;
    }
    return false;  // not installed: lws falls back to poll() and never loads it either
  }();
  (void)pinned;
}

}  // namespace

std::optional<std::string> HttpServer::start() {
  lws_set_log_level(LLL_ERR, [](int, const char* line) {
    std::string s(line);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    logEvent(Level::Warn, "http-library", {{"message", s}});
  });
  Impl& d = *impl_;
  // One protocol serves HTTP and WebSocket upgrades (clients that name no subprotocol get protocols[0]);
  // each WebSocket subprotocol is one more entry with the same callback.
  d.protocols.clear();
  d.protocols.push_back({"http", &Impl::callback, sizeof(SessionData), 64 * 1024, 0, nullptr, 0});
  for (const auto& sub : d.subprotocols)
    d.protocols.push_back({sub.first.c_str(), &Impl::callback, sizeof(SessionData), 64 * 1024, 0, nullptr, 0});
  d.protocols.push_back({nullptr, nullptr, 0, 0, 0, nullptr, 0});
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof(info));
  const std::string iface = d.config.listen.ip().toString();
  info.port = d.config.listen.port();
  info.iface = iface.c_str();
  info.protocols = d.protocols.data();
  info.user = impl_.get();
  info.keepalive_timeout = static_cast<int>(d.config.keepAliveSeconds);
  info.timeout_secs = d.config.requestTimeoutSeconds;
  info.timeout_secs_ah_idle = d.config.requestTimeoutSeconds;  // a connection that sends no request
  info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
  if (d.config.listen.ip().isV4()) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.max_http_header_data = 8192;
  if (auto err = applyTls(d.config, info)) return *err;
  const char* scheme = d.config.tlsCertFile.empty() ? "HTTP" : "HTTPS (check http-cert and http-key)";
  // libwebsockets' own loop is poll(): every wake-up scans every descriptor, which with thousands of
  // mostly idle signalling connections costs more than the messages. Its libuv event library (Debian:
  // libwebsockets-evlib-uv, loaded at run time) uses epoll; without it, poll() still works.
  void* foreignLoops[1] = {nullptr};
  pinLibuvEventLibrary();
  if (uv_loop_init(&d.loop) == 0) {
    foreignLoops[0] = &d.loop;
    info.foreign_loops = foreignLoops;
    info.options |= LWS_SERVER_OPTION_LIBUV;
    d.context = lws_create_context(&info);
    d.onLibuv = d.context != nullptr;
    if (!d.onLibuv) {
      // A failed creation may have left closing handles on the loop: let them finish before closing it.
      for (int i = 0; i < 100 && uv_run(&d.loop, UV_RUN_NOWAIT) != 0; ++i) {
      }
      uv_loop_close(&d.loop);
    }
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
    d.vhost = nullptr;
    destroyContext();
    return std::string("cannot listen for ") + scheme + " on " + d.config.listen.toString() +
           " (address in use, or see the http-library warnings above)";
  }
  d.bound = Endpoint(d.config.listen.ip(), static_cast<uint16_t>(port));
  d.sweeper.owner = impl_.get();
  d.sweeper.interval = std::chrono::seconds(1);
  d.sweeper.task = [&d] { d.sweepWebSockets(); };
  lws_sul_schedule(d.context, 0, &d.sweeper.sul, &Impl::onTimer, 1'000'000);
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

const HttpServerStats& HttpServer::stats() const { return impl_->stats; }

void HttpServer::stop() {
  Impl& d = *impl_;
  if (!d.context) return;
  {
    std::lock_guard lock(d.postedMutex);
    d.stopping = true;
    d.posted.clear();
  }
  lws_cancel_service(d.context);
  if (d.thread.joinable()) d.thread.join();
  destroyContext();
}

void HttpServer::destroyContext() {
  Impl& d = *impl_;
  // Sockets lws is closing (a failed vhost's, a connection closed just before stop) have close
  // callbacks queued on our loop that still need the context: run them now, while it lives. Destroying
  // the context first and running the loop afterwards ran them on a freed context: issue 12's SIGSEGV
  // when the HTTP port is taken (gdb: __lws_close_free_wsi_final from uv_run in destroyContext). The
  // service thread has ended, so this thread is the loop's only runner.
  if (d.onLibuv)
    for (int i = 0; i < 10; ++i) uv_run(&d.loop, UV_RUN_NOWAIT);
  lws_context_destroy(d.context);
  if (d.onLibuv) {
    // lws closes its handles on our loop: run it until they are gone, then close it.
    for (int i = 0; i < 100 && uv_run(&d.loop, UV_RUN_NOWAIT) != 0; ++i) {
    }
    // On a foreign loop, libwebsockets 4.1's first lws_context_destroy() only closes its handles; the
    // context (and its per-thread tables, ~660 KB for the two servers) is freed by a second call once
    // their close callbacks have run. Without it LeakSanitizer reported the whole context at every exit
    // (scripts/sanitize-cycles.sh asan).
    lws_context_destroy(d.context);
    for (int i = 0; i < 100 && uv_run(&d.loop, UV_RUN_NOWAIT) != 0; ++i) {
    }
    uv_loop_close(&d.loop);
    d.onLibuv = false;
  }
  d.context = nullptr;
}

}  // namespace rdv::node
