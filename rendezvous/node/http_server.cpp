#include "rendezvous/node/http_server.h"

#include <dlfcn.h>

// <uv.h> first: libwebsockets declares lws_uv_getloop() only when libuv's headers are in.
#include <uv.h>

#include <libwebsockets.h>

#include <atomic>
#include <deque>
#include <unordered_map>
#include <cstring>
#include <mutex>
#include <thread>

#include "rendezvous/node/log.h"

namespace rdv::node {

std::optional<std::string> HttpRequest::queryValue(const std::string& key) const {
  auto it = query.find(key);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

HttpResponse jsonResponse(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

HttpResponse jsonError(int status, const std::string& code, const std::string& message) {
  return jsonResponse(status, {{"error", code}, {"message", message}});
}

namespace {

// One HTTP transaction in flight on a connection (keep-alive connections run several, one after another).
struct Transaction {
  HttpRequest request;
  bool tooLarge = false;
  std::string out;  // LWS_PRE bytes of headroom, then the response body
};

// One WebSocket connection: reassembly of fragmented messages and the outgoing queue.
struct WebSocketConn {
  uint64_t id = 0;
  std::string path;
  std::string partial;
  std::deque<std::string> queue;  // whole text messages, written one per writable callback
  size_t queuedBytes = 0;
  bool closing = false;
  uint16_t closeCode = 1000;
  std::string closeReason;
};

// lws allocates this zeroed per connection; it holds only pointers we own.
struct SessionData {
  Transaction* tx;
  WebSocketConn* ws;
};

constexpr size_t kMaxQueuedBytes = 4 * 1024 * 1024;  // per WebSocket: a client that does not read is cut

std::string headerValue(lws* wsi, lws_token_indexes token) {
  const int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) return {};
  std::string s(static_cast<size_t>(len) + 1, '\0');
  if (lws_hdr_copy(wsi, s.data(), len + 1, token) < 0) return {};
  s.resize(static_cast<size_t>(len));
  return s;
}

std::string methodOf(lws* wsi) {
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI)) return "GET";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) return "POST";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI)) return "PUT";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI)) return "DELETE";
  return "OTHER";
}

}  // namespace

struct HttpServer::Impl {
  HttpServerConfig config;
  std::map<std::string, std::map<std::string, HttpHandler>> routes;  // path -> method -> handler
  struct Timer {
    lws_sorted_usec_list_t sul;  // first member: the callback casts back to Timer
    Impl* owner;
    std::chrono::milliseconds interval;
    std::function<void()> task;
  };
  std::vector<std::unique_ptr<Timer>> timers;
  lws_context* context = nullptr;
  lws_vhost* vhost = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool onLibuv = false;  // lws on its libuv event library (epoll) running `loop`, else its poll() loop
  uv_loop_t loop{};      // ours ("foreign" to lws), run by the API thread
  lws_protocols protocols[2] = {};
  Endpoint bound;
  struct WebSocketEndpoint {
    WebSocketHandlers handlers;
    size_t maxMessageBytes;
  };
  std::map<std::string, WebSocketEndpoint> websockets;  // path -> endpoint
  std::unordered_map<uint64_t, std::pair<lws*, WebSocketConn*>> wsConnections;
  uint64_t nextWsId = 1;
  std::vector<unsigned char> writeScratch;  // LWS_PRE headroom + the message being written (API thread)

  int onWebSocket(lws* wsi, enum lws_callback_reasons reason, SessionData* sd, void* in, size_t len);

  static int callback(lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len);
  int onHttp(lws* wsi, SessionData* sd, const char* uri);
  int respond(lws* wsi, SessionData* sd, const HttpResponse& response);
  HttpResponse dispatch(const HttpRequest& req);
  static void onTimer(lws_sorted_usec_list_t* sul);
};

HttpResponse HttpServer::Impl::dispatch(const HttpRequest& req) {
  auto byPath = routes.find(req.path);
  if (byPath == routes.end()) return jsonError(404, "not_found", "no such endpoint: " + req.path);
  auto handler = byPath->second.find(req.method);
  if (handler == byPath->second.end())
    return jsonError(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
  return handler->second(req);
}

int HttpServer::Impl::respond(lws* wsi, SessionData* sd, const HttpResponse& response) {
  uint8_t headers[LWS_PRE + 1024];
  uint8_t* start = headers + LWS_PRE;
  uint8_t* p = start;
  uint8_t* end = headers + sizeof(headers) - 1;
  if (lws_add_http_common_headers(wsi, static_cast<unsigned>(response.status), response.contentType.c_str(),
                                  response.body.size(), &p, end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("cache-control:"),
                                  reinterpret_cast<const unsigned char*>("no-store"), 8, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  sd->tx->out.assign(LWS_PRE, '\0');
  sd->tx->out += response.body;
  lws_callback_on_writable(wsi);
  return 0;
}

int HttpServer::Impl::onHttp(lws* wsi, SessionData* sd, const char* uri) {
  delete sd->tx;
  sd->tx = new Transaction();
  HttpRequest& r = sd->tx->request;
  r.method = methodOf(wsi);
  r.path = uri ? uri : "/";
  char frag[1024];
  for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) > 0; ++i) {
    std::string kv(frag);
    const auto eq = kv.find('=');
    if (eq == std::string::npos) r.query[kv] = "";
    else r.query[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  r.authorization = headerValue(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  r.contentType = headerValue(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
  char peer[64] = {0};
  lws_get_peer_simple(wsi, peer, sizeof(peer));
  r.remoteIp = peer;

  const std::string contentLength = headerValue(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
  if (!contentLength.empty()) {
    const unsigned long long n = std::strtoull(contentLength.c_str(), nullptr, 10);
    if (n > config.maxBodyBytes) {
      sd->tx->tooLarge = true;
      return respond(wsi, sd, jsonError(413, "too_large",
                                        "request body over " + std::to_string(config.maxBodyBytes) + " bytes"));
    }
    if (n > 0) {
      lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, static_cast<int>(config.requestTimeoutSeconds));
      return 0;  // wait for LWS_CALLBACK_HTTP_BODY_COMPLETION
    }
  }
  return respond(wsi, sd, dispatch(r));
}

int HttpServer::Impl::callback(lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  auto* self = static_cast<Impl*>(lws_context_user(lws_get_context(wsi)));
  auto* sd = static_cast<SessionData*>(user);
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
    case LWS_CALLBACK_ESTABLISHED:
    case LWS_CALLBACK_RECEIVE:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
      return self->onWebSocket(wsi, reason, sd, in, len);
    case LWS_CALLBACK_HTTP:
      return self->onHttp(wsi, sd, static_cast<const char*>(in));
    case LWS_CALLBACK_HTTP_BODY:
      if (!sd || !sd->tx || sd->tx->tooLarge) return 0;
      if (sd->tx->request.body.size() + len > self->config.maxBodyBytes) {
        sd->tx->tooLarge = true;
        return self->respond(wsi, sd, jsonError(413, "too_large", "request body too large"));
      }
      sd->tx->request.body.append(static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (!sd || !sd->tx || sd->tx->tooLarge) return 0;
      lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
      return self->respond(wsi, sd, self->dispatch(sd->tx->request));
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      if (!sd || !sd->tx || sd->tx->out.size() < LWS_PRE) return 0;
      std::string& out = sd->tx->out;
      const size_t n = out.size() - LWS_PRE;
      if (lws_write(wsi, reinterpret_cast<unsigned char*>(out.data()) + LWS_PRE, n, LWS_WRITE_HTTP_FINAL) != static_cast<int>(n))
        return -1;
      const bool close = sd->tx->tooLarge;  // do not read the rest of an oversize body
      delete sd->tx;
      sd->tx = nullptr;
      if (close) return -1;
      return lws_http_transaction_completed(wsi) ? -1 : 0;
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      // stop() woke the service thread: leave the libuv loop (poll() mode returns by itself).
      if (self->stopping.load() && self->onLibuv) uv_stop(&self->loop);
      return 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      if (sd) {
        delete sd->tx;
        sd->tx = nullptr;
      }
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

int HttpServer::Impl::onWebSocket(lws* wsi, enum lws_callback_reasons reason, SessionData* sd, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
      // Upgrade only on a registered path; anything else is refused before the handshake completes.
      const std::string path = headerValue(wsi, WSI_TOKEN_GET_URI);
      return websockets.count(path) ? 0 : 1;
    }
    case LWS_CALLBACK_ESTABLISHED: {
      auto* c = new WebSocketConn();
      c->id = nextWsId++;
      c->path = headerValue(wsi, WSI_TOKEN_GET_URI);
      sd->ws = c;
      wsConnections[c->id] = {wsi, c};
      char peer[64] = {0};
      lws_get_peer_simple(wsi, peer, sizeof(peer));
      auto& ep = websockets.at(c->path);
      if (ep.handlers.onOpen) ep.handlers.onOpen(c->id, peer);
      return 0;
    }
    case LWS_CALLBACK_RECEIVE: {
      WebSocketConn* c = sd ? sd->ws : nullptr;
      if (!c || c->closing) return 0;
      auto& ep = websockets.at(c->path);
      if (c->partial.size() + len > ep.maxMessageBytes) {
        static const char kTooBig[] = "message too large";
        lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         reinterpret_cast<unsigned char*>(const_cast<char*>(kTooBig)), sizeof(kTooBig) - 1);
        return -1;
      }
      const bool complete = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
      if (complete && c->partial.empty()) {
        // The common case, a message in one piece: handed over from lws's buffer, no copy.
        if (ep.handlers.onMessage) ep.handlers.onMessage(c->id, std::string_view(static_cast<const char*>(in), len));
        return 0;
      }
      c->partial.append(static_cast<const char*>(in), len);
      if (complete) {
        std::string message;
        message.swap(c->partial);
        if (ep.handlers.onMessage) ep.handlers.onMessage(c->id, message);
      }
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      WebSocketConn* c = sd ? sd->ws : nullptr;
      if (!c) return 0;
      if (!c->queue.empty()) {
        // lws_write needs LWS_PRE writable bytes before the payload: one scratch buffer for the
        // thread instead of headroom allocated with every queued message.
        const std::string& m = c->queue.front();
        const size_t n = m.size();
        if (writeScratch.size() < LWS_PRE + n) writeScratch.resize(LWS_PRE + n);
        std::memcpy(writeScratch.data() + LWS_PRE, m.data(), n);
        if (lws_write(wsi, writeScratch.data() + LWS_PRE, n, LWS_WRITE_TEXT) < static_cast<int>(n)) return -1;
        c->queuedBytes -= n;
        c->queue.pop_front();
      }
      if (!c->queue.empty()) {
        lws_callback_on_writable(wsi);
      } else if (c->closing) {
        lws_close_reason(wsi, static_cast<enum lws_close_status>(c->closeCode),
                         reinterpret_cast<unsigned char*>(c->closeReason.data()), c->closeReason.size());
        return -1;
      }
      return 0;
    }
    case LWS_CALLBACK_CLOSED: {
      WebSocketConn* c = sd ? sd->ws : nullptr;
      if (!c) return 0;
      sd->ws = nullptr;
      wsConnections.erase(c->id);
      auto it = websockets.find(c->path);
      if (it != websockets.end() && it->second.handlers.onClose) it->second.handlers.onClose(c->id);
      delete c;
      return 0;
    }
    default:
      return 0;
  }
}

void HttpServer::Impl::onTimer(lws_sorted_usec_list_t* sul) {
  auto* t = reinterpret_cast<Timer*>(sul);
  t->task();
  lws_sul_schedule(t->owner->context, 0, &t->sul, &Impl::onTimer,
                   std::chrono::duration_cast<std::chrono::microseconds>(t->interval).count());
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
  if (!d.context) return "cannot listen for HTTP on " + d.config.listen.toString() + " (address in use or not local?)";
  d.vhost = lws_get_vhost_by_name(d.context, "default");
  const int port = d.vhost ? lws_get_vhost_listen_port(d.vhost) : -1;
  if (port <= 0) {
    d.vhost = nullptr;
    destroyContext();
    return "cannot listen for HTTP on " + d.config.listen.toString() + " (address in use or not local?)";
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
  // Sockets lws is closing (a failed vhost's, a connection closed just before stop) have close
  // callbacks queued on our loop that still need the context: run them now, while it lives. Destroying
  // the context first and running the loop afterwards ran them on a freed context: issue 12's SIGSEGV
  // when the HTTP port is taken (gdb: __lws_close_free_wsi_final from uv_run in destroyContext). The
  // service thread has ended, so this thread is the loop's only runner.
  if (d.onLibuv)
    for (int i = 0; i < 10; ++i) uv_run(&d.loop, UV_RUN_NOWAIT);
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
