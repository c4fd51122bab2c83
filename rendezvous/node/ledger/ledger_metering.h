// The relay engine's metering events (MeteringSink, issue 7 part A) turned into usage-ledger events and
// posted to the ledger's queue. Called on the worker threads: it copies a few strings and takes the
// ledger's queue lock for one push_back, nothing more.
#pragma once

#include "rendezvous/node/ledger/ledger.h"
#include "rendezvous/node/io/service.h"

namespace rdv::node {

// ledger-client-address: what the ledger keeps of a client's address (privacy).
enum class ClientAddressMode { Full, Prefix, None };
// Full: "IP:PORT"; Prefix: the IPv4 /24 or IPv6 /48 as "a.b.c.0/24" or "2001:db8:1::/48"; None: "".
std::string ledgerClientAddress(const Endpoint& client, ClientAddressMode mode);

class LedgerMetering final : public MeteringSink {
 public:
  explicit LedgerMetering(UsageSink& ledger, ClientAddressMode mode = ClientAddressMode::Full)
      : ledger_(&ledger), mode_(mode) {}
  void started(const relay::AllocationStarted& e) override;
  void usage(const relay::AllocationUsage& e) override;
  void ended(const relay::AllocationEnded& e) override;

 private:
  UsageSink* ledger_;
  ClientAddressMode mode_;
};

// What the ledger stores about an allocation (exposed for tests).
storage::LedgerAllocationFacts ledgerFacts(const relay::AllocationInfo& a,
                                           ClientAddressMode mode = ClientAddressMode::Full);

}  // namespace rdv::node
