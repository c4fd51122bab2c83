#include "rendezvous/node/service.h"

#include "stun/channel_data.h"
#include "stun/message.h"

namespace rdv::node {

namespace {
bool isErrorResponse(const Bytes& b) {
  return b.size() >= 2 && stun::classOf(loadBe16(b.data())) == stun::Class::Error;
}
}  // namespace

void Service::onDatagram(ByteSpan bytes, const Endpoint& source, const Endpoint& local, std::vector<Outgoing>& out) {
  stats_.udpDatagramsReceived.add();
  if (stun::classify(bytes) != stun::PacketKind::Stun) {
    stats_.udpUnhandledDropped.add();  // ChannelData and others: the relay will take these
    return;
  }
  auto msg = stun::MessageView::parse(bytes);
  if (!msg) {
    stats_.udpMalformedDropped.add();
    return;
  }
  if (msg->method() != static_cast<uint16_t>(stun::Method::Binding)) {
    stats_.udpUnhandledDropped.add();
    return;
  }
  auto reply = stun::handleBinding(*msg, {source, local, false}, binding_);
  if (!reply) return;  // indications and responses get no answer
  stats_.bindingRequests.add();
  if (isErrorResponse(reply->bytes)) stats_.bindingErrors.add();
  out.push_back({Transport::Udp, reply->from, reply->to, 0, std::move(reply->bytes)});
}

bool Service::onStreamFrame(ByteSpan frame, const StreamPeer& peer, std::vector<Outgoing>& out) {
  if (stun::classify(frame) != stun::PacketKind::Stun) return true;  // ChannelData: the relay's, later
  auto msg = stun::MessageView::parse(frame);
  if (!msg) return false;  // RFC 8489 §6.3: a stream that is not STUN cannot be resynchronised
  if (msg->method() != static_cast<uint16_t>(stun::Method::Binding)) return true;
  auto reply = stun::handleBinding(*msg, {peer.remote, peer.local, true}, binding_);
  if (!reply) return true;
  stats_.bindingRequests.add();
  if (isErrorResponse(reply->bytes)) stats_.bindingErrors.add();
  out.push_back({peer.transport, reply->from, reply->to, peer.connection, std::move(reply->bytes)});
  return true;
}

}  // namespace rdv::node
