#include "signalling/agent/media_stats.h"

#include <cmath>

namespace rdv::agent {

Bytes makeRtpPacket(uint16_t seq, uint32_t timestamp, uint32_t ssrc, size_t payload) {
  Bytes p(12 + payload, 0);
  p[0] = 0x80;  // V=2
  p[1] = 96;    // dynamic payload type
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
    p[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
  for (size_t i = 0; i < payload; ++i) p[12 + i] = static_cast<uint8_t>(i);
  return p;
}

void MediaStats::onPacket(ByteSpan packet, std::chrono::steady_clock::time_point arrival) {
  if (packet.size() < 12 || (packet[0] >> 6) != 2) return;
  const uint16_t seq16 = static_cast<uint16_t>((packet[2] << 8) | packet[3]);
  const uint32_t ts = (uint32_t{packet[4]} << 24) | (uint32_t{packet[5]} << 16) | (uint32_t{packet[6]} << 8) | packet[7];
  if (!firstSeq_) {
    firstSeq_ = seq16;
    maxSeq_ = seq16;
    lastSeq16_ = seq16;
    first_ = arrival;
  } else {
    // RFC 3550 A.1, simplified: a forward step (mod 2^16) under half the space advances, a wrap counts a cycle.
    const uint16_t delta = static_cast<uint16_t>(seq16 - lastSeq16_);
    if (delta != 0 && delta < 0x8000) {
      if (seq16 < lastSeq16_) ++cycles_;
      lastSeq16_ = seq16;
      maxSeq_ = (cycles_ << 16) + seq16;
    }
  }
  ++received_;
  bytes_ += packet.size() - 12;
  last_ = arrival;
  // Jitter (RFC 3550 §6.4.1): transit = arrival (in RTP units) - timestamp; J += (|D| - J) / 16.
  const auto arrivalUnits = std::chrono::duration_cast<std::chrono::microseconds>(arrival - *first_).count() *
                            static_cast<int64_t>(kRtpClockRate) / 1'000'000;
  const int64_t transit = arrivalUnits - static_cast<int64_t>(ts);
  if (lastTransit_) {
    const double d = std::fabs(static_cast<double>(transit - *lastTransit_));
    jitter_ += (d - jitter_) / 16.0;
  }
  lastTransit_ = transit;
}

nlohmann::json MediaStats::report(std::optional<uint64_t> sent) const {
  const uint64_t expected = firstSeq_ ? maxSeq_ - *firstSeq_ + 1 : 0;
  const uint64_t total = sent ? std::max(*sent, expected) : expected;
  const uint64_t lost = total > received_ ? total - received_ : 0;
  const double durationMs =
      first_ ? std::chrono::duration<double, std::milli>(last_ - *first_).count() : 0.0;
  const double bitrate = durationMs > 0 ? static_cast<double>(bytes_) * 8.0 * 1000.0 / durationMs : 0.0;
  auto round3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  return {{"packets_received", received_},
          {"packets_expected", total},
          {"packets_lost", lost},
          {"loss_fraction", total ? round3(static_cast<double>(lost) / static_cast<double>(total)) : 0.0},
          {"jitter_ms", round3(jitter_ * 1000.0 / kRtpClockRate)},
          {"bitrate_bps", std::llround(bitrate)},
          {"duration_ms", round3(durationMs)},
          {"bytes", bytes_}};
}

}  // namespace rdv::agent
