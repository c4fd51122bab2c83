#include "rendezvous/node/api/metrics.h"

#include "rendezvous/node/api/http_server.h"

#include <cctype>
#include <cstdio>
#include <map>

namespace rdv::node {

std::string snakeCase(std::string_view camel) {
  std::string out;
  for (char c : camel) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (!out.empty()) out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

void emit(std::string& out, const std::string& name, bool counter, std::string_view help, uint64_t value) {
  const std::string full = "rendezvous_" + name + (counter ? "_total" : "");
  out += "# HELP " + full + " " + std::string(help) + "\n";
  out += "# TYPE " + full + (counter ? " counter\n" : " gauge\n");
  out += full + " " + std::to_string(value) + "\n";
}

// A label value in the exposition format: backslash, quote and newline escaped.
std::string labelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// One family with a label: samples (label value, value) in the given order.
void emitLabelled(std::string& out, const std::string& full, bool counter, std::string_view help,
                  std::string_view label, const std::vector<std::pair<std::string, uint64_t>>& samples) {
  out += "# HELP " + full + " " + std::string(help) + "\n";
  out += "# TYPE " + full + (counter ? " counter\n" : " gauge\n");
  for (const auto& [value, n] : samples)
    out += full + "{" + std::string(label) + "=\"" + labelValue(value) + "\"} " + std::to_string(n) + "\n";
}

// Topics and presence on the signalling hub (docs/signalling.md, "Topics", "Presence").
void emitTopicMetrics(std::string& out, const ApiGauges& a) {
  auto load = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  emit(out, "signalling_topics", false, "topics alive on the hub (subscribed, retaining or restricted)", load(a.topics));
  emit(out, "signalling_topic_history_bytes", false, "bytes of retained topic messages", load(a.topicHistoryBytes));
  emit(out, "signalling_topic_published", true, "topic publications accepted", load(a.topicPublished));
  emit(out, "signalling_topic_deliveries", true, "topic messages queued to subscribers (history replays included)",
       load(a.topicDelivered));
  emit(out, "signalling_topic_dropped", true, "topic messages a subscriber's full output queue refused",
       load(a.topicDropped));
  emit(out, "signalling_topic_history_evicted", true, "retained topic messages dropped for signal-topic-history-bytes",
       load(a.topicHistoryEvicted));
  emitLabelled(out, "rendezvous_signalling_topic_refused_total", true, "topic frames refused, by reason", "reason",
               {{"publisher_rate", load(a.topicRefusedPublisherRate)},
                {"topic_rate", load(a.topicRefusedTopicRate)},
                {"not_member", load(a.topicRefusedNotMember)},
                {"limit", load(a.topicRefusedLimit)}});
  emit(out, "signalling_presence_watches", false, "identities watched, all connections", load(a.presenceWatches));
  emit(out, "signalling_presence_events", true, "presence events sent to watchers", load(a.presenceEvents));
  emit(out, "signalling_presence_watches_refused", true, "watches refused at signal-presence-watches",
       load(a.presenceWatchRefused));
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::string renderMetrics(const MetricsSnapshot& s) {
  std::string out;
#define RDV_EMIT_NODE(name, help)                                  \
  {                                                                \
    uint64_t sum = 0;                                              \
    for (const NodeStats* n : s.node) sum += n->name.get();        \
    emit(out, snakeCase(#name), true, help, sum);                  \
  }
  RDV_NODE_STATS(RDV_EMIT_NODE)
#undef RDV_EMIT_NODE
  if (!s.relay.empty()) {
    // Sum each stat over the workers, in declaration order.
    std::vector<uint64_t> sums;
    std::vector<std::pair<std::string, std::pair<bool, std::string>>> names;
    for (size_t w = 0; w < s.relay.size(); ++w) {
      size_t i = 0;
      s.relay[w]->forEach([&](std::string_view name, relay::StatKind kind, std::string_view help, uint64_t v) {
        if (w == 0) {
          sums.push_back(0);
          names.push_back({"relay_" + snakeCase(name), {kind == relay::StatKind::Counter, std::string(help)}});
        }
        sums[i++] += v;
      });
    }
    // Labelled views of the same counters (issue 7): bytes and packets by direction, drops by reason,
    // quota rejections by STUN error code. The unlabelled names above stay for existing dashboards.
    std::vector<std::pair<std::string, uint64_t>> drops;
    std::map<std::string, uint64_t> byName;
    for (size_t i = 0; i < sums.size(); ++i) {
      const std::string& name = names[i].first;  // "relay_..."
      byName[name] = sums[i];
      if (name.starts_with("relay_drop_")) drops.push_back({name.substr(std::string("relay_drop_").size()), sums[i]});
      if (name == "relay_allocations_active") continue;  // by class below, when the ledger runs
      emit(out, name, names[i].second.first, names[i].second.second, sums[i]);
    }
    emitLabelled(out, "rendezvous_relay_bytes_total", true, "payload bytes relayed, by direction", "direction",
                 {{"to_peer", byName["relay_bytes_client_to_peer"]}, {"to_client", byName["relay_bytes_peer_to_client"]}});
    emitLabelled(out, "rendezvous_relay_packets_total", true, "packets relayed, by direction", "direction",
                 {{"to_peer", byName["relay_packets_client_to_peer"]},
                  {"to_client", byName["relay_packets_peer_to_client"]}});
    emitLabelled(out, "rendezvous_relay_drops_total", true, "relayed packets dropped, by reason", "reason", drops);
    emitLabelled(out, "rendezvous_relay_quota_rejections_total", true,
                 "Allocate requests refused by quota: 486 per identity, 508 node capacity", "code",
                 {{"486", byName["relay_quota_rejected"]}, {"508", byName["relay_capacity_rejected"]}});
    if (!s.ledger) emit(out, "relay_allocations_active", false, "allocations currently active", byName["relay_allocations_active"]);
  }
  if (s.api != nullptr) {
    const ApiGauges& a = *s.api;
    emit(out, "signalling_connections", false, "signalling WebSocket connections open",
         a.signallingConnections.load(std::memory_order_relaxed));
    emit(out, "signalling_mailbox_envelopes", false, "envelopes waiting in signalling mailboxes",
         a.mailboxEnvelopes.load(std::memory_order_relaxed));
    emit(out, "signalling_mailbox_bytes", false, "encoded size of the envelopes waiting in mailboxes",
         a.mailboxBytes.load(std::memory_order_relaxed));
    emit(out, "signalling_envelopes_delivered", true, "envelopes forwarded to a live connection",
         a.envelopesDelivered.load(std::memory_order_relaxed));
    emit(out, "signalling_envelopes_stored", true, "envelopes acknowledged as stored in a mailbox",
         a.envelopesStored.load(std::memory_order_relaxed));
    emit(out, "signalling_path_reports", true, "path-report frames accepted from peers",
         a.pathReports.load(std::memory_order_relaxed));
    emit(out, "signalling_envelopes_refused", true, "envelopes answered with an error frame (limits, signatures, caps)",
         a.envelopesRefused.load(std::memory_order_relaxed));
    emit(out, "signalling_envelopes_evicted", true, "stored envelopes evicted for a lighter sender's",
         a.envelopesEvicted.load(std::memory_order_relaxed));
    emit(out, "signalling_envelopes_congested", true, "forwards refused by a recipient's full output queue (stored or refused instead)",
         a.envelopesCongested.load(std::memory_order_relaxed));
    emit(out, "signalling_protocol_closes", true, "connections closed for repeated errors before authenticating",
         a.signallingProtocolCloses.load(std::memory_order_relaxed));
    emit(out, "ice_servers_rate_limited", true, "GET /v1/ice-servers refused by the per-IP rate (429)",
         a.iceServersRateLimited.load(std::memory_order_relaxed));
    emit(out, "ice_servers_replays_refused", true, "RDV-Sig headers refused as replays",
         a.iceServersReplays.load(std::memory_order_relaxed));
    emit(out, "registry_writes_rate_limited", true, "registry POST/DELETE refused by the per-IP rate (429)",
         a.registryRateLimited.load(std::memory_order_relaxed));
    emit(out, "registry_replays_refused", true, "registry proofs refused as replays",
         a.registryReplays.load(std::memory_order_relaxed));
    emit(out, "registry_records", false, "ENR registrations held by the registry",
         a.registryRecords.load(std::memory_order_relaxed));
    emitTopicMetrics(out, a);
  }
  if (s.http != nullptr) {
    const HttpServerStats& h = *s.http;
    auto load = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    emit(out, "http_connections", false, "TCP connections open on the HTTP API (HTTP and WebSocket)",
         load(h.connections));
    emitLabelled(out, "rendezvous_http_connections_refused_total", true,
                 "HTTP API connections closed at accept by a cap, by cap", "cap",
                 {{"total", load(h.refusedTotalCap)}, {"per_ip", load(h.refusedPerIpCap)}});
    emitLabelled(out, "rendezvous_websocket_cut_total", true,
                 "WebSockets closed by a deadline or limit of the HTTP layer, by reason", "reason",
                 {{"idle", load(h.idleCloses)}, {"ping_timeout", load(h.pingTimeouts)},
                  {"slow_consumer", load(h.slowConsumerCloses)}, {"close_timeout", load(h.closeTimeouts)}});
  }
  if (s.ledger) {
    const LedgerMetrics& l = *s.ledger;
    std::vector<std::pair<std::string, uint64_t>> active(l.activeByClass.begin(), l.activeByClass.end());
    if (!l.activeByClass.contains("limited")) active.insert(active.begin(), {"limited", 0});
    emitLabelled(out, "rendezvous_relay_allocations_active", false,
                 "allocations currently active, by quota class (as booked by the ledger)", "class", active);
    std::vector<std::pair<std::string, uint64_t>> ended(l.endedByReason.begin(), l.endedByReason.end());
    for (const char* reason : {"expired", "deleted", "connection-closed"})
      if (!l.endedByReason.contains(reason)) ended.push_back({reason, 0});
    emitLabelled(out, "rendezvous_relay_allocations_ended_total", true, "allocations ended, by reason", "reason", ended);
    emit(out, "ledger_flushes", true, "usage ledger flushes committed to SQLite since start", l.flushes);
    emit(out, "ledger_flush_errors", true, "usage ledger flushes that failed (retried with the next flush)",
         l.flushErrors);
    emitLabelled(out, "rendezvous_ledger_bytes_total", true,
                 "payload bytes durably booked in the usage ledger (all time), by direction", "direction",
                 {{"to_peer", l.booked.bytesToPeer}, {"to_client", l.booked.bytesToClient}});
    emitLabelled(out, "rendezvous_ledger_packets_total", true,
                 "packets durably booked in the usage ledger (all time), by direction", "direction",
                 {{"to_peer", l.booked.packetsToPeer}, {"to_client", l.booked.packetsToClient}});
    out += "# HELP rendezvous_ledger_flush_lag_seconds seconds since the ledger last had every event written\n"
           "# TYPE rendezvous_ledger_flush_lag_seconds gauge\n"
           "rendezvous_ledger_flush_lag_seconds " + number(l.flushLagSeconds) + "\n";
  }
  if (s.prices) {
    const std::string currency = labelValue(s.prices->currency);
    out += "# HELP rendezvous_cost_price_per_gigabyte cost model: price per 10^9 relayed payload bytes, by direction\n"
           "# TYPE rendezvous_cost_price_per_gigabyte gauge\n";
    out += "rendezvous_cost_price_per_gigabyte{currency=\"" + currency + "\",direction=\"to_peer\"} " +
           number(s.prices->perGbToPeer) + "\n";
    out += "rendezvous_cost_price_per_gigabyte{currency=\"" + currency + "\",direction=\"to_client\"} " +
           number(s.prices->perGbToClient) + "\n";
    out += "# HELP rendezvous_cost_price_per_allocation_hour cost model: price per allocation-hour\n"
           "# TYPE rendezvous_cost_price_per_allocation_hour gauge\n"
           "rendezvous_cost_price_per_allocation_hour{currency=\"" + currency + "\"} " +
           number(s.prices->perAllocationHour) + "\n";
  }
  if (s.draining) emit(out, "draining", false, "1 while the node drains (new allocations refused, admin API)", *s.draining);
  return out;
}

}  // namespace rdv::node
