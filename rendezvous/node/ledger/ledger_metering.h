// The relay engine's metering events (MeteringSink, issue 7 part A) turned into usage-ledger events and
// posted to the ledger's queue. Called on the worker threads: it copies a few strings and takes the
// ledger's queue lock for one push_back, nothing more.
#pragma once

#include "rendezvous/node/ledger/ledger.h"
#include "rendezvous/node/io/service.h"

namespace rdv::node {

class LedgerMetering final : public MeteringSink {
 public:
  explicit LedgerMetering(UsageSink& ledger) : ledger_(&ledger) {}
  void started(const relay::AllocationStarted& e) override;
  void usage(const relay::AllocationUsage& e) override;
  void ended(const relay::AllocationEnded& e) override;

 private:
  UsageSink* ledger_;
};

// What the ledger stores about an allocation (exposed for tests).
storage::LedgerAllocationFacts ledgerFacts(const relay::AllocationInfo& a);

}  // namespace rdv::node
