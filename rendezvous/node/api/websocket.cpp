#include "rendezvous/node/api/http_server_impl.h"

#include <cstring>

#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {
// lws's own opcode for a close frame (LWS_WRITE_CLOSE, 4, in its private header; lws_write() frames it
// like a text frame). Checked by tests/abuse (the hub's 4003 must reach the client).
constexpr auto kLwsWriteClose = static_cast<enum lws_write_protocol>(4);
}  // namespace

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
      c->opened = c->lastHeard = std::chrono::steady_clock::now();
      // The subprotocol lws chose from the client's Sec-WebSocket-Protocol ("http", protocols[0]: none
      // named). lws may hold its own copy of the protocols array: matched by name.
      if (const lws_protocols* p = lws_get_protocol(wsi); p && p->name) {
        for (const auto& sub : subprotocols) {
          if (sub.first == p->name) {
            c->subprotocol = sub.first;
            c->binary = sub.second;
          }
        }
      }
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
      c->heardMessage = true;
      c->pingOutstanding = false;
      c->lastHeard = std::chrono::steady_clock::now();
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
    case LWS_CALLBACK_RECEIVE_PONG: {
      if (WebSocketConn* c = sd ? sd->ws : nullptr) {
        c->pingOutstanding = false;
        c->lastHeard = std::chrono::steady_clock::now();
      }
      return 0;
    }
    case LWS_CALLBACK_SERVER_WRITEABLE: {
      WebSocketConn* c = sd ? sd->ws : nullptr;
      if (!c) return 0;
      if (c->pingDue && !c->closing) {
        c->pingDue = false;
        static const char kPing[] = "rdv-ping";
        if (writeScratch.size() < LWS_PRE + sizeof(kPing)) writeScratch.resize(LWS_PRE + sizeof(kPing));
        std::memcpy(writeScratch.data() + LWS_PRE, kPing, sizeof(kPing) - 1);
        if (lws_write(wsi, writeScratch.data() + LWS_PRE, sizeof(kPing) - 1, LWS_WRITE_PING) < 0) return -1;
        if (!c->queue.empty()) lws_callback_on_writable(wsi);
        return 0;
      }
      if (!c->queue.empty()) {
        // lws_write needs LWS_PRE writable bytes before the payload: one scratch buffer for the
        // thread instead of headroom allocated with every queued message.
        const std::string& m = c->queue.front();
        const size_t n = m.size();
        if (writeScratch.size() < LWS_PRE + n) writeScratch.resize(LWS_PRE + n);
        std::memcpy(writeScratch.data() + LWS_PRE, m.data(), n);
        const auto kind = c->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
        if (lws_write(wsi, writeScratch.data() + LWS_PRE, n, kind) < static_cast<int>(n)) return -1;
        c->queuedBytes -= n;
        c->queue.pop_front();
      }
      if (!c->queue.empty()) {
        lws_callback_on_writable(wsi);
      } else if (c->closing) {
        // The close frame is written here: lws_close_reason() followed by -1 from this callback ends
        // the socket without sending it (lws 4.1), and clients would see EOF instead of the code.
        const size_t n = 2 + c->closeReason.size();
        if (writeScratch.size() < LWS_PRE + n) writeScratch.resize(LWS_PRE + n);
        writeScratch[LWS_PRE] = static_cast<unsigned char>(c->closeCode >> 8);
        writeScratch[LWS_PRE + 1] = static_cast<unsigned char>(c->closeCode & 0xff);
        std::memcpy(writeScratch.data() + LWS_PRE + 2, c->closeReason.data(), c->closeReason.size());
        lws_write(wsi, writeScratch.data() + LWS_PRE, n, kLwsWriteClose);
        return -1;
      }
      return 0;
    }
    case LWS_CALLBACK_CLOSED: {
      WebSocketConn* c = sd ? sd->ws : nullptr;
      if (!c) return 0;
      sd->ws = nullptr;
      if (c->closing && std::chrono::steady_clock::now() >= c->closeDeadline)
        stats.closeTimeouts.fetch_add(1, std::memory_order_relaxed);
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

}  // namespace rdv::node
