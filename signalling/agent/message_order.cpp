#include "signalling/agent/message_order.h"

namespace rdv::agent {

std::vector<InboundOrder::Delivery> InboundOrder::accept(uint64_t seq, std::string body, Path path) {
  std::vector<Delivery> out;
  if (seq < next_ || held_.count(seq) != 0 || seq == 0) {
    ++duplicates_;
    return out;
  }
  held_.emplace(seq, std::make_pair(std::move(body), path));
  for (auto it = held_.find(next_); it != held_.end(); it = held_.find(next_)) {
    out.push_back({next_, std::move(it->second.first), it->second.second});
    held_.erase(it);
    ++next_;
  }
  return out;
}

uint64_t OutboundQueue::push(std::string body) {
  const uint64_t seq = next_++;
  pending_.emplace(seq, Pending{std::move(body), Path::None, {}});
  return seq;
}

void OutboundQueue::ackUpTo(uint64_t seq) {
  pending_.erase(pending_.begin(), pending_.upper_bound(seq));
}

void OutboundQueue::ack(uint64_t seq) { pending_.erase(seq); }

void OutboundQueue::markSent(uint64_t seq, Path path, SteadyTime at) {
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;
  it->second.sentVia = path;
  it->second.sentAt = at;
}

std::optional<SteadyTime> OutboundQueue::oldestSentVia(Path path) const {
  for (const auto& [seq, p] : pending_)
    if (p.sentVia == path) return p.sentAt;
  return std::nullopt;
}

}  // namespace rdv::agent
