// PeerSession in WebRTC mode: what a browser (signalling/web/src/webrtc.js) sends and expects.
//
//   bodies      {"kind":"webrtc","session","gen","sdp"} (offer/answer), {"kind":"webrtc","session",
//               "gen","candidate","sdpMid","sdpMLineIndex"}, end-of-candidates and bye alike
//   ICE         libnice as for native peers (RFC 5245 mode talks to Chromium's ICE)
//   DTLS        roles from a=setup: our offer says actpass, our answer passive (the browser is the
//               DTLS client); the certificate is checked against the SDP's a=fingerprint
//   SCTP        DataChannels over the DTLS records; the offerer opens the channel "rdv" (reliable,
//               ordered), an answerer takes the peer's first channel
#include <agent.h>
#include <openssl/rand.h>

#include "signalling/agent/peer_session.h"
#include "signalling/agent/webrtc_sdp.h"

namespace rdv::agent {

namespace sig = rdv::signalling;

namespace {
constexpr size_t kMaxBacklog = 1024;     // messages waiting for the channel to open
constexpr size_t kMaxUnacked = 4096;     // messages kept for a hub fallback (the oldest go first)
constexpr const char* kAckLabel = "rdv-ack";
}

Json PeerSession::candidateBody(const std::string& niceLine) const {
  if (!webrtc_) return {{"session", id_}, {"gen", generation_}, {"candidate", niceLine}};
  return {{"kind", "webrtc"}, {"session", id_}, {"gen", generation_}, {"candidate", toRtcCandidate(niceLine)},
          {"sdpMid", remoteMid_}, {"sdpMLineIndex", 0}};
}

Json PeerSession::endOfCandidatesBody() const {
  Json body = {{"session", id_}, {"gen", generation_}};
  if (webrtc_) body["kind"] = "webrtc";
  return body;
}

Json PeerSession::byeBody() const {
  Json body = {{"session", id_}};
  if (webrtc_) body["kind"] = "webrtc";
  return body;
}

Json PeerSession::webrtcDescription(sig::EnvelopeType type) {
  DataChannelSdp d;
  gchar* ufrag = nullptr;
  gchar* pwd = nullptr;
  if (nice_agent_get_local_credentials(agent_, stream_, &ufrag, &pwd)) {
    d.iceUfrag = ufrag;
    d.icePwd = pwd;
  }
  g_free(ufrag);
  g_free(pwd);
  d.fingerprint = dtls_->localFingerprint();
  if (options_.testBadFingerprint) d.fingerprint.back() = d.fingerprint.back() == '0' ? '1' : '0';
  // RFC 8842 §5.3: the offerer says actpass; answering, we stay passive (the browser's DTLS
  // client connects to us; our DtlsTransport was made as the server for it).
  d.setup = type == sig::EnvelopeType::Offer ? "actpass" : "passive";
  d.mid = remoteMid_;
  d.maxMessageSize = SctpAssociation::kMaxMessage;
  uint64_t sessionId = 0;
  RAND_bytes(reinterpret_cast<uint8_t*>(&sessionId), sizeof(sessionId));
  return {{"kind", "webrtc"}, {"session", id_}, {"gen", generation_},
          {"sdp", buildDataChannelSdp(d, sessionId & 0x7FFFFFFFFFFFFFFFull)}};
}

bool PeerSession::applyRemoteSdp(const Json& body) {
  const std::string text = body.contains("sdp") && body["sdp"].is_string() ? body["sdp"].get<std::string>() : "";
  auto d = parseDataChannelSdp(text);
  if (!d) {
    fail("bad-signal", "the peer's SDP: " + d.error());
    return false;
  }
  if (controlling_) {
    // Our offer said actpass: the answer decides (active: the peer is the DTLS client).
    if (d->setup == "actpass") {
      fail("bad-signal", "the peer's SDP answer says a=setup:actpass");
      return false;
    }
    dtls_->setRole(d->setup == "active" ? DtlsTransport::Role::Server : DtlsTransport::Role::Client);
  } else {
    remoteMid_ = d->mid;  // our answer's section carries the offer's mid
    // An offer that insists on being the DTLS server (passive) makes us the client.
    dtls_->setRole(d->setup == "passive" ? DtlsTransport::Role::Client : DtlsTransport::Role::Server);
  }
  dtls_->setRemoteFingerprint(d->fingerprint);
  nice_agent_set_remote_credentials(agent_, stream_, d->iceUfrag.c_str(), d->icePwd.c_str());
  for (const auto& c : d->candidates) applyRemoteCandidate({{"candidate", c}});
  return true;
}

void PeerSession::onWebRtcDtlsUp() {
  auto dc = DataChannels::create(dtls_->role() == DtlsTransport::Role::Client ? DataChannels::Role::DtlsClient
                                                                              : DataChannels::Role::DtlsServer);
  if (!dc) return fail("sctp", dc.error());
  channels_ = std::move(*dc);
  channels_->start();
  if (controlling_) channel_ = channels_->open("rdv");
  pumpChannels();
}

void PeerSession::onWebRtcRecords(std::vector<Bytes> records) {
  if (!channels_) return;
  for (const auto& r : records) channels_->handleRecord(r);
  pumpChannels();
}

void PeerSession::pumpChannels() {
  if (!channels_) return;
  const auto now = Clock::now();
  // Our channel counts as open once SCTP is up (RFC 8832 §6: data may follow the OPEN at once).
  if (controlling_ && channel_ && !channelOpen_ && channels_->established()) channelOpen_ = true;
  for (auto& e : channels_->takeEvents()) {
    using Kind = DataChannels::Event::Kind;
    if (e.kind == Kind::Opened) {
      if (e.label == kAckLabel) {
        ackChannel_ = e.stream;  // the answering browser's: acknowledgements both ways on it
        peerAcks_ = true;
      } else if (!channel_) {
        channel_ = e.stream;
        channelOpen_ = true;
        // Answering: open "rdv-ack" as a browser answerer does, so the peer may fall back to the hub.
        if (!controlling_) ackChannel_ = channels_->open(kAckLabel);
      }
    } else if (e.kind == Kind::Message && ackChannel_ && e.stream == *ackChannel_) {
      handleChannelAck(e.data);
    } else if (e.kind == Kind::Message && channel_ && e.stream == *channel_) {
      lastHeard_ = now;
      for (auto& d : in_.accept(++channelInSeq_, std::string(e.data.begin(), e.data.end()), Path::Fast))
        host_.onDelivered(*this, d);
      // TEST ONLY (--test-drop-fast-after): from now on every DTLS packet from the peer is dropped.
      if (options_.testDropFastAfter != 0 && !dropGeneration_ && channelInSeq_ >= options_.testDropFastAfter)
        dropGeneration_ = generation_;
      if (ackChannel_) channels_->sendText(*ackChannel_, Json{{"upto", in_.delivered()}}.dump());
    } else if (e.kind == Kind::Closed && channel_ && e.stream == *channel_) {
      host_.emit({{"event", "channel-closed"}, {"peer", remote_.hex()}});
      channelOpen_ = false;
      fastUp_ = false;
    }
  }
  if (channelOpen_ && !fastUp_ && !everConnected_) {
    fastUp_ = true;
    everConnected_ = true;
    firstByteAt_ = now;
    announcePending_ = true;
    maybeAnnounce(now);
    std::vector<std::string> backlog;
    backlog.swap(channelBacklog_);
    for (const auto& m : backlog) sendOnChannel(m);
  }
  if (channels_->closed() && fastUp_) {
    host_.emit({{"event", "channel-closed"}, {"peer", remote_.hex()}, {"reason", channels_->closeReason()}});
    fastUp_ = false;
  }
  for (const auto& packet : channels_->takeOutgoing()) dtls_->send(packet);
}

void PeerSession::handleChannelAck(const Bytes& data) {
  auto j = Json::parse(data.begin(), data.end(), nullptr, false);
  if (!j.is_object() || !j.contains("upto") || !j["upto"].is_number_unsigned()) return;
  peerAcks_ = true;
  const uint64_t upto = j["upto"].get<uint64_t>();
  unackedOnChannel_.erase(unackedOnChannel_.begin(), unackedOnChannel_.upper_bound(upto));
}

void PeerSession::sendChannelViaHub(uint64_t seq, const std::string& body) {
  host_.sendSignal(remote_, sig::EnvelopeType::Message,
                   {{"kind", "webrtc"}, {"session", id_}, {"gen", generation_}, {"seq", seq}, {"data", body}});
}

void PeerSession::fallBackToHub(const std::string& reason) {
  if (channelViaHub_ || !everConnected_) return;
  if (!peerAcks_) {
    // A peer without "rdv-ack" cannot take numbered messages from the hub: the path is just gone.
    if (fastUp_) host_.emit({{"event", "path-lost"}, {"peer", remote_.hex()}, {"reason", reason}});
    fastUp_ = false;
    return;
  }
  channelViaHub_ = true;
  fastUp_ = false;
  host_.emit({{"event", "fallback"}, {"peer", remote_.hex()}, {"reason", reason}, {"generation", generation_},
              {"unacknowledged", unackedOnChannel_.size()}});
  for (const auto& [seq, sent] : unackedOnChannel_) sendChannelViaHub(seq, sent.first);
  unackedOnChannel_.clear();
}

bool PeerSession::sendOnChannel(const std::string& body) {
  if (channelViaHub_) {
    sendChannelViaHub(++channelOutSeq_, body);
    return true;
  }
  if (!channelOpen_ || !channel_ || !channels_) {
    if (channelBacklog_.size() >= kMaxBacklog) return false;
    channelBacklog_.push_back(body);
    return true;
  }
  const uint64_t seq = ++channelOutSeq_;
  unackedOnChannel_[seq] = {body, Clock::now()};
  if (unackedOnChannel_.size() > kMaxUnacked) unackedOnChannel_.erase(unackedOnChannel_.begin());
  const bool ok = channels_->sendText(*channel_, body);
  pumpChannels();
  flushDtls();
  return ok;
}

void PeerSession::tickWebRtc(Clock::time_point now) {
  maybeAnnounce(now);
  // A message the peer has not acknowledged for the path timeout: the path is gone (as for native
  // sessions; ICE's consent check would take far longer to say so).
  if (peerAcks_ && !channelViaHub_ && !unackedOnChannel_.empty() &&
      now - unackedOnChannel_.begin()->second.second > options_.pathTimeout)
    fallBackToHub("unacknowledged");
  dtls_->handleTimeout();
  if (channels_) {
    channels_->tick(now);
    pumpChannels();
    if (auto rtt = channels_->srttMs(); rtt && *rtt > 0) rttMs_ = *rtt;
  }
  flushDtls();
}

}  // namespace rdv::agent
