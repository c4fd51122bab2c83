// RFC 5780 §4.3/§4.4 NAT behaviour discovery as a state machine over ClientTransaction.
#include "stun/nat_behaviour.h"

namespace rdv::stun {

std::string_view toString(NatBehaviour b) {
  switch (b) {
    case NatBehaviour::Unknown: return "unknown";
    case NatBehaviour::EndpointIndependent: return "endpoint-independent";
    case NatBehaviour::AddressDependent: return "address-dependent";
    case NatBehaviour::AddressAndPortDependent: return "address-and-port-dependent";
  }
  return "unknown";
}

RetransmitConfig quickNatRetransmit() {
  RetransmitConfig rc;
  rc.rto = std::chrono::milliseconds(100);
  rc.maxTransmissions = 4;
  rc.lastWaitFactor = 3;
  return rc;
}

namespace {

std::string_view testName(int step) {
  static constexpr std::string_view names[] = {"test I (binding to the primary address)",
                                               "filtering test II (change IP and port)",
                                               "filtering test III (change port)",
                                               "mapping test II (binding to the alternate IP)",
                                               "mapping test III (binding to the alternate IP and port)", "done"};
  return names[step];
}

}  // namespace

void NatBehaviourDiscovery::progress(const std::string& line) const {
  if (config_.onProgress) config_.onProgress(line);
}

NatBehaviourDiscovery::NatBehaviourDiscovery(Endpoint server, NatBehaviourConfig config)
    : server_(server), config_(std::move(config)) {
  if (!config_.newTransactionId) config_.newTransactionId = randomTransactionId;
}

std::optional<Outgoing> NatBehaviourDiscovery::poll(TimePoint now) {
  lastNow_ = now;
  while (!done()) {
    if (!txn_) start(step_);
    if (auto out = txn_->poll(now)) return out;
    if (!txn_->done()) return std::nullopt;
    onFinished(now);
  }
  return std::nullopt;
}

std::optional<TimePoint> NatBehaviourDiscovery::nextDeadline() const {
  if (done()) return std::nullopt;
  if (!txn_) return lastNow_;  // the next test is ready to start: poll() at once
  return txn_->nextDeadline();
}

void NatBehaviourDiscovery::onDatagram(ByteSpan bytes, const Endpoint& from, TimePoint now) {
  lastNow_ = now;
  if (txn_ && txn_->onDatagram(bytes, from, now)) onFinished(now);
}

void NatBehaviourDiscovery::start(Step step) {
  std::optional<ChangeRequestValue> change;
  if (step == Step::FilteringII) change = ChangeRequestValue{true, true};
  if (step == Step::FilteringIII) change = ChangeRequestValue{false, true};
  progress(std::string(testName(static_cast<int>(step))) + ": to " + destinationFor(step).toString());
  txn_ = ClientTransaction::binding(destinationFor(step), config_.newTransactionId(), config_.retransmit, change,
                                    config_.software);
}

Endpoint NatBehaviourDiscovery::destinationFor(Step step) const {
  if (!result_.otherAddress) return server_;
  const Endpoint& other = *result_.otherAddress;
  if (step == Step::MappingII) return Endpoint(other.ip(), server_.port());  // A2:P1
  if (step == Step::MappingIII) return other;                              // A2:P2
  return server_;                                                          // A1:P1
}

std::optional<Endpoint> NatBehaviourDiscovery::expectedSourceFor(Step step) const {
  if (!result_.otherAddress) return std::nullopt;
  if (step == Step::FilteringII) return *result_.otherAddress;                                   // A2:P2
  if (step == Step::FilteringIII) return Endpoint(server_.ip(), result_.otherAddress->port());  // A1:P2
  return std::nullopt;
}

NatBehaviourDiscovery::Step NatBehaviourDiscovery::afterFiltering() const {
  return config_.testMapping && result_.behindNat ? Step::MappingII : Step::Done;
}

void NatBehaviourDiscovery::fail(std::string message) {
  if (result_.error.empty()) result_.error = std::move(message);
  step_ = Step::Done;
}

void NatBehaviourDiscovery::onTestI(const BindingResponseInfo& info) {
  result_.mappedAddresses.push_back(info.mapped);
  const std::optional<Endpoint>& other = info.otherAddress;
  if (!other) return fail("server does not support RFC 5780 (no OTHER-ADDRESS in its Binding response)");
  if (other->ip() == server_.ip() || other->port() == server_.port() || other->family() != server_.family()) {
    return fail("server's OTHER-ADDRESS " + other->toString() + " does not differ in both IP and port");
  }
  result_.otherAddress = other;
  if (config_.localAddress && *config_.localAddress == info.mapped) {
    result_.behindNat = false;  // RFC 5780 §4.3: no NAT, so no mapping to classify
    result_.mapping = NatBehaviour::EndpointIndependent;
  }
  step_ = config_.testFiltering ? Step::FilteringII : afterFiltering();
}

void NatBehaviourDiscovery::onFinished(TimePoint /*now*/) {
  const ClientTransaction t = std::move(*txn_);
  txn_.reset();
  const Step step = step_;
  const bool filtering = step == Step::FilteringII || step == Step::FilteringIII;

  const std::string name(testName(static_cast<int>(step)));
  if (t.state() == ClientTransaction::State::TimedOut) {
    progress(name + ": no answer after " + std::to_string(t.transmissions()) + " transmission(s)");
    if (step == Step::TestI) return fail("no response from " + server_.toString());
    if (step == Step::FilteringII) {
      step_ = Step::FilteringIII;
    } else if (step == Step::FilteringIII) {
      result_.filtering = NatBehaviour::AddressAndPortDependent;
      step_ = afterFiltering();
    } else {
      fail("no response from the server's alternate address " + t.destination().toString());
    }
    return;
  }

  auto m = MessageView::parse(t.response());
  if (t.state() == ClientTransaction::State::Failed) {
    uint16_t code = 0;
    if (m) {
      if (auto e = m->errorCode()) code = e->code;
    }
    std::string text = "server answered error " + std::to_string(code);
    if (filtering && code == error::UnknownAttribute) text += " to CHANGE-REQUEST (no RFC 5780)";
    return fail(text);
  }
  const auto info = m ? readBindingResponse(*m) : std::nullopt;
  if (!info) return fail("malformed Binding response from " + t.responseFrom().toString());
  progress(name + ": answered from " + t.responseFrom().toString() + ", mapped " + info->mapped.toString() +
           (info->otherAddress ? ", other-address " + info->otherAddress->toString() : std::string()));

  switch (step) {
    case Step::TestI:
      return onTestI(*info);
    case Step::FilteringII:
    case Step::FilteringIII:
      if (t.responseFrom() != expectedSourceFor(step)) {
        return fail("server did not honour CHANGE-REQUEST (answered from " + t.responseFrom().toString() + ")");
      }
      result_.filtering =
          step == Step::FilteringII ? NatBehaviour::EndpointIndependent : NatBehaviour::AddressDependent;
      step_ = afterFiltering();
      return;
    case Step::MappingII:
      result_.mappedAddresses.push_back(info->mapped);
      if (info->mapped == result_.mappedAddresses.front()) {
        result_.mapping = NatBehaviour::EndpointIndependent;
        step_ = Step::Done;
      } else {
        step_ = Step::MappingIII;
      }
      return;
    case Step::MappingIII:
      result_.mappedAddresses.push_back(info->mapped);
      result_.mapping = info->mapped == result_.mappedAddresses[1] ? NatBehaviour::AddressDependent
                                                                   : NatBehaviour::AddressAndPortDependent;
      step_ = Step::Done;
      return;
    case Step::Done:
      return;
  }
}

}  // namespace rdv::stun
