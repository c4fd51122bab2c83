#include "rendezvous/node/io/service.h"

#include <type_traits>

#include "rendezvous/node/log.h"
#include "stun/channel_data.h"
#include "stun/message.h"

namespace rdv::node {

namespace {

bool isErrorResponse(const Bytes& b) {
  return b.size() >= 2 && stun::classOf(loadBe16(b.data())) == stun::Class::Error;
}

nlohmann::json describe(const relay::AllocationInfo& a) {
  return {{"id", a.id},
          {"client", a.tuple.client.toString()},
          {"username", a.username},
          {"identity", a.identity},
          {"class", a.quotaClass},
          {"peers", a.peers},
          {"bytes_to_peer", a.toPeer.bytes},
          {"bytes_to_client", a.toClient.bytes}};
}

}  // namespace

Service::Service(stun::BindingConfig binding, std::shared_ptr<const relay::Config> relayConfig,
                 relay::RelaySocketBinder& binder, NodeStats& stats, MeteringSink* metering)
    : binding_(std::move(binding)), stats_(stats), metering_(metering), relay_(std::move(relayConfig), binder, rng_) {}

bool Service::answerBinding(const stun::MessageView& msg, const stun::BindingRequestContext& ctx, Outgoing::Kind kind,
                            uint64_t connection, std::vector<Outgoing>& out) {
  auto reply = stun::handleBinding(msg, ctx, binding_);
  if (!reply) return false;  // indications and responses get no answer
  stats_.bindingRequests.add();
  if (isErrorResponse(reply->bytes)) stats_.bindingErrors.add();
  Outgoing o;
  o.kind = kind;
  o.from = reply->from;
  o.to = reply->to;
  o.connection = connection;
  o.bytes = std::move(reply->bytes);
  out.push_back(std::move(o));
  return true;
}

void Service::onDatagrams(std::span<const Datagram> batch, const Endpoint& local, uint32_t socket,
                          const relay::Now& now, std::vector<Outgoing>& out) {
  stats_.udpDatagramsReceived.add(batch.size());
  for (uint32_t i = 0; i < batch.size(); ++i) {
    const ByteSpan bytes = batch[i].bytes;
    const auto kind = stun::classify(bytes);
    if (kind == stun::PacketKind::Other) {
      stats_.udpMalformedDropped.add();
      continue;
    }
    if (kind == stun::PacketKind::Stun) {
      auto msg = stun::MessageView::parse(bytes);
      if (!msg) {
        stats_.udpMalformedDropped.add();
        continue;
      }
      if (msg->method() == static_cast<uint16_t>(stun::Method::Binding)) {
        answerBinding(*msg, {batch[i].source, local, false}, Outgoing::Kind::Udp, socket, out);
        continue;
      }
    }
    // For UDP the tuple's connection id is the listening socket's number (a function of `local`).
    relay_.handleClientInput(bytes, relay::ClientTuple{batch[i].source, local, Transport::Udp, socket}, now, i);
  }
  drain(out);
}

bool Service::onStreamFrame(ByteSpan frame, const StreamPeer& peer, uint32_t input, const relay::Now& now,
                            std::vector<Outgoing>& out) {
  if (stun::classify(frame) == stun::PacketKind::Stun) {
    auto msg = stun::MessageView::parse(frame);
    if (!msg) return false;  // RFC 8489 §6.3: a stream that is not STUN cannot be resynchronised
    if (msg->method() == static_cast<uint16_t>(stun::Method::Binding)) {
      answerBinding(*msg, {peer.remote, peer.local, true}, Outgoing::Kind::Stream, peer.connection, out);
      return true;
    }
  }
  relay_.handleClientInput(frame, relay::ClientTuple{peer.remote, peer.local, peer.transport, peer.connection}, now,
                           input);
  drain(out);
  return true;
}

void Service::onConnectionClosed(const StreamPeer& peer, const relay::Now& now, std::vector<Outgoing>& out) {
  relay_.handleConnectionClosed(relay::ClientTuple{peer.remote, peer.local, peer.transport, peer.connection}, now);
  drain(out);
}

void Service::onPeerDatagrams(relay::RelayPort relay, std::span<const relay::Server::PeerDatagram> batch,
                              const relay::Now& now, std::vector<Outgoing>& out) {
  relay_.handlePeerBatch(relay, batch, now);
  drain(out);
}

void Service::onTimeout(const relay::Now& now, std::vector<Outgoing>& out) {
  relay_.handleTimeout(now);
  drain(out);
}

void Service::endAll(const relay::Now& now, std::vector<Outgoing>& out) {
  relay_.endAll(now);
  drain(out);
}

void Service::drain(std::vector<Outgoing>& out) {
  while (auto command = relay_.nextCommand()) {
    std::visit(
        [&](auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, relay::SendToClient>) {
            Outgoing o;
            o.kind = c.tuple.transport == Transport::Udp ? Outgoing::Kind::Udp : Outgoing::Kind::Stream;
            o.from = c.tuple.server;
            o.to = c.tuple.client;
            o.connection = c.tuple.connectionId;
            o.bytes = std::move(c.bytes);
            out.push_back(std::move(o));
          } else if constexpr (std::is_same_v<T, relay::SendToPeer>) {
            Outgoing o;
            o.kind = Outgoing::Kind::Peer;
            o.relay = c.relay;
            o.to = c.peer;
            o.dontFragment = c.dontFragment;
            o.bytes = std::move(c.bytes);
            out.push_back(std::move(o));
          } else if constexpr (std::is_same_v<T, relay::ReleaseRelaySocket>) {
            Outgoing o;
            o.kind = Outgoing::Kind::ReleaseRelay;
            o.relay = c.relay;
            out.push_back(std::move(o));
          } else if constexpr (std::is_same_v<T, relay::AllocationStarted>) {
            // The JSON is built only when it is logged (Allocate path: no allocations for a filtered line).
            if (logEnabled(Level::Info)) logEvent(Level::Info, "allocation-started", describe(c.info));
            if (metering_) metering_->started(c);
          } else if constexpr (std::is_same_v<T, relay::AllocationUsage>) {
            if (metering_) metering_->usage(c);
          } else if constexpr (std::is_same_v<T, relay::AllocationEnded>) {
            if (logEnabled(Level::Info)) {
              auto fields = describe(c.info);
              fields["reason"] = std::string(relay::toString(c.reason));
              fields["packets_to_peer"] = c.info.toPeer.packets;
              fields["packets_to_client"] = c.info.toClient.packets;
              logEvent(Level::Info, "allocation-ended", fields);
            }
            if (metering_) metering_->ended(c);
          } else if constexpr (std::is_same_v<T, relay::LogEvent>) {
            const Level level = c.level == relay::LogLevel::Debug  ? Level::Debug
                                : c.level == relay::LogLevel::Info ? Level::Info
                                                                   : Level::Warn;
            if (logEnabled(level)) logEvent(level, "relay", {{"message", c.message}});
          }
        },
        *command);
  }
}

}  // namespace rdv::node
