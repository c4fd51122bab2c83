// The packet engine: several flows (one connected UDP socket each) keep a window of packets in flight
// under an optional total rate, and every answer is verified against what is outstanding. Used for STUN
// Binding (answers from the server), and for relayed data (ChannelData, Send/Data indications, or raw
// payloads through the baseline forwarder) echoed back by an in-process peer socket.
#pragma once

#include <cstdint>
#include <vector>

#include "bench/loadgen/udp.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"

namespace rdv::bench {

enum class Framing : uint8_t {
  BindingStun,     // Binding request; answer: Binding success with XOR-MAPPED-ADDRESS and our transaction id
  BindingRaw,      // the same request bytes to the raw echo; answer: our request back
  ChannelData,     // ChannelData 0x4000 + payload; answer: ChannelData with the payload the peer echoed
  SendIndication,  // Send indication (XOR-PEER-ADDRESS, DATA); answer: Data indication
  Raw,             // the bare payload to the raw forwarder; answer: the payload back
};

struct TrafficConfig {
  Framing framing = Framing::BindingStun;
  unsigned payload = 100;  // relayed payload bytes (ignored for Binding)
  double rate = 0;         // packets per second over all flows; 0: as fast as the windows allow
  unsigned window = 16;    // packets in flight per flow
  int64_t deadlineNs = 0;  // stop sending then
  uint64_t count = 0;      // stop sending after this many (0: no limit)
  int64_t lossTimeoutNs = 50'000'000;  // an idle flow's packets in flight are counted lost after this
};

struct TrafficStats {
  uint64_t sent = 0;
  uint64_t received = 0;  // verified answers
  uint64_t invalid = 0;   // answers that failed verification (bad framing, unknown transaction/sequence)
  uint64_t lost = 0;
  uint64_t peerReceived = 0;  // datagrams that reached the peer (each relayed once by the server)
  uint64_t payloadBytes = 0;  // relayed payload bytes received back
  double seconds = 0;         // first send to the last answer
  std::vector<uint32_t> rttNs;
};

class Traffic {
 public:
  // `clientFds`: connected sockets, one per flow (owned by the caller). `peerFd`: the echo peer (-1 for
  // Binding). `peer`: the address Send indications name.
  Traffic(const TrafficConfig& config, std::vector<int> clientFds, int peerFd, const Endpoint& peer);
  void run();
  const TrafficStats& stats() const { return stats_; }

 private:
  struct Flow {
    int fd = -1;
    uint64_t nextSeq = 0;
    unsigned inflight = 0;
    int64_t lastProgressNs = 0;
    std::vector<uint64_t> ringSeq;  // outstanding sequence numbers by seq % kRing (UINT64_MAX: free)
    std::vector<int64_t> ringSent;
  };
  static constexpr size_t kRing = 2048;

  void buildTemplate(const Endpoint& peer);
  unsigned sendFlow(uint32_t index, unsigned budget, int64_t now);
  void receiveFlow(uint32_t index);
  void echoPeer();
  // Where the 12-byte stamp (sequence, flow) sits in a received packet; nullptr when malformed.
  const uint8_t* stampOf(const uint8_t* data, unsigned length) const;
  void reclaim(int64_t now);

  TrafficConfig config_;
  std::vector<Flow> flows_;
  int peerFd_ = -1;
  Bytes template_;
  size_t stampOffset_ = 0;
  Poller poller_;
  Batch out_;
  Batch in_;
  std::vector<uint32_t> ready_;
  TrafficStats stats_;
  int64_t firstSendNs_ = 0;
  int64_t lastRecvNs_ = 0;
};

// p in [0, 1] over the samples (sorted in place); 0 when empty.
double percentileUs(std::vector<uint32_t>& samplesNs, double p);

}  // namespace rdv::bench
