#include "rendezvous/node/api/http_server_impl.h"

#include <cstring>

#include "rendezvous/node/log.h"

namespace rdv::node {

HttpResponse HttpServer::Impl::dispatch(const HttpRequest& req) {
  auto byPath = routes.find(req.path);
  // "/v1/x/*" routes take one more path segment (an id), the longest such prefix first.
  if (byPath == routes.end()) {
    for (auto it = routes.rbegin(); it != routes.rend(); ++it) {
      const std::string& key = it->first;
      if (key.size() < 2 || key.compare(key.size() - 2, 2, "/*") != 0) continue;
      const std::string_view prefix(key.data(), key.size() - 1);
      if (req.path.size() > prefix.size() && req.path.compare(0, prefix.size(), prefix) == 0 &&
          req.path.find('/', prefix.size()) == std::string::npos) {
        byPath = routes.find(key);
        break;
      }
    }
  }
  if (byPath == routes.end()) return jsonError(404, "not_found", "no such endpoint: " + req.path);
  if (req.method == "OPTIONS") return preflight(req, byPath->second);
  auto handler = byPath->second.find(req.method);
  if (handler == byPath->second.end())
    return jsonError(405, "method_not_allowed", req.method + " is not allowed on " + req.path);
  return handler->second(req);
}

// A CORS preflight (OPTIONS with Origin; cors.h): 204 with the allowed methods for an allowed origin,
// 403 for any other (the browser then refuses the request it was asking about).
HttpResponse HttpServer::Impl::preflight(const HttpRequest& req, const std::map<std::string, HttpHandler>& methods) const {
  if (!config.cors.allows(req.origin)) {
    HttpResponse refused = jsonError(403, "origin_not_allowed",
                                     req.origin.empty() ? "OPTIONS is a CORS preflight and needs an Origin header"
                                                        : "origin '" + req.origin.substr(0, 200) +
                                                              "' is not in this node's http-cors-origins");
    refused.headers = corsHeaders(config.cors, req.origin, false);
    return refused;
  }
  std::string allowed;
  for (const auto& [method, handler] : methods) allowed += method + ", ";
  allowed += "OPTIONS";
  HttpResponse ok{204, "", "", corsHeaders(config.cors, req.origin, true, allowed)};
  return ok;
}

int HttpServer::Impl::addHeaders(lws* wsi, const HeaderList& headers, uint8_t** p, uint8_t* end) {
  for (const auto& [name, value] : headers) {
    const std::string n = name + ":";
    if (lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>(n.c_str()),
                                    reinterpret_cast<const unsigned char*>(value.data()), static_cast<int>(value.size()), p, end))
      return -1;
  }
  return 0;
}

int HttpServer::Impl::respond(lws* wsi, SessionData* sd, const HttpResponse& response) {
  uint8_t headers[LWS_PRE + 1024];
  uint8_t* start = headers + LWS_PRE;
  uint8_t* p = start;
  uint8_t* end = headers + sizeof(headers) - 1;
  if (sd->tx->answered) return 0;  // one answer per request (see Transaction::answered)
  sd->tx->answered = true;
  const HttpRequest& req = sd->tx->request;
  // CORS on every answer to an allowed origin (a preflight's answer carries its own).
  const HeaderList cors = req.method == "OPTIONS" ? HeaderList{} : corsHeaders(config.cors, req.origin, false);
  if (lws_add_http_common_headers(wsi, static_cast<unsigned>(response.status),
                                  response.contentType.empty() ? nullptr : response.contentType.c_str(),
                                  response.body.size(), &p, end) ||
      lws_add_http_header_by_name(wsi, reinterpret_cast<const unsigned char*>("cache-control:"),
                                  reinterpret_cast<const unsigned char*>("no-store"), 8, &p, end) ||
      addHeaders(wsi, response.headers, &p, end) || addHeaders(wsi, cors, &p, end) ||
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
  for (int i = 0; lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i) > 0; ++i)
    addQueryArgument(r.query, frag);
  r.authorization = headerValue(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
  r.contentType = headerValue(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE);
  r.origin = headerValue(wsi, WSI_TOKEN_ORIGIN);
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
    case LWS_CALLBACK_RECEIVE_PONG:
    case LWS_CALLBACK_SERVER_WRITEABLE:
    case LWS_CALLBACK_CLOSED:
      return self->onWebSocket(wsi, reason, sd, in, len);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:  // an accepted socket: the caps (http_limits.cpp)
      return self->admit(wsi) ? 0 : -1;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:  // the vhost's SSL_CTX: kept for reloadTls()
      if (self) self->sslCtx = user;
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      self->released(wsi);
      return 0;
    case LWS_CALLBACK_HTTP:
      return self->onHttp(wsi, sd, static_cast<const char*>(in));
    case LWS_CALLBACK_HTTP_BODY:
      if (!sd || !sd->tx || sd->tx->answered) return 0;
      if (sd->tx->request.body.size() + len > self->config.maxBodyBytes) {
        sd->tx->tooLarge = true;
        return self->respond(wsi, sd, jsonError(413, "too_large", "request body too large"));
      }
      sd->tx->request.body.append(static_cast<const char*>(in), len);
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (!sd || !sd->tx || sd->tx->answered) return 0;
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
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      if (!self->stopping.load()) self->runPosted();  // post() woke the service thread
      [[fallthrough]];
    case LWS_CALLBACK_CLOSED_HTTP:
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

void HttpServer::Impl::onTimer(lws_sorted_usec_list_t* sul) {
  auto* t = reinterpret_cast<Timer*>(sul);
  t->task();
  lws_sul_schedule(t->owner->context, 0, &t->sul, &Impl::onTimer,
                   std::chrono::duration_cast<std::chrono::microseconds>(t->interval).count());
}

}  // namespace rdv::node
