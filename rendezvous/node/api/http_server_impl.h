// The HTTP/WebSocket server's insides (libwebsockets on libuv), shared by its files and included nowhere
// else:
//   http_server.cpp    the public API: routes, timers, start/stop on the API thread
//   http_exchange.cpp  the lws callback, HTTP requests in, responses out
//   websocket.cpp      WebSocket connections: reassembly, the outgoing queue, close
//   http_limits.cpp    connection caps (total, per IP) and the WebSocket idle/ping/close deadlines
#pragma once

// <uv.h> first: libwebsockets declares lws_uv_getloop() only when libuv's headers are in.
#include <uv.h>

#include <libwebsockets.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <unordered_map>
#include <cstring>
#include <mutex>
#include <thread>

#include "rendezvous/node/api/http_server.h"

namespace rdv::node {

// One HTTP transaction in flight on a connection (keep-alive connections run several, one after another).
struct Transaction {
  HttpRequest request;
  bool tooLarge = false;
  // The response is written (headers sent): libwebsockets still reports the end of a body that was
  // answered early (a POST with Content-Length: 0 gets LWS_CALLBACK_HTTP_BODY_COMPLETION after the answer),
  // and a second answer would interleave two header blocks.
  bool answered = false;
  std::string out;  // LWS_PRE bytes of headroom, then the response body
};

// One WebSocket connection: reassembly of fragmented messages and the outgoing queue.
struct WebSocketConn {
  uint64_t id = 0;
  std::string path;
  std::string subprotocol;  // negotiated, "" when none was named
  bool binary = false;      // the subprotocol's messages are binary
  std::string partial;
  std::deque<std::string> queue;  // whole text messages, written one per writable callback
  size_t queuedBytes = 0;
  bool closing = false;
  uint16_t closeCode = 1000;
  std::string closeReason;
  // Deadlines (http_limits.cpp), on the steady clock.
  std::chrono::steady_clock::time_point opened;
  std::chrono::steady_clock::time_point lastHeard;  // the latest message or pong
  std::chrono::steady_clock::time_point closeDeadline;  // while closing
  bool heardMessage = false;
  bool pingDue = false;  // a ping waits for the next writable callback
  bool pingOutstanding = false;
};

// lws allocates this zeroed per connection; it holds only pointers we own.
struct SessionData {
  Transaction* tx;
  WebSocketConn* ws;
};

constexpr size_t kMaxQueuedBytes = 4 * 1024 * 1024;  // per WebSocket: a client that does not read is cut

inline std::string headerValue(lws* wsi, lws_token_indexes token) {
  const int len = lws_hdr_total_length(wsi, token);
  if (len <= 0) return {};
  std::string s(static_cast<size_t>(len) + 1, '\0');
  if (lws_hdr_copy(wsi, s.data(), len + 1, token) < 0) return {};
  s.resize(static_cast<size_t>(len));
  return s;
}

inline std::string methodOf(lws* wsi) {
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI)) return "GET";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI)) return "POST";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI)) return "PUT";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI)) return "DELETE";
  if (lws_hdr_total_length(wsi, WSI_TOKEN_OPTIONS_URI)) return "OPTIONS";
  return "OTHER";
}

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
  void* sslCtx = nullptr;  // the vhost's SSL_CTX (TLS listeners), captured at its creation: reloadTls()
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool onLibuv = false;  // lws on its libuv event library (epoll) running `loop`, else its poll() loop
  uv_loop_t loop{};      // ours ("foreign" to lws), run by the API thread
  std::vector<lws_protocols> protocols;  // "http" (the default), the subprotocols, the terminator
  std::vector<std::pair<std::string, bool>> subprotocols;  // name, binary (registered before start)
  Endpoint bound;
  struct WebSocketEndpoint {
    WebSocketHandlers handlers;
    size_t maxMessageBytes;
  };
  std::map<std::string, WebSocketEndpoint> websockets;  // path -> endpoint
  std::unordered_map<uint64_t, std::pair<lws*, WebSocketConn*>> wsConnections;
  uint64_t nextWsId = 1;
  std::vector<unsigned char> writeScratch;  // LWS_PRE headroom + the message being written (API thread)
  HttpServerStats stats;
  std::mutex postedMutex;
  std::vector<std::function<void()>> posted;  // post(): run by the API thread when woken
  void runPosted();
  // Connection caps: the source IP of every counted connection, and how many each IP holds.
  std::unordered_map<lws*, std::string> connectionIp;
  std::unordered_map<std::string, size_t> perIp;
  Timer sweeper{};  // the WebSocket deadlines, once a second

  // http_limits.cpp
  bool admit(lws* wsi);    // at accept: false when a cap refuses it (then counted)
  void released(lws* wsi);  // when lws destroys a connection
  void beginClose(lws* wsi, WebSocketConn& c, uint16_t code, const std::string& reason);
  void sweepWebSockets();

  int onWebSocket(lws* wsi, enum lws_callback_reasons reason, SessionData* sd, void* in, size_t len);

  static int callback(lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len);
  int onHttp(lws* wsi, SessionData* sd, const char* uri);
  int respond(lws* wsi, SessionData* sd, const HttpResponse& response);
  HttpResponse dispatch(const HttpRequest& req);
  HttpResponse preflight(const HttpRequest& req, const std::map<std::string, HttpHandler>& methods) const;
  static int addHeaders(lws* wsi, const HeaderList& headers, uint8_t** p, uint8_t* end);
  static void onTimer(lws_sorted_usec_list_t* sul);
};

}  // namespace rdv::node
