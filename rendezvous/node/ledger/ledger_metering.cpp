#include "rendezvous/node/ledger/ledger_metering.h"

#include <algorithm>
#include <array>
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

std::string ledgerClientAddress(const Endpoint& client, ClientAddressMode mode) {
  switch (mode) {
    case ClientAddressMode::Full: return client.toString();
    case ClientAddressMode::None: return "";
    case ClientAddressMode::Prefix: break;
  }
  const IpAddress& ip = client.ip();
  if (ip.isV4()) return IpAddress::v4(ip.v4HostOrder() & 0xFFFFFF00u).toString() + "/24";
  std::array<uint8_t, 16> b{};
  std::copy(ip.data(), ip.data() + 6, b.begin());  // the first 48 bits
  return IpAddress::v6(b).toString() + "/48";
}

storage::LedgerAllocationFacts ledgerFacts(const relay::AllocationInfo& a, ClientAddressMode mode) {
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
          ledgerClientAddress(a.tuple.client, mode),
          relays,
          a.startedUnix};
}

void LedgerMetering::started(const relay::AllocationStarted& e) {
  ledger_->post(storage::LedgerAllocationStarted{ledgerFacts(e.info, mode_)});
}

void LedgerMetering::usage(const relay::AllocationUsage& e) {
  ledger_->post(storage::LedgerAllocationUsage{e.id, e.identity, e.quotaClass, countersOf(e.toPeer, e.toClient),
                                               e.unixSeconds});
}

void LedgerMetering::ended(const relay::AllocationEnded& e) {
  // The engine's clock is monotonic; the end in unix seconds is the start plus how long it lived.
  const auto lived = std::chrono::duration_cast<std::chrono::seconds>(e.ended - e.info.started).count();
  ledger_->post(storage::LedgerAllocationEnded{ledgerFacts(e.info, mode_), countersOf(e.info.toPeer, e.info.toClient),
                                               e.info.peers, std::string(relay::toString(e.reason)),
                                               e.info.startedUnix + std::max<int64_t>(0, lived)});
}

}  // namespace rdv::node
