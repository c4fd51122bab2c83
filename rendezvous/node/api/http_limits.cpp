// The HTTP server's limits (issue 12, item 3; DESIGN principle 8): connection caps in total and per
// source IP, checked when lws adopts an accepted socket, and the WebSocket deadlines: a first message
// soon after the upgrade, a ping when silent, a close that completes even when the peer never reads.
#include "rendezvous/node/api/http_server_impl.h"

#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {
using Clock = std::chrono::steady_clock;

void bump(std::atomic<uint64_t>& counter) { counter.fetch_add(1, std::memory_order_relaxed); }
}  // namespace

bool HttpServer::Impl::admit(lws* wsi) {
  char peer[64] = {0};
  lws_get_peer_simple(wsi, peer, sizeof(peer));
  std::string ip = peer;
  if (config.maxConnections != 0 && connectionIp.size() >= config.maxConnections) {
    bump(stats.refusedTotalCap);
    logEvent(Level::Debug, "http-connection-refused", {{"ip", ip}, {"cap", "http-max-connections"}});
    return false;
  }
  auto& held = perIp[ip];
  if (config.maxConnectionsPerIp != 0 && held >= config.maxConnectionsPerIp) {
    if (held == 0) perIp.erase(ip);
    bump(stats.refusedPerIpCap);
    logEvent(Level::Debug, "http-connection-refused", {{"ip", ip}, {"cap", "http-max-connections-per-ip"}});
    return false;
  }
  ++held;
  connectionIp[wsi] = std::move(ip);
  stats.connections.store(connectionIp.size(), std::memory_order_relaxed);
  return true;
}

void HttpServer::Impl::released(lws* wsi) {
  auto it = connectionIp.find(wsi);
  if (it == connectionIp.end()) return;  // the listener, or a connection refused at accept
  auto held = perIp.find(it->second);
  if (held != perIp.end() && --held->second == 0) perIp.erase(held);
  connectionIp.erase(it);
  stats.connections.store(connectionIp.size(), std::memory_order_relaxed);
}

// Starts closing: the queued messages go first, then the close frame with `code`. A peer that reads
// nothing would hold the connection (and its queue) forever, so lws drops it after closeGraceSeconds.
void HttpServer::Impl::beginClose(lws* wsi, WebSocketConn& c, uint16_t code, const std::string& reason) {
  if (c.closing) return;
  c.closing = true;
  c.closeCode = code;
  c.closeReason = reason.substr(0, 120);  // a close frame's reason is at most 123 bytes
  c.closeDeadline = Clock::now() + std::chrono::seconds(config.closeGraceSeconds);
  lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, static_cast<int>(config.closeGraceSeconds));
  lws_callback_on_writable(wsi);
}

void HttpServer::Impl::sweepWebSockets() {
  const auto now = Clock::now();
  const auto firstMessage = std::chrono::seconds(config.wsFirstMessageSeconds);
  const auto ping = std::chrono::seconds(config.wsPingIntervalSeconds);
  std::vector<std::pair<lws*, WebSocketConn*>> idle, dead;
  for (auto& [id, entry] : wsConnections) {
    auto [wsi, c] = entry;
    if (c->closing) continue;
    if (!c->heardMessage && config.wsFirstMessageSeconds != 0 && now - c->opened >= firstMessage) {
      idle.push_back(entry);
    } else if (config.wsPingIntervalSeconds != 0 && now - c->lastHeard >= ping) {
      if (!c->pingOutstanding) {
        c->pingOutstanding = true;
        c->pingDue = true;
        lws_callback_on_writable(wsi);
      } else if (now - c->lastHeard >= 2 * ping) {
        dead.push_back(entry);
      }
    }
  }
  for (auto [wsi, c] : idle) {
    bump(stats.idleCloses);
    c->queue.clear();
    c->queuedBytes = 0;
    beginClose(wsi, *c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "idle");
  }
  for (auto [wsi, c] : dead) {
    // No answer to the ping: the peer is gone or does not read. No handshake to wait for.
    bump(stats.pingTimeouts);
    c->closing = true;
    c->closeDeadline = Clock::time_point::max();  // counted here, not as a close timeout
    c->queue.clear();
    c->queuedBytes = 0;
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
  }
}

}  // namespace rdv::node
