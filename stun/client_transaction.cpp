// Client transactions with RFC 8489 §6.2.1 retransmission.
#include "stun/client_transaction.h"

#include <cstring>

namespace rdv::stun {

ClientTransaction::ClientTransaction(Bytes request, Endpoint to, RetransmitConfig config)
    : request_(std::move(request)), to_(to), config_(config), interval_(config.rto) {
  if (request_.size() >= kHeaderSize) std::memcpy(tid_.bytes.data(), request_.data() + 8, tid_.bytes.size());
  if (config_.maxTransmissions == 0) config_.maxTransmissions = 1;
}

ClientTransaction ClientTransaction::binding(Endpoint to, const TransactionId& tid, RetransmitConfig config,
                                             std::optional<ChangeRequestValue> change,
                                             std::string_view software) {
  MessageBuilder b(Method::Binding, Class::Request, tid);
  if (!software.empty()) b.addString(attr::Software, software);
  if (change) b.addChangeRequest(*change);
  b.addFingerprint();
  return ClientTransaction(std::move(b).finish(), to, config);
}

std::optional<Outgoing> ClientTransaction::poll(TimePoint now) {
  if (done()) return std::nullopt;
  if (deadline_ && now < *deadline_) return std::nullopt;
  const unsigned limit = config_.reliable ? 1 : config_.maxTransmissions;
  if (sent_ >= limit) {
    state_ = State::TimedOut;
    deadline_.reset();
    return std::nullopt;
  }
  ++sent_;
  if (config_.reliable) {
    deadline_ = now + config_.reliableTimeout;
  } else if (sent_ == limit) {
    deadline_ = now + config_.rto * config_.lastWaitFactor;  // Rm x RTO after the last transmission
  } else {
    deadline_ = now + interval_;
    interval_ *= 2;
  }
  return Outgoing{to_, request_};
}

std::optional<TimePoint> ClientTransaction::nextDeadline() const {
  if (done()) return std::nullopt;
  return deadline_;
}

bool ClientTransaction::onDatagram(ByteSpan bytes, const Endpoint& from, TimePoint /*now*/) {
  if (done()) return false;
  auto m = MessageView::parse(bytes);
  if (!m || m->transactionId() != tid_) return false;
  if (m->cls() != Class::Success && m->cls() != Class::Error) return false;
  if (request_.size() >= kHeaderSize && m->method() != methodOf(loadBe16(request_.data()))) return false;
  response_.assign(bytes.begin(), bytes.end());
  responseFrom_ = from;
  state_ = m->cls() == Class::Success ? State::Succeeded : State::Failed;
  deadline_.reset();
  return true;
}

std::optional<BindingResponseInfo> readBindingResponse(const MessageView& response) {
  if (!response.is(Method::Binding, Class::Success)) return std::nullopt;
  BindingResponseInfo info;
  if (auto x = response.xorAddress(attr::XorMappedAddress)) {
    info.mapped = *x;
  } else if (auto a = response.address(attr::MappedAddress)) {
    info.mapped = *a;
  } else {
    return std::nullopt;
  }
  info.otherAddress = response.address(attr::OtherAddress);
  if (!info.otherAddress) info.otherAddress = response.address(attr::ChangedAddress);
  info.responseOrigin = response.address(attr::ResponseOrigin);
  if (!info.responseOrigin) info.responseOrigin = response.address(attr::SourceAddress);
  if (auto s = response.string(attr::Software)) info.software = std::string(*s);
  return info;
}

}  // namespace rdv::stun
