// Receiver statistics of an RTP stream (RFC 3550): loss from the extended sequence numbers,
// interarrival jitter (§6.4.1, A.8) in the 90 kHz timestamp clock, and the received bitrate.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "rendezvous/base/bytes.h"

namespace rdv::agent {

inline constexpr uint32_t kRtpClockRate = 90000;

// A 12-byte RTP header (V=2, no CSRC, PT 96) followed by `payload` filler bytes.
Bytes makeRtpPacket(uint16_t seq, uint32_t timestamp, uint32_t ssrc, size_t payload);

class MediaStats {
 public:
  // `packet` is the decrypted RTP packet; `arrival` the receive time.
  void onPacket(ByteSpan packet, std::chrono::steady_clock::time_point arrival);
  uint64_t received() const { return received_; }
  // {"packets_received","packets_expected","packets_lost","loss_fraction","jitter_ms","bitrate_bps",
  //  "duration_ms","bytes"}; `sent` (the sender's count, if known) makes loss exact at the tail.
  nlohmann::json report(std::optional<uint64_t> sent) const;

 private:
  uint64_t received_ = 0;
  uint64_t bytes_ = 0;
  std::optional<uint64_t> firstSeq_;
  uint64_t maxSeq_ = 0;  // extended
  uint16_t lastSeq16_ = 0;
  uint64_t cycles_ = 0;
  std::optional<std::chrono::steady_clock::time_point> first_;
  std::chrono::steady_clock::time_point last_{};
  std::optional<int64_t> lastTransit_;
  double jitter_ = 0;  // timestamp units
};

}  // namespace rdv::agent
