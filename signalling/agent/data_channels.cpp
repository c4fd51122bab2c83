#include "signalling/agent/data_channels.h"

#include "signalling/agent/dcep.h"

namespace rdv::agent {

Result<std::unique_ptr<DataChannels>, std::string> DataChannels::create(Role role) {
  auto sctp = SctpAssociation::create();
  if (!sctp) return unexpected(sctp.error());
  std::unique_ptr<DataChannels> d(new DataChannels(role, std::move(*sctp)));
  d->nextStream_ = role == Role::DtlsClient ? 0 : 1;
  return d;
}

void DataChannels::start() {
  if (started_) return;
  started_ = true;
  sctp_->connect();
}

void DataChannels::handleRecord(ByteSpan record) {
  sctp_->handlePacket(record);
  pump();
}

void DataChannels::tick(std::chrono::steady_clock::time_point now) {
  SctpAssociation::advanceTimers(now);
  pump();
}

void DataChannels::pump() {
  if (!wasEstablished_ && sctp_->established()) {
    wasEstablished_ = true;
    for (auto& [stream, c] : channels_) {
      if (c.openSent) continue;
      dcep::Open open;
      open.label = c.label;
      c.openSent = sctp_->send(stream, dcep::kDcep, encode(open));
    }
  }
  for (auto& m : sctp_->takeReceived()) {
    if (m.ppid == dcep::kDcep) {
      handleDcep(m.stream, m.data);
      continue;
    }
    if (channels_.count(m.stream) == 0) {
      ++dropped_;  // data before any OPEN on that stream
      continue;
    }
    Event e;
    e.kind = Event::Kind::Message;
    e.stream = m.stream;
    switch (m.ppid) {
      case dcep::kString:
        e.data = std::move(m.data);
        break;
      case dcep::kBinary:
        e.data = std::move(m.data);
        e.binary = true;
        break;
      case dcep::kStringEmpty:
        break;
      case dcep::kBinaryEmpty:
        e.binary = true;
        break;
      default:
        ++dropped_;  // a PPID data channels do not use (e.g. the deprecated partial ones)
        continue;
    }
    events_.push_back(std::move(e));
  }
  for (uint16_t stream : sctp_->takeResetStreams()) {
    if (channels_.erase(stream) == 0) continue;
    events_.push_back(Event{Event::Kind::Closed, stream, {}, {}, false});
  }
}

void DataChannels::handleDcep(uint16_t stream, ByteSpan payload) {
  auto parsed = dcep::parse(payload);
  auto* message = std::get_if<dcep::Message>(&parsed);
  if (!message) {
    ++dropped_;
    return;
  }
  if (std::holds_alternative<dcep::Ack>(*message)) return;  // our OPEN was accepted: nothing to change
  const auto& open = std::get<dcep::Open>(*message);
  // RFC 8832 §6: the peer opens streams of its own parity only; a second OPEN on a live stream is
  // an error. Both are dropped, as is an OPEN beyond our channel limit.
  const bool peerParity = (stream % 2 == 0) == (role_ == Role::DtlsServer);
  if (!peerParity || channels_.count(stream) != 0 || channels_.size() >= kMaxChannels) {
    ++dropped_;
    return;
  }
  channels_[stream] = Channel{open.label, open.ordered(), true};
  sctp_->send(stream, dcep::kDcep, encode(dcep::Ack{}));
  events_.push_back(Event{Event::Kind::Opened, stream, open.label, {}, false});
}

std::optional<uint16_t> DataChannels::open(const std::string& label) {
  if (channels_.size() >= kMaxChannels || label.size() > 0xFFFF) return std::nullopt;
  while (channels_.count(nextStream_) != 0) nextStream_ += 2;
  const uint16_t stream = nextStream_;
  nextStream_ += 2;
  Channel c{label, true, false};
  if (sctp_->established()) {
    dcep::Open o;
    o.label = label;
    c.openSent = sctp_->send(stream, dcep::kDcep, encode(o));
  }
  channels_[stream] = c;
  return stream;
}

bool DataChannels::sendOn(uint16_t stream, uint32_t ppid, ByteSpan data) {
  auto it = channels_.find(stream);
  if (it == channels_.end() || !it->second.openSent) return false;
  return sctp_->send(stream, ppid, data, it->second.ordered);
}

bool DataChannels::sendText(uint16_t stream, std::string_view text) {
  return sendOn(stream, text.empty() ? dcep::kStringEmpty : dcep::kString, asBytes(text));
}

bool DataChannels::sendBinary(uint16_t stream, ByteSpan data) {
  return sendOn(stream, data.empty() ? dcep::kBinaryEmpty : dcep::kBinary, data);
}

std::vector<Bytes> DataChannels::takeOutgoing() { return sctp_->takeOutgoing(); }

std::vector<DataChannels::Event> DataChannels::takeEvents() {
  std::vector<Event> out;
  out.swap(events_);
  return out;
}

}  // namespace rdv::agent
