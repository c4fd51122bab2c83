#include "rendezvous/node/ledger/ledger_metering.h"

#include <algorithm>
#include <chrono>

namespace rdv::node {

namespace {

const char* transportName(relay::Transport t) {
  switch (t) {
    case relay::Transport::Udp: return "udp";
    case relay::Transport::Tcp: return "tcp";
    case relay::Transport::Tls: return "tls";
  }
  return "udp";
}

storage::LedgerCounters countersOf(const relay::TrafficCounters& toPeer, const relay::TrafficCounters& toClient) {
  return {.bytesToPeer = toPeer.bytes, .bytesToClient = toClient.bytes, .packetsToPeer = toPeer.packets,
          .packetsToClient = toClient.packets};
}

}  // namespace

storage::LedgerAllocationFacts ledgerFacts(const relay::AllocationInfo& a) {
  std::string relays;
  for (uint8_t i = 0; i < a.relayCount; ++i) {
    if (!relays.empty()) relays += ",";
    relays += (a.relays[i].family == Family::V4 ? "v4:" : "v6:") + std::to_string(a.relays[i].port);
  }
  return {a.id,
          a.identity,
          a.username,
          a.quotaClass.empty() ? std::string("limited") : a.quotaClass,
          transportName(a.tuple.transport),
          a.tuple.client.toString(),
          relays,
          a.startedUnix};
}

void LedgerMetering::started(const relay::AllocationStarted& e) {
  ledger_->post(storage::LedgerAllocationStarted{ledgerFacts(e.info)});
}

void LedgerMetering::usage(const relay::AllocationUsage& e) {
  ledger_->post(storage::LedgerAllocationUsage{e.id, e.identity, e.quotaClass, countersOf(e.toPeer, e.toClient),
                                               e.unixSeconds});
}

void LedgerMetering::ended(const relay::AllocationEnded& e) {
  // The engine's clock is monotonic; the end in unix seconds is the start plus how long it lived.
  const auto lived = std::chrono::duration_cast<std::chrono::seconds>(e.ended - e.info.started).count();
  ledger_->post(storage::LedgerAllocationEnded{ledgerFacts(e.info), countersOf(e.info.toPeer, e.info.toClient),
                                               e.info.peers, std::string(relay::toString(e.reason)),
                                               e.info.startedUnix + std::max<int64_t>(0, lived)});
}

}  // namespace rdv::node
