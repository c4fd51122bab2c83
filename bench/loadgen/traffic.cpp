#include "bench/loadgen/traffic.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "stun/channel_data.h"
#include "stun/message.h"

namespace rdv::bench {
namespace {

constexpr uint64_t kFree = std::numeric_limits<uint64_t>::max();
constexpr size_t kMaxRttSamples = 4'000'000;

void writeStamp(uint8_t* at, uint64_t seq, uint32_t flow) {
  storeBe32(at, static_cast<uint32_t>(seq >> 32));
  storeBe32(at + 4, static_cast<uint32_t>(seq));
  storeBe32(at + 8, flow);
}

}  // namespace

Traffic::Traffic(const TrafficConfig& config, std::vector<int> clientFds, int peerFd, const Endpoint& peer)
    : config_(config), peerFd_(peerFd) {
  flows_.resize(clientFds.size());
  for (size_t i = 0; i < flows_.size(); ++i) {
    flows_[i].fd = clientFds[i];
    flows_[i].ringSeq.assign(kRing, kFree);
    flows_[i].ringSent.assign(kRing, 0);
    poller_.add(clientFds[i], static_cast<uint32_t>(i));
  }
  if (peerFd_ >= 0) poller_.add(peerFd_, static_cast<uint32_t>(flows_.size()));
  buildTemplate(peer);
}

// The packet every flow sends, with a 12-byte stamp (sequence, flow) patched in per packet: in the
// transaction id for Binding, at the start of the payload otherwise.
void Traffic::buildTemplate(const Endpoint& peer) {
  const Bytes payload(config_.payload, 0x5a);
  switch (config_.framing) {
    case Framing::BindingStun:
    case Framing::BindingRaw:
      template_ = stun::MessageBuilder(stun::Method::Binding, stun::Class::Request, {}).bytes();
      stampOffset_ = 8;
      return;
    case Framing::ChannelData:
      template_.clear();
      stun::appendChannelData(template_, 0x4000, payload, false);
      stampOffset_ = stun::kChannelDataHeaderSize;
      return;
    case Framing::SendIndication: {
      template_ = stun::MessageBuilder(stun::Method::Send, stun::Class::Indication, stun::randomTransactionId())
                      .addXorAddress(stun::attr::XorPeerAddress, peer)
                      .add(stun::attr::Data, payload)
                      .bytes();
      auto parsed = stun::MessageView::parse(template_);
      stampOffset_ = parsed->find(stun::attr::Data)->offset + 4;
      return;
    }
    case Framing::Raw:
      template_ = payload;
      stampOffset_ = 0;
      return;
  }
}

unsigned Traffic::sendFlow(uint32_t index, unsigned budget, int64_t now) {
  Flow& f = flows_[index];
  unsigned n = std::min({budget, config_.window - std::min(config_.window, f.inflight), Batch::kBatch});
  for (unsigned k = 0; k < n; ++k) {
    const uint64_t seq = f.nextSeq + k;
    std::memcpy(out_.buffer(k), template_.data(), template_.size());
    writeStamp(out_.buffer(k) + stampOffset_, seq, index);
    out_.setLength(k, static_cast<unsigned>(template_.size()));
    out_.clearAddress(k);
  }
  n = n ? out_.send(f.fd, n) : 0;
  for (unsigned k = 0; k < n; ++k) {
    const uint64_t seq = f.nextSeq++;
    f.ringSeq[seq % kRing] = seq;
    f.ringSent[seq % kRing] = now;
  }
  if (f.inflight == 0) f.lastProgressNs = now;
  f.inflight += n;
  if (n && firstSendNs_ == 0) firstSendNs_ = now;
  return n;
}

const uint8_t* Traffic::stampOf(const uint8_t* data, unsigned length) const {
  const ByteSpan bytes(data, length);
  switch (config_.framing) {
    case Framing::BindingStun:
    case Framing::BindingRaw: {
      auto m = stun::MessageView::parse(bytes);
      if (!m) return nullptr;
      if (config_.framing == Framing::BindingRaw) return m->is(stun::Method::Binding, stun::Class::Request) ? data + 8 : nullptr;
      if (!m->is(stun::Method::Binding, stun::Class::Success)) return nullptr;
      return m->xorAddress(stun::attr::XorMappedAddress) ? data + 8 : nullptr;
    }
    case Framing::ChannelData: {
      auto cd = stun::parseChannelData(bytes);
      if (!cd || cd->channel != 0x4000 || cd->data.size() != config_.payload) return nullptr;
      return cd->data.data();
    }
    case Framing::SendIndication: {
      auto m = stun::MessageView::parse(bytes);
      if (!m || !m->is(stun::Method::Data, stun::Class::Indication)) return nullptr;
      auto d = m->data();
      return d && d->size() == config_.payload ? d->data() : nullptr;
    }
    case Framing::Raw:
      return length == config_.payload ? data : nullptr;
  }
  return nullptr;
}

void Traffic::receiveFlow(uint32_t index) {
  Flow& f = flows_[index];
  const unsigned n = in_.receive(f.fd);
  const int64_t now = nowNs();
  for (unsigned k = 0; k < n; ++k) {
    const uint8_t* stamp = stampOf(in_.buffer(k), in_.length(k));
    const uint64_t seq = stamp ? (uint64_t{loadBe32(stamp)} << 32) | loadBe32(stamp + 4) : kFree;
    if (!stamp || loadBe32(stamp + 8) != index || f.ringSeq[seq % kRing] != seq) {
      ++stats_.invalid;
      continue;
    }
    f.ringSeq[seq % kRing] = kFree;
    if (stats_.rttNs.size() < kMaxRttSamples)
      stats_.rttNs.push_back(static_cast<uint32_t>(std::min<int64_t>(now - f.ringSent[seq % kRing], UINT32_MAX)));
    ++stats_.received;
    if (config_.framing != Framing::BindingStun && config_.framing != Framing::BindingRaw)
      stats_.payloadBytes += config_.payload;
    if (f.inflight) --f.inflight;
    f.lastProgressNs = now;
    lastRecvNs_ = now;
  }
}

// The peer: whatever reaches it is sent back to where it came from (a relayed address or the forwarder).
void Traffic::echoPeer() {
  const unsigned n = in_.receive(peerFd_);
  stats_.peerReceived += n;
  for (unsigned k = 0; k < n; ++k) {
    std::memcpy(out_.buffer(k), in_.buffer(k), in_.length(k));
    out_.setLength(k, in_.length(k));
    const auto& a = in_.address(k);
    out_.setAddress(k, a, a.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
  }
  if (n) out_.send(peerFd_, n);
}

void Traffic::reclaim(int64_t now) {
  for (auto& f : flows_) {
    if (f.inflight && now - f.lastProgressNs > config_.lossTimeoutNs) {
      stats_.lost += f.inflight;
      f.inflight = 0;
      f.lastProgressNs = now;
    }
  }
}

void Traffic::run() {
  const int64_t t0 = nowNs();
  int64_t lastReclaim = t0;
  int64_t drainUntil = 0;
  for (int64_t now = t0;; now = nowNs()) {
    const bool sending = now < config_.deadlineNs && (config_.count == 0 || stats_.sent < config_.count);
    unsigned budget = 0;
    if (sending) {
      const double allowed = config_.rate > 0 ? config_.rate * static_cast<double>(now - t0) / 1e9 + 1 : 1e18;
      const double left = config_.count ? static_cast<double>(config_.count - stats_.sent) : 1e18;
      budget = static_cast<unsigned>(std::clamp(std::min(allowed - static_cast<double>(stats_.sent), left), 0.0, 1e9));
      for (uint32_t i = 0; i < flows_.size() && budget; ++i) {
        const unsigned n = sendFlow(i, budget, now);
        budget -= n;
        stats_.sent += n;
      }
    } else {
      if (drainUntil == 0) drainUntil = now + std::min<int64_t>(config_.lossTimeoutNs * 4, 300'000'000);
      bool busy = false;
      for (auto& f : flows_) busy = busy || f.inflight;
      if (!busy || now > drainUntil) break;
    }
    poller_.wait(ready_, budget > 0 || config_.rate == 0 ? 0 : 1);
    for (uint32_t i : ready_) {
      if (i == flows_.size()) echoPeer();
      else receiveFlow(i);
    }
    if (now - lastReclaim > 10'000'000) {
      reclaim(now);
      lastReclaim = now;
    }
  }
  for (auto& f : flows_) stats_.lost += f.inflight;
  if (firstSendNs_ && lastRecvNs_ > firstSendNs_) stats_.seconds = static_cast<double>(lastRecvNs_ - firstSendNs_) / 1e9;
}

double percentileUs(std::vector<uint32_t>& samplesNs, double p) {
  if (samplesNs.empty()) return 0;
  const size_t k = std::min(samplesNs.size() - 1, static_cast<size_t>(p * static_cast<double>(samplesNs.size())));
  std::nth_element(samplesNs.begin(), samplesNs.begin() + static_cast<long>(k), samplesNs.end());
  return samplesNs[k] / 1000.0;
}

}  // namespace rdv::bench
