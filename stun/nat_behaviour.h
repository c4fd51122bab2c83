// NAT behaviour discovery (RFC 5780 §4.3 mapping, §4.4 filtering), sans-I/O. One local socket talks to an
// RFC 5780 server (primary A1:P1, OTHER-ADDRESS A2:P2). Tests run one after another, in this order:
//   Test I      Binding to A1:P1                          -> M1, OTHER-ADDRESS (required)
//   Filtering   CHANGE-REQUEST ip+port to A1:P1           answered (from A2:P2) -> endpoint-independent
//               CHANGE-REQUEST port to A1:P1              answered (from A1:P2) -> address-dependent,
//                                                         else address-and-port-dependent
//   Mapping     Binding to A2:P1 -> M2;  M2 == M1 -> endpoint-independent
//               Binding to A2:P2 -> M3;  M3 == M2 -> address-dependent, else address-and-port-dependent
// The filtering tests come first on purpose: the mapping tests send to A2, which would open an
// address-dependent filter for A2 and make filtering look more permissive than it is.
//
// Drive it like ClientTransaction: after every input, call poll(now) until it returns nullopt, send what
// it returns, then arm a timer for nextDeadline(); stop when done().
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "stun/client_transaction.h"

namespace rdv::stun {

enum class NatBehaviour { Unknown, EndpointIndependent, AddressDependent, AddressAndPortDependent };
std::string_view toString(NatBehaviour b);

// The CLI's default schedule: RTO 100 ms, Rc 4, Rm 3, so one transaction gives up after
// (1+2+4+3) x 100 ms = 1 s and the whole discovery (at most 5 transactions) ends within 5 s.
// RFC 8489's own defaults (RetransmitConfig{}) take 39.5 s per unanswered test.
RetransmitConfig quickNatRetransmit();

struct NatBehaviourConfig {
  RetransmitConfig retransmit;            // shorten for tests and for an impatient CLI (quickNatRetransmit)
  std::optional<Endpoint> localAddress;   // the socket's own address, when known: M1 == local means no NAT
  std::string software;                   // SOFTWARE in requests; empty: none
  bool testMapping = true;
  bool testFiltering = true;
  // Transaction ids; default randomTransactionId(). Tests inject a deterministic source.
  std::function<TransactionId()> newTransactionId;
  // Called with one human-readable line when a test starts and when it ends (what it found); may be empty.
  std::function<void(std::string_view)> onProgress;
};

struct NatBehaviourResult {
  NatBehaviour mapping = NatBehaviour::Unknown;
  NatBehaviour filtering = NatBehaviour::Unknown;
  bool behindNat = true;                  // false when M1 equals config.localAddress
  std::optional<Endpoint> otherAddress;   // the server's OTHER-ADDRESS
  std::vector<Endpoint> mappedAddresses;  // M1, M2, M3 as seen, in order
  std::string error;                      // non-empty when discovery could not finish
};

class NatBehaviourDiscovery {
 public:
  explicit NatBehaviourDiscovery(Endpoint server, NatBehaviourConfig config = {});

  std::optional<Outgoing> poll(TimePoint now);
  std::optional<TimePoint> nextDeadline() const;
  void onDatagram(ByteSpan bytes, const Endpoint& from, TimePoint now);

  bool done() const { return step_ == Step::Done; }
  const NatBehaviourResult& result() const { return result_; }

 private:
  enum class Step { TestI, FilteringII, FilteringIII, MappingII, MappingIII, Done };

  void start(Step step);
  void onFinished(TimePoint now);
  void onTestI(const BindingResponseInfo& info);
  void fail(std::string message);
  void progress(const std::string& line) const;
  Step afterFiltering() const;
  Endpoint destinationFor(Step step) const;
  std::optional<Endpoint> expectedSourceFor(Step step) const;

  Endpoint server_;
  NatBehaviourConfig config_;
  Step step_ = Step::TestI;
  std::optional<ClientTransaction> txn_;
  std::optional<TimePoint> lastNow_;
  NatBehaviourResult result_;
};

}  // namespace rdv::stun
