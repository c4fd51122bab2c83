// The paired latency scenario (`latency-paired`, docs/benchmarks.md): one packet at a time at a fixed rate,
// alternating between two paths that end at the same peer socket: through the server under test
// (ChannelData on TURN allocations bound to the peer) and through the raw forwarder (rdv-baseline forward,
// the bare payload), both servers running at once on the same core. Each packet gets four kernel software
// timestamps (kernel_stamps.h): client TX, peer RX, the peer's echo TX, client RX. Client -> relay -> peer
// is peer RX - client TX, the way back client RX - peer TX, and their sum is the round trip without the load
// generator's own wake-ups. Both paths see the same machine at the same time, so the relay-added latency is
// the difference of their distributions in one run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/options.h"
#include "bench/loadgen/run_delay.h"

namespace rdv::bench {

struct PairedConfig {
  unsigned payload = 100;
  double rate = 2000;      // packets per second, both paths together (each path gets half)
  int64_t durationNs = 0;  // sending stops then
  uint64_t count = 0;      // or after this many packets (0: no limit)
  int serverPid = 0;       // when set (both): each path's run-queue wait is read around every packet
  int forwarderPid = 0;
};

class PairedLatency {
 public:
  // `relayFds`: client sockets of TURN allocations with channel 0x4000 bound to the peer; `forwarderFds`:
  // client sockets connected to the forwarder; `peerFd`: the echo peer. The caller owns the sockets.
  PairedLatency(const PairedConfig& config, std::vector<int> relayFds, std::vector<int> forwarderFds, int peerFd);
  ~PairedLatency();
  PairedLatency(const PairedLatency&) = delete;
  PairedLatency& operator=(const PairedLatency&) = delete;

  // Enables the timestamps and runs the timed phase; false (with `error`) when it could not start.
  bool run(std::string& error);
  // Percentiles per path and direction, the relay-added statistics and the counts (keys in
  // docs/benchmarks.md); `ok` is false when no pair completed or an answer failed verification.
  void report(JsonLine& j) const;
  // Every sample as CSV (seq, path, the four kernel stamps, the run-queue waits, the user-space times), for
  // analysis beyond the percentiles; false when the file cannot be written.
  bool writeSamples(const std::string& path) const;
  // Datagrams the server under test relayed (both directions of the relay path's answered packets).
  uint64_t relayedByServer() const;

 private:
  enum Path : uint8_t { kRelay = 0, kForwarder = 1 };
  struct Flow {
    int fd;
    Path path;
  };
  struct Sample {
    int64_t userSent = 0, userReceived = 0;  // CLOCK_MONOTONIC, the load generator's own view
    int64_t clientTx = 0, peerRx = 0, peerTx = 0, clientRx = 0;  // kernel, CLOCK_REALTIME
    int64_t waitBefore = 0, waitAfter = 0;  // the path's process's run-queue wait before the send, after the answer
    uint32_t flow = 0;
    bool sent = false;
    bool answered = false;
    bool complete() const { return answered && clientTx && peerRx && peerTx && clientRx; }
  };

  void sendNext(int64_t now);
  void drainTxStamps(int fd, bool peer);
  void onPeerReadable();
  void onClientReadable(uint32_t flow);
  // The sample a (sequence, flow) stamp names, or nullptr when it names none we sent.
  Sample* sampleOf(const uint8_t* stamp);

  PairedConfig config_;
  std::vector<Flow> flows_;
  unsigned relayFlows_ = 0;
  int peerFd_ = -1;
  int epollFd_ = -1;
  int timerFd_ = -1;
  std::vector<Sample> samples_;  // by sequence number (= send slot)
  uint64_t next_ = 0;            // the next send slot
  uint64_t late_ = 0;            // timer expirations missed (the load generator ran late: no burst is sent)
  uint64_t sendErrors_ = 0;
  uint64_t invalid_ = 0;
  std::vector<uint8_t> buf_;
  RunDelay waits_[2];  // by Path
};

}  // namespace rdv::bench
