#include "signalling/agent/peer_session.h"

#include <agent.h>

#include <cstring>

#include "signalling/agent/webrtc_sdp.h"

namespace rdv::agent {

namespace sig = rdv::signalling;

namespace {

constexpr guint kComponent = 1;
constexpr auto kHubRetransmit = std::chrono::seconds(3);
constexpr auto kRestartRetry = std::chrono::seconds(5);
constexpr guint kPacingMs = 5;      // Ta (RFC 8445 section 14.2: not below 5 ms)
constexpr guint kCheckRtoMs = 100;  // first retransmission of a connectivity check

const char* candidateTypeName(NiceCandidateType t) {
  switch (t) {
    case NICE_CANDIDATE_TYPE_HOST:
      return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
      return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
      return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
      return "relay";
  }
  return "unknown";
}

std::string addressText(const NiceAddress& a) {
  gchar buf[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&a, buf);
  const std::string ip = buf;
  const std::string port = std::to_string(nice_address_get_port(&a));
  return ip.find(':') != std::string::npos ? "[" + ip + "]:" + port : ip + ":" + port;
}

double msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

void onCandidateFull(NiceAgent*, NiceCandidate* c, gpointer data) { static_cast<PeerSession*>(data)->onCandidate(c); }
void onGatheringDoneSignal(NiceAgent*, guint, gpointer data) { static_cast<PeerSession*>(data)->onGatheringDone(); }
void onStateSignal(NiceAgent*, guint, guint, guint state, gpointer data) {
  static_cast<PeerSession*>(data)->onComponentState(state);
}
void onSelectedPairSignal(NiceAgent*, guint, guint, NiceCandidate*, NiceCandidate*, gpointer data) {
  static_cast<PeerSession*>(data)->onSelectedPair();
}
void onReceiveCb(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer data) {
  static_cast<PeerSession*>(data)->onReceive(reinterpret_cast<const uint8_t*>(buf), len);
}

}  // namespace

PeerSession::PeerSession(SessionHost& host, GMainContext* context, SessionOptions options, identity::NodeId remote,
                         std::string sessionId, bool controlling)
    : host_(host),
      context_(context),
      options_(std::move(options)),
      remote_(remote),
      id_(std::move(sessionId)),
      controlling_(controlling),
      created_(Clock::now()) {
  webrtc_ = options_.webrtc && controlling;  // an answerer follows the offer (handleSignal)
}

PeerSession::~PeerSession() {
  if (agent_) {
    g_signal_handlers_disconnect_by_data(agent_, this);
    if (stream_) {
      nice_agent_attach_recv(agent_, stream_, kComponent, context_, nullptr, nullptr);
      nice_agent_remove_stream(agent_, stream_);
    }
    // Frees TURN allocations (refresh with lifetime 0) while the agent's context keeps running.
    nice_agent_close_async(agent_, nullptr, nullptr);
    g_object_unref(agent_);
  }
}

void PeerSession::fail(const std::string& code, const std::string& message) {
  if (failed_) return;
  failed_ = true;
  host_.onFailed(*this, code, message);
}

bool PeerSession::createAgent() {
  auto dtls = DtlsTransport::create(controlling_ ? DtlsTransport::Role::Client : DtlsTransport::Role::Server,
                                    DtlsTransport::Certificate::Shared);
  if (!dtls) {
    fail("dtls", dtls.error());
    return false;
  }
  dtls_ = std::move(*dtls);
  const auto flags = static_cast<NiceAgentOption>(NICE_AGENT_OPTION_REGULAR_NOMINATION | NICE_AGENT_OPTION_ICE_TRICKLE |
                                                  NICE_AGENT_OPTION_CONSENT_FRESHNESS);
  agent_ = nice_agent_new_full(context_, NICE_COMPATIBILITY_RFC5245, flags);
  if (!agent_) {
    fail("ice", "cannot create the ICE agent");
    return false;
  }
  g_object_set(G_OBJECT(agent_), "controlling-mode", controlling_ ? TRUE : FALSE, "upnp", FALSE, "ice-udp", TRUE,
               "ice-tcp", options_.tcp ? TRUE : FALSE, "force-relay", options_.relayOnly ? TRUE : FALSE, nullptr);
  // Pacing (Ta) at RFC 8445's floor of 5 ms instead of libnice's 20 ms: with trickle, each new remote
  // candidate adds pairs, and at 20 ms a check a dozen pairs were checked in a quarter of a second. The
  // first retransmission of a check after 100 ms instead of 200 ms: a check dropped by a NAT filter that
  // opens a moment later (address-dependent filtering) is sent again sooner.
  g_object_set(G_OBJECT(agent_), "stun-pacing-timer", kPacingMs, "stun-initial-timeout", kCheckRtoMs, nullptr);
  if (options_.ice.stun)
    g_object_set(G_OBJECT(agent_), "stun-server", options_.ice.stun->host.c_str(), "stun-server-port",
                 static_cast<guint>(options_.ice.stun->port), nullptr);
  for (const auto& a : options_.localAddresses) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, a.c_str()) || !nice_agent_add_local_address(agent_, &addr)) {
      fail("usage", "--local-address " + a + " is not an IP address of this host");
      return false;
    }
  }
  stream_ = nice_agent_add_stream(agent_, 1);
  if (stream_ == 0) {
    fail("ice", "cannot add an ICE stream");
    return false;
  }
  for (const auto& t : options_.ice.turn) {
    if (t.transport != TurnServer::Transport::Udp && !options_.tcp) continue;  // --no-tcp: no TCP at all
    std::string host = t.host;
    uint16_t port = t.port;
    if (t.transport == TurnServer::Transport::Tls) {
      // libnice (RFC 5245 mode) would speak plain TCP to a TLS server and verify nothing: it gets a
      // loopback bridge that carries its TURN/TCP connection over verified TLS (turn_tls_bridge.h).
      auto server = IpAddress::parse(t.host);
      if (!server || server->family() != Family::V4) continue;  // the bridge listens on 127.0.0.1
      auto bridge = TurnTlsBridge::start({Endpoint(*server, t.port), options_.turnCa, ""});
      if (!bridge) continue;
      host = (*bridge)->local().ip().toString();
      port = (*bridge)->local().port();
      tlsBridges_.push_back(std::move(*bridge));
    }
    nice_agent_set_relay_info(agent_, stream_, kComponent, host.c_str(), port, t.username.c_str(),
                              t.password.c_str(),
                              t.transport == TurnServer::Transport::Udp ? NICE_RELAY_TYPE_TURN_UDP : NICE_RELAY_TYPE_TURN_TCP);
  }
  g_signal_connect(G_OBJECT(agent_), "new-candidate-full", G_CALLBACK(onCandidateFull), this);
  g_signal_connect(G_OBJECT(agent_), "candidate-gathering-done", G_CALLBACK(onGatheringDoneSignal), this);
  g_signal_connect(G_OBJECT(agent_), "component-state-changed", G_CALLBACK(onStateSignal), this);
  g_signal_connect(G_OBJECT(agent_), "new-selected-pair-full", G_CALLBACK(onSelectedPairSignal), this);
  nice_agent_attach_recv(agent_, stream_, kComponent, context_, onReceiveCb, this);
  return true;
}

bool PeerSession::start() {
  if (!createAgent()) return false;
  if (!nice_agent_gather_candidates(agent_, stream_)) {
    fail("ice", "candidate gathering failed to start");
    return false;
  }
  sendDescription(sig::EnvelopeType::Offer);
  return true;
}

void PeerSession::sendDescription(sig::EnvelopeType type) {
  gchar* ufrag = nullptr;
  gchar* pwd = nullptr;
  if (!nice_agent_get_local_credentials(agent_, stream_, &ufrag, &pwd)) {
    fail("ice", "no local ICE credentials");
    return;
  }
  std::string fingerprint = dtls_->localFingerprint();
  if (options_.testBadFingerprint) fingerprint.back() = fingerprint.back() == '0' ? '1' : '0';
  Json body = {{"session", id_}, {"gen", generation_}, {"ufrag", ufrag}, {"pwd", pwd}, {"fingerprint", fingerprint},
               {"setup", controlling_ ? "active" : "passive"}};
  if (upgrading_ && controlling_) body["restart"] = "upgrade";
  g_free(ufrag);
  g_free(pwd);
  if (webrtc_) body = webrtcDescription(type);
  host_.sendSignal(remote_, type, body);
  descriptionSent_ = true;
  for (const auto& c : queuedCandidates_) host_.sendSignal(remote_, sig::EnvelopeType::Candidate, candidateBody(c));
  queuedCandidates_.clear();
  if (gatheringDone_) host_.sendSignal(remote_, sig::EnvelopeType::EndOfCandidates, endOfCandidatesBody());
}

void PeerSession::onCandidate(NiceCandidate* c) {
  gchar* sdp = nice_agent_generate_local_candidate_sdp(agent_, c);
  if (!sdp) return;
  std::string line = sdp;
  g_free(sdp);
  if (descriptionSent_)
    host_.sendSignal(remote_, sig::EnvelopeType::Candidate, candidateBody(line));
  else
    queuedCandidates_.push_back(line);
}

void PeerSession::onGatheringDone() {
  gatheringDone_ = true;
  if (!times_.gathered) times_.gathered = Clock::now();
  if (descriptionSent_) host_.sendSignal(remote_, sig::EnvelopeType::EndOfCandidates, endOfCandidatesBody());
}

void PeerSession::sendAllLocalCandidates() {
  GSList* cands = nice_agent_get_local_candidates(agent_, stream_, kComponent);
  for (GSList* i = cands; i; i = i->next) {
    gchar* sdp = nice_agent_generate_local_candidate_sdp(agent_, static_cast<NiceCandidate*>(i->data));
    if (sdp) {
      host_.sendSignal(remote_, sig::EnvelopeType::Candidate, candidateBody(sdp));
      g_free(sdp);
    }
  }
  g_slist_free_full(cands, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
  if (gatheringDone_) host_.sendSignal(remote_, sig::EnvelopeType::EndOfCandidates, endOfCandidatesBody());
}

void PeerSession::applyRemoteDescription(const Json& body) {
  if (webrtc_) {
    if (!applyRemoteSdp(body)) return;
  } else {
    applyNativeDescription(body);
    if (failed_) return;
  }
  remoteDescription_ = true;
  remoteGatheringDone_ = false;
  if (!times_.remoteDescription) times_.remoteDescription = Clock::now();
  std::vector<Bytes> earlyDtls;
  earlyDtls.swap(earlyDtls_);
  for (const auto& d : earlyDtls) onReceive(d.data(), d.size());
  std::vector<Json> early;
  early.swap(earlyCandidates_);
  for (const auto& c : early) handleSignal(c.value("eoc", false) ? sig::EnvelopeType::EndOfCandidates : sig::EnvelopeType::Candidate, c);
}

void PeerSession::applyNativeDescription(const Json& body) {
  const std::string ufrag = body.value("ufrag", ""), pwd = body.value("pwd", ""), fp = body.value("fingerprint", "");
  if (ufrag.empty() || pwd.empty() || fp.rfind("sha-256 ", 0) != 0) {
    fail("bad-signal", "the peer's offer/answer lacks ufrag, pwd or a sha-256 fingerprint");
    return;
  }
  dtls_->setRemoteFingerprint(fp);
  nice_agent_set_remote_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str());
}

void PeerSession::applyRemoteCandidate(const Json& body) {
  const std::string sdp = toNiceCandidate(body.value("candidate", ""));
  if (sdp.size() <= 2) return;  // an empty candidate (a browser's end-of-generation marker)
  if (sdp.find(" typ relay") == std::string::npos) remoteHasDirect_ = true;
  NiceCandidate* c = nice_agent_parse_remote_candidate_sdp(agent_, stream_, sdp.c_str());
  if (!c) return;  // a candidate we cannot use (e.g. another address family): skip it
  GSList* list = g_slist_append(nullptr, c);
  nice_agent_set_remote_candidates(agent_, stream_, kComponent, list);
  g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
  if (!times_.firstCheck) times_.firstCheck = Clock::now();  // libnice checks the new pairs at once
}

void PeerSession::handleSignal(sig::EnvelopeType type, const Json& body) {
  if (failed_) return;
  const uint32_t gen = body.contains("gen") && body["gen"].is_number_unsigned() ? body["gen"].get<uint32_t>() : 0;
  switch (type) {
    case sig::EnvelopeType::Offer: {
      if (controlling_) return;  // glare cannot happen: only the offerer restarts
      if (!agent_) {
        webrtc_ = body.value("kind", "") == "webrtc";  // a browser's offer: answer in kind
        if (!createAgent()) return;
        generation_ = gen;
        applyRemoteDescription(body);
        if (!nice_agent_gather_candidates(agent_, stream_)) return fail("ice", "candidate gathering failed to start");
        sendDescription(sig::EnvelopeType::Answer);
        return;
      }
      if (gen <= generation_ || webrtc_) return;  // a repeat (WebRTC sessions do not restart)
      // ICE restart (RFC 8445 §9): new credentials on both sides, the local candidates again. An
      // upgrade restart keeps using the current path meanwhile; any other means the path is gone.
      const bool upgrade = body.value("restart", "") == "upgrade" && fastUp_;
      if (fastUp_ && !upgrade) goDown("ice-restart", /*askForRestart=*/false);
      generation_ = gen;
      nominated_ = false;
      upgrading_ = upgrade;
      upgradeStarted_ = Clock::now();
      if (!upgrade) iceReady_ = false;
      remoteDescription_ = false;
      nice_agent_restart_stream(agent_, stream_);
      applyRemoteDescription(body);
      sendDescription(sig::EnvelopeType::Answer);
      sendAllLocalCandidates();
      return;
    }
    case sig::EnvelopeType::Answer:
      if (!controlling_ || gen != generation_ || remoteDescription_) return;
      applyRemoteDescription(body);
      return;
    case sig::EnvelopeType::Candidate:
    case sig::EnvelopeType::EndOfCandidates: {
      if (!agent_ || gen < generation_) return;
      if (gen > generation_ || !remoteDescription_) {
        Json early = body;
        early["eoc"] = type == sig::EnvelopeType::EndOfCandidates;
        earlyCandidates_.push_back(early);
        return;
      }
      if (type == sig::EnvelopeType::Candidate) {
        applyRemoteCandidate(body);
      } else if (!remoteGatheringDone_) {
        remoteGatheringDone_ = true;
        nice_agent_peer_candidate_gathering_done(agent_, stream_);
      }
      return;
    }
    case sig::EnvelopeType::Message: {
      // A data-channel peer sends numbered messages through the hub only once its path broke.
      if (webrtc_) fallBackToHub("peer-fell-back");
      if (body.contains("control")) {
        if (body["control"] == "restart-request" && controlling_ && gen == generation_) {
          if (fastUp_) goDown("peer-lost-path");
          if (Clock::now() - lastRestart_ > std::chrono::milliseconds(500)) restartIce();
        }
        return;
      }
      if (!body.contains("seq") || !body["seq"].is_number_unsigned() || !body.contains("data") || !body["data"].is_string())
        return;
      for (auto& d : in_.accept(body["seq"].get<uint64_t>(), body["data"].get<std::string>(), Path::Hub))
        host_.onDelivered(*this, d);
      return;
    }
    case sig::EnvelopeType::Bye:
      return;  // the agent closes the session
  }
}

void PeerSession::onComponentState(unsigned state) {
  if (failed_) return;
  if (state == NICE_COMPONENT_STATE_READY) {
    nominated_ = true;
    if (!times_.nominated) times_.nominated = Clock::now();
    upgrading_ = false;
    maybeAnnounce(Clock::now());
  }
  if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) {
    if (iceReady_) return;
    iceReady_ = true;
    if (dtls_->role() == DtlsTransport::Role::Client && !dtls_->connected() && !dtls_->failed()) dtls_->start();
    flushDtls();
    maybePing(Clock::now(), /*atOnce=*/true);  // e.g. after a restart with DTLS still up: no wait for a tick
  } else if (state == NICE_COMPONENT_STATE_FAILED) {
    iceReady_ = false;
    if (webrtc_) {
      fallBackToHub("ice-failed");
      return;
    }
    if (fastUp_) goDown("ice-failed");  // includes consent lost (RFC 7675)
  }
}

void PeerSession::flushDtls() {
  if (!dtls_) return;
  for (const auto& d : dtls_->takeOutgoing())
    nice_agent_send(agent_, stream_, kComponent, static_cast<guint>(d.size()), reinterpret_cast<const gchar*>(d.data()));
  // A browser closing its RTCPeerConnection ends DTLS with close_notify; its bye follows via the hub.
  if (dtls_->failed() && webrtc_ && dtls_->closedByPeer()) {
    if (fastUp_) host_.emit({{"event", "channel-closed"}, {"peer", remote_.hex()}, {"reason", "the peer closed DTLS"}});
    fastUp_ = false;
    return;
  }
  if (dtls_->failed()) {
    const bool mismatch = dtls_->error().rfind("dtls-fingerprint-mismatch", 0) == 0;
    fail(mismatch ? "dtls-fingerprint-mismatch" : "dtls", dtls_->error());
  }
}

void PeerSession::onReceive(const uint8_t* data, size_t len) {
  if (failed_ || len == 0) return;
  const uint8_t first = data[0];
  if (first >= 20 && first <= 63) {  // DTLS (RFC 7983)
    if (webrtc_ && !remoteDescription_) {
      if (earlyDtls_.size() < 16) earlyDtls_.emplace_back(data, data + len);
      return;
    }
    if (dropGeneration_ && *dropGeneration_ == generation_) {
      ++droppedForTest_;
      return;
    }
    const bool wasConnected = dtls_->connected();
    dtls_->handleDatagram(ByteSpan(data, len));
    lastHeard_ = Clock::now();
    if (webrtc_) {
      if (!wasConnected && dtls_->connected()) onWebRtcDtlsUp();
      onWebRtcRecords(dtls_->takeReceived());
      flushDtls();
      return;
    }
    for (const auto& r : dtls_->takeReceived()) {
      auto j = Json::parse(r.begin(), r.end(), nullptr, false);
      if (j.is_object()) handleRecord(j);
    }
    if (!wasConnected && dtls_->connected()) {
      if (!times_.dtls) times_.dtls = Clock::now();
      // SRTP keys are set up with the first media packet (setupSrtp), not here on the way to the first byte.
      // At once, not at the next tick: the server's ping leaves right behind its last handshake flight, so
      // the client's first byte costs no extra round trip (handleRecord); the client's ping gives the RTT.
      maybePing(Clock::now(), /*atOnce=*/true);
    }
    flushDtls();
  } else if (first >= 128 && first <= 191) {  // RTP/RTCP: SRTP media
    if (!srtpIn_) setupSrtp();
    if (!srtpIn_) return;
    Bytes packet(data, data + len);
    if (srtpIn_->unprotect(packet)) media_.onPacket(packet, Clock::now());
  }
}

void PeerSession::setupSrtp() {
  if (srtpTried_ || !dtls_ || !dtls_->connected()) return;
  srtpTried_ = true;
  auto keys = dtls_->exportSrtpKeys();
  if (!keys) return;  // media is optional; messages still work
  const bool client = dtls_->role() == DtlsTransport::Role::Client;
  auto outS = SrtpSession::create(client ? keys->client : keys->server, SrtpSession::Direction::Outbound);
  auto inS = SrtpSession::create(client ? keys->server : keys->client, SrtpSession::Direction::Inbound);
  if (outS && inS) {
    srtpOut_ = std::move(*outS);
    srtpIn_ = std::move(*inS);
  }
}

void PeerSession::sendRecord(const Json& record) {
  const std::string text = record.dump(-1, ' ', false, Json::error_handler_t::replace);
  dtls_->send(asBytes(text));
  flushDtls();
}

void PeerSession::handleRecord(const Json& r) {
  const std::string t = r.value("t", "");
  const auto now = Clock::now();
  if (t == "ping") {
    sendRecord({{"t", "pong"}, {"id", r.value("id", uint64_t{0})}});
    // First connection: the peer's ping is its first application record, and the DTLS handshake that
    // carried our Finished proved the other direction, so the fast path is up without waiting a round
    // trip for our own ping's pong. After a restart only a pong in the new generation counts (below).
    if (!everConnected_) bringUp(now);
  } else if (t == "pong") {
    auto it = pingsOut_.find(r.value("id", uint64_t{0}));
    if (it == pingsOut_.end()) return;
    rttMs_ = msBetween(it->second, now);
    pingsOut_.erase(pingsOut_.begin(), std::next(it));
    bringUp(now);
  } else if (t == "data") {
    if (!r.contains("seq") || !r["seq"].is_number_unsigned() || !r.contains("d") || !r["d"].is_string()) return;
    const uint64_t seq = r["seq"].get<uint64_t>();
    ++fastRecordsReceived_;
    for (auto& d : in_.accept(seq, r["d"].get<std::string>(), Path::Fast)) host_.onDelivered(*this, d);
    sendRecord({{"t", "ack"}, {"upto", in_.delivered()}, {"seq", seq}});
    if (options_.testDropFastAfter != 0 && !dropGeneration_ && fastRecordsReceived_ >= options_.testDropFastAfter)
      dropGeneration_ = generation_;
  } else if (t == "ack") {
    out_.ackUpTo(r.value("upto", uint64_t{0}));
    out_.ack(r.value("seq", uint64_t{0}));
  } else if (t == "ctl") {
    host_.onControl(*this, r);
  }
}

void PeerSession::bringUp(Clock::time_point now) {
  if (fastUp_ || !(downGeneration_ == UINT32_MAX || generation_ > downGeneration_)) return;
  fastUp_ = true;
  const bool first = !everConnected_;
  everConnected_ = true;
  if (first) {
    firstByteAt_ = now;
    announcePending_ = true;
    maybeAnnounce(now);
  } else {
    Json e = {{"event", "restored"}, {"peer", remote_.hex()}, {"generation", generation_}};
    if (auto p = selectedPair()) {
      e["local"] = p->local;
      e["remote"] = p->remote;
      e["path"] = p->path();
    }
    host_.emit(e);
  }
  // Whatever waits for the fast path goes now (new messages; the hub keeps what it carries).
  for (auto& [seq, p] : out_.pending())
    if (p.sentVia == Path::None) sendViaFast(seq);
}

void PeerSession::maybePing(Clock::time_point now, bool atOnce) {
  const bool upAllowed = downGeneration_ == UINT32_MAX || generation_ > downGeneration_;
  if (!iceReady_ || !dtls_->connected() || !(fastUp_ || upAllowed)) return;
  if (!atOnce && now - lastPing_ < options_.pingInterval) return;
  lastPing_ = now;
  const uint64_t id = nextPingId_++;
  pingsOut_[id] = now;
  if (pingsOut_.size() > 64) pingsOut_.erase(pingsOut_.begin());
  sendRecord({{"t", "ping"}, {"id", id}});
}

uint64_t PeerSession::sendMessage(const std::string& body) {
  if (webrtc_) return sendOnChannel(body) ? 1 : 0;
  const uint64_t seq = out_.push(body);
  if (fastUp_)
    sendViaFast(seq);
  else if (everConnected_)
    sendViaHub(seq);
  // else: waits for the first connection (sent by the pong that brings the path up)
  return seq;
}

void PeerSession::sendViaFast(uint64_t seq) {
  auto it = out_.pending().find(seq);
  if (it == out_.pending().end()) return;
  out_.markSent(seq, Path::Fast, Clock::now());
  sendRecord({{"t", "data"}, {"seq", seq}, {"d", it->second.body}});
}

void PeerSession::sendViaHub(uint64_t seq) {
  auto it = out_.pending().find(seq);
  if (it == out_.pending().end()) return;
  const uint64_t envSeq = host_.sendSignal(remote_, sig::EnvelopeType::Message,
                                           {{"session", id_}, {"seq", seq}, {"data", it->second.body}});
  out_.markSent(seq, Path::Hub, Clock::now());
  if (envSeq != 0) hubInFlight_[envSeq] = seq;
}

void PeerSession::hubAck(uint64_t envelopeSeq, bool ok) {
  auto it = hubInFlight_.find(envelopeSeq);
  if (it == hubInFlight_.end()) return;
  const uint64_t seq = it->second;
  hubInFlight_.erase(it);
  if (ok) {
    out_.ack(seq);  // delivered to the peer's live connection, or stored durably for it
  } else {
    // Refused (e.g. rate-limited): try again soon.
    out_.markSent(seq, Path::Hub, Clock::now() - kHubRetransmit + std::chrono::milliseconds(300));
  }
}

bool PeerSession::sendControl(const Json& ctl) {
  if (!fastUp_ || webrtc_) return false;
  Json r = ctl;
  r["t"] = "ctl";
  sendRecord(r);
  return true;
}

bool PeerSession::sendRtp(Bytes rtp) {
  if (!fastUp_ || webrtc_) return false;
  if (!srtpOut_) setupSrtp();
  if (!srtpOut_) return false;
  if (!srtpOut_->protect(rtp)) return false;
  return nice_agent_send(agent_, stream_, kComponent, static_cast<guint>(rtp.size()),
                         reinterpret_cast<const gchar*>(rtp.data())) >= 0;
}

void PeerSession::goDown(const std::string& reason, bool askForRestart) {
  if (!fastUp_) return;
  fastUp_ = false;
  upgrading_ = false;
  downGeneration_ = generation_;
  host_.emit({{"event", "fallback"}, {"peer", remote_.hex()}, {"reason", reason}, {"generation", generation_},
              {"unacknowledged", out_.pending().size()}});
  // Everything the fast path did not confirm goes over the hub now, in order.
  for (auto& [seq, p] : out_.pending())
    if (p.sentVia != Path::Hub) sendViaHub(seq);
  if (controlling_)
    restartIce();
  else if (askForRestart)
    host_.sendSignal(remote_, sig::EnvelopeType::Message, {{"session", id_}, {"gen", generation_}, {"control", "restart-request"}});
}

void PeerSession::restartIce(bool upgrade) {
  lastRestart_ = Clock::now();
  ++generation_;
  nominated_ = false;
  upgrading_ = upgrade;
  upgradeStarted_ = lastRestart_;
  if (!upgrade) iceReady_ = false;
  remoteDescription_ = false;
  remoteGatheringDone_ = false;
  if (!nice_agent_restart_stream(agent_, stream_)) return fail("ice", "ICE restart failed");
  host_.emit({{"event", "ice-restart"}, {"peer", remote_.hex()}, {"generation", generation_},
              {"reason", upgrade ? "upgrade" : "path-lost"}});
  sendDescription(sig::EnvelopeType::Offer);
  sendAllLocalCandidates();
}

void PeerSession::tick(Clock::time_point now) {
  if (failed_ || !dtls_) return;
  if (webrtc_) return tickWebRtc(now);
  maybeAnnounce(now);
  dtls_->handleTimeout();
  flushDtls();
  if (failed_) return;
  maybePing(now, /*atOnce=*/false);
  if (fastUp_) {
    const auto oldest = out_.oldestSentVia(Path::Fast);
    if (now - lastHeard_ > options_.pathTimeout)
      goDown("path-silent");
    else if (oldest && now - *oldest > options_.pathTimeout)
      goDown("unacknowledged");
  }
  if (everConnected_ && !fastUp_) {
    for (auto& [seq, p] : out_.pending())
      if (p.sentVia != Path::Hub || now - p.sentAt > kHubRetransmit) sendViaHub(seq);
    if (controlling_ && now - lastRestart_ > kRestartRetry) restartIce();
  }
}

void PeerSession::maybeAnnounce(Clock::time_point now) {
  if (!announcePending_ || failed_) return;
  if (upgrading_ && now - upgradeStarted_ > std::chrono::seconds(3)) upgrading_ = false;  // announce what we have
  if (upgrading_) return;
  auto pair = selectedPair();
  if (!pair || (!nominated_ && now - firstByteAt_ < std::chrono::seconds(2))) return;
  if (!rttMs_ && now - firstByteAt_ < std::chrono::seconds(2)) return;  // our ping's pong: one RTT away
  // Relayed although the peer offered direct candidates: libnice's regular nomination stops at two
  // valid pairs, and a relayed pair is often valid before a direct check got through a NAT filter
  // that opened a moment later. One restart checks again through the opened filters.
  if (!webrtc_ && controlling_ && !upgradeTried_ && !options_.relayOnly && remoteHasDirect_ && pair->path() == "relayed" &&
      nominated_ && fastUp_) {
    upgradeTried_ = true;
    restartIce(/*upgrade=*/true);
    return;
  }
  // The answerer sees the same condition and expects that restart: it waits for it (at most 3 s,
  // see above) so that both ends report the same, final pair.
  if (!webrtc_ && !controlling_ && !upgradeTried_ && !options_.relayOnly && remoteHasDirect_ && pair->path() == "relayed" &&
      nominated_ && fastUp_) {
    upgradeTried_ = true;
    upgrading_ = true;
    upgradeStarted_ = now;
    return;
  }
  announcePending_ = false;
  announced_ = true;
  host_.onConnected(*this);
}

void PeerSession::announceNow() {
  if (!announcePending_ || failed_) return;
  announcePending_ = false;
  announced_ = true;
  upgrading_ = false;
  host_.onConnected(*this);
}

void PeerSession::onSelectedPair() {
  // libnice selects a pair when it nominates one (regular nomination), long before the component
  // turns READY (that waits for every other check to succeed or time out).
  nominated_ = true;
  upgrading_ = false;
  if (!times_.nominated) times_.nominated = Clock::now();
  if (!announced_) {
    maybeAnnounce(Clock::now());
    return;
  }
  if (!fastUp_) return;
  if (auto p = selectedPair())
    host_.emit({{"event", "pair-changed"}, {"peer", remote_.hex()}, {"generation", generation_}, {"local", p->local},
                {"remote", p->remote}, {"path", p->path()}, {"transport", p->transport}});
}

std::optional<SelectedPair> PeerSession::selectedPair() const {
  if (!agent_) return std::nullopt;
  NiceCandidate* local = nullptr;
  NiceCandidate* remote = nullptr;
  if (!nice_agent_get_selected_pair(agent_, stream_, kComponent, &local, &remote)) return std::nullopt;
  SelectedPair p;
  p.local = candidateTypeName(local->type);
  p.remote = candidateTypeName(remote->type);
  p.transport = local->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp";
  p.localAddress = addressText(local->addr);
  p.remoteAddress = addressText(remote->addr);
  return p;
}

}  // namespace rdv::agent
