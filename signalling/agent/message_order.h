// Per-sender ordering of application messages that may arrive over two paths (the ICE/DTLS fast
// path and the signalling hub): the sender numbers its messages 1, 2, 3...; the receiver delivers
// them in that order exactly once, holding early ones until the gap is filled and dropping repeats
// (a message resent via the hub after its fast-path copy did arrive after all).
//
// OutboundQueue is the sender's half: every message stays until it is acknowledged (by the peer
// over the fast path, or by the hub's ack), so a path that dies loses nothing: what it did not
// confirm is sent again over the other one.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rdv::agent {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class Path { None, Fast, Hub };

class InboundOrder {
 public:
  struct Delivery {
    uint64_t seq;
    std::string body;
    Path path;  // the path that brought it first
  };
  // Returns what became deliverable in order (possibly nothing). Repeats are counted and dropped.
  std::vector<Delivery> accept(uint64_t seq, std::string body, Path path);
  // Highest seq delivered in order (the cumulative ack value).
  uint64_t delivered() const { return next_ - 1; }
  size_t held() const { return held_.size(); }
  uint64_t duplicates() const { return duplicates_; }

 private:
  uint64_t next_ = 1;
  std::map<uint64_t, std::pair<std::string, Path>> held_;
  uint64_t duplicates_ = 0;
};

class OutboundQueue {
 public:
  struct Pending {
    std::string body;
    Path sentVia = Path::None;
    SteadyTime sentAt{};
  };
  // Numbers a new message (not yet sent anywhere).
  uint64_t push(std::string body);
  // Cumulative acknowledgement (the peer delivered everything up to seq).
  void ackUpTo(uint64_t seq);
  // One message confirmed (the hub acknowledged its envelope).
  void ack(uint64_t seq);
  void markSent(uint64_t seq, Path path, SteadyTime at);
  std::map<uint64_t, Pending>& pending() { return pending_; }
  // The oldest message sent over `path` and unacknowledged, if any: its send time.
  std::optional<SteadyTime> oldestSentVia(Path path) const;
  bool empty() const { return pending_.empty(); }
  uint64_t lastSeq() const { return next_ - 1; }

 private:
  uint64_t next_ = 1;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace rdv::agent
