#include "signalling/agent/peer_agent.h"
#include "signalling/agent/node_list.h"

#include <glib-unix.h>
#include <glib.h>
#include <openssl/rand.h>

#include <cmath>
#include <ctime>
#include <fstream>
#include <future>
#include <iostream>
#include <unordered_map>

#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/api_signature.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/unregister_message.h"
#include "signalling/agent/peer_session.h"
#include "rendezvous/client/http_client.h"
#include "rendezvous/client/ws_client.h"
#include "signalling/envelope/envelope.h"
#include "signalling/envelope/replay_guard.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"

namespace rdv::agent {

namespace {

namespace sig = rdv::signalling;
using identity::NodeId;

constexpr auto kTick = std::chrono::milliseconds(20);
constexpr uint64_t kStaleOfferMs = 60'000;  // offers older than this (from the mailbox) are ignored
// The listener registers again (same record: the node refreshes its TTL) well within the default 2 h.
constexpr auto kReregister = std::chrono::minutes(30);

uint64_t unixMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

std::string randomHex(size_t bytes) {
  Bytes b(bytes);
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  return toHex(b);
}

class Agent final : public SessionHost {
 public:
  explicit Agent(const AgentOptions& o) : o_(o), start_(Clock::now()) {}
  ~Agent() override;
  int run();

  // SessionHost
  uint64_t sendSignal(const NodeId& to, sig::EnvelopeType type, const Json& body) override;
  void emit(const Json& event) override;
  void onConnected(PeerSession& s) override;
  void onDelivered(PeerSession& s, const InboundOrder::Delivery& d) override;
  void onControl(PeerSession& s, const Json& ctl) override;
  void onFailed(PeerSession& s, const std::string& code, const std::string& message) override;

 private:
  struct Peer {
    identity::PublicKey key;
    std::unique_ptr<PeerSession> session;
    bool dead = false;
    // listen side
    uint64_t received = 0, viaFast = 0, viaHub = 0;
    bool reported = false;
  };

  int error(const std::string& code, const std::string& message, int exitCode = 1);
  Result<identity::PublicKey, std::string> resolvePeer();
  Result<IceConfig, std::string> fetchIceServers();
  Result<bool, std::string> registerRecord();
  Result<bool, std::string> connectHub();
  void drainHub();
  bool failover();  // the hub connection dropped: log in at the next node of the fleet
  void handleFrame(const std::string& text);
  void handleEnvelope(const sig::Envelope& e);
  void tick();
  void finish(int code);
  SessionOptions sessionOptions() const;
  void startCall(PeerSession& s);
  void tickCall(PeerSession& s, Clock::time_point now);
  Json phases(const PeerSession& s, Clock::time_point from) const;

  static gboolean onHubReadable(gint, GIOCondition, gpointer data);
  static gboolean onTick(gpointer data);
  static gboolean onDeadline(gpointer data);

  AgentOptions o_;
  Clock::time_point start_;
  std::optional<identity::PrivateKey> key_;
  cli::HttpUrl url_;
  std::optional<cli::HttpUrl> iceUrl_;  // --ice-node: the ICE servers' node, if not url_
  const cli::HttpUrl& iceUrl() const { return iceUrl_ ? *iceUrl_ : url_; }
  std::unique_ptr<NodeList> nodes_;
  IceConfig ice_;
  std::unique_ptr<cli::WebSocketClient> ws_;
  uint64_t storedToConfirm_ = 0;
  sig::ReplayGuard guard_;
  sig::CryptoRng rng_;
  uint64_t lastSeq_ = 0;
  std::unordered_map<NodeId, Peer, identity::NodeIdHash> peers_;
  std::unordered_map<uint64_t, NodeId> inFlight_;  // envelope seq -> recipient (for acks)

  GMainContext* context_ = nullptr;
  GMainLoop* loop_ = nullptr;
  std::vector<GSource*> sources_;
  int exitCode_ = 1;
  bool finished_ = false;

  // connect/call
  std::optional<NodeId> target_;
  bool connected_ = false;
  unsigned sent_ = 0, received_ = 0, viaFast_ = 0, viaHub_ = 0;
  bool inOrder_ = true;
  Clock::time_point nextSend_{};
  // call
  std::optional<Clock::time_point> callStart_;
  uint64_t rtpSent_ = 0, rtpBytes_ = 0;
  uint16_t rtpSeq_ = 0;
  uint32_t ssrc_ = 0;
  Clock::time_point lastCallEnd_{};
  Clock::time_point registeredAt_{};
  // When the steps before the session ended (connect/call; the `phases` of the `connected` line).
  std::optional<Clock::time_point> peerLookupAt_, iceServersAt_, hubLoginAt_;
  // listen: the ICE servers (TURN credentials) are fetched again at half their ttl, in the background, so
  // that an offer never waits for them and never gets expired credentials.
  std::future<Result<IceConfig, std::string>> iceRefresh_;
  Clock::time_point iceFetchedAt_{};
  void refreshIceServers(Clock::time_point now);
};

Agent::~Agent() {
  peers_.clear();  // sessions unref their NiceAgents while the context still exists
  for (GSource* s : sources_) {
    g_source_destroy(s);
    g_source_unref(s);
  }
  if (context_) {
    while (g_main_context_iteration(context_, FALSE)) {
    }
  }
  if (loop_) g_main_loop_unref(loop_);
  if (context_) g_main_context_unref(context_);
}

void Agent::emit(const Json& event) {
  std::cout << event.dump(-1, ' ', false, Json::error_handler_t::replace) << std::endl;
}

int Agent::error(const std::string& code, const std::string& message, int exitCode) {
  emit({{"event", "error"}, {"error", code}, {"message", message}});
  return exitCode;
}

Result<identity::PublicKey, std::string> Agent::resolvePeer() {
  std::string text = o_.to;
  if (text.rfind("enr:", 0) != 0) {
    if (auto id = NodeId::fromHex(text)) {
      // A node id: find its record in the namespace.
      auto reply = cli::httpRequest(url_, {"GET", "/v1/registrations?namespace=" + cli::urlEncode(o_.ns) + "&limit=1000",
                                           "", std::chrono::milliseconds(10000), nullptr, ""});
      if (!reply) return unexpected(reply.error());
      auto j = Json::parse(reply->body, nullptr, false);
      if (reply->status != 200 || !j.is_object() || !j.contains("registrations") || !j["registrations"].is_array())
        return unexpected("discover in namespace '" + o_.ns + "' failed (HTTP " + std::to_string(reply->status) + ")");
      text.clear();
      for (const auto& r : j["registrations"])
        if (r.is_object() && NodeId::fromHex(r.value("node_id", "")) == id) text = r.value("enr", "");
      if (text.empty())
        return unexpected("node " + id->hex() + " is not registered in namespace '" + o_.ns + "' (is rdv listen running?)");
    } else {
      std::ifstream f(o_.to);
      if (f) std::getline(f, text);
    }
  }
  auto record = enr::EnrRecord::fromText(text);
  if (!record) return unexpected("--to: not a node id, an ENR or a file holding one: " + std::string(enr::describe(record.error())));
  return record->publicKey();
}

Result<IceConfig, std::string> Agent::fetchIceServers() {
  auto info = cli::httpRequest(iceUrl(), {"GET", "/v1/node", "", std::chrono::milliseconds(10000), nullptr, ""});
  if (!info) return unexpected(info.error());
  auto j = Json::parse(info->body, nullptr, false);
  auto nodeId = j.is_object() && j.contains("node_id") && j["node_id"].is_string()
                    ? NodeId::fromHex(j["node_id"].get<std::string>())
                    : std::nullopt;
  if (info->status != 200 || !nodeId) return unexpected(std::string("GET /v1/node did not give a node id"));
  const int64_t now = std::time(nullptr);
  auto s = key_->signRecoverable(identity::apiRequestDigest(identity::kIceServersDomain, *nodeId, now));
  if (!s) return unexpected(std::string("cannot sign the ice-servers request"));
  const std::string auth = "RDV-Sig " + key_->nodeId().hex() + ":" + std::to_string(now) + ":" + toHex(*s);
  auto reply = cli::httpRequest(iceUrl(), {"GET", "/v1/ice-servers", "", std::chrono::milliseconds(10000), nullptr, auth});
  if (!reply) return unexpected(reply.error());
  if (reply->status == 503) {
    std::cerr << "rdv: the node issues no TURN credentials (no auth-secret): host and STUN candidates only\n";
    return IceConfig{};
  }
  if (reply->status != 200) return unexpected("GET /v1/ice-servers: HTTP " + std::to_string(reply->status) + ": " + reply->body);
  return parseIceServers(Json::parse(reply->body, nullptr, false));
}

Result<bool, std::string> Agent::registerRecord() {
  // Proof of possession (docs/registry.md): the record's own key signs (namespace, ttl 0 = default, time).
  auto record = enr::EnrRecord::fromText(o_.enr);
  if (!record) return unexpected(std::string("register: the record does not parse"));
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto signature = key_->sign(registry::registerDigest(o_.ns, record->encoded(), 0, now));
  if (!signature) return unexpected(std::string("register: cannot sign the request"));
  Json body = {{"namespace", o_.ns}, {"enr", o_.enr}, {"time", now}, {"signature", toHex(*signature)}};
  auto reply = cli::httpRequest(url_, {"POST", "/v1/registrations", body.dump(), std::chrono::milliseconds(10000), nullptr, ""});
  if (!reply) return unexpected(reply.error());
  if (reply->status != 201) return unexpected("register: HTTP " + std::to_string(reply->status) + ": " + reply->body);
  return true;
}

Result<bool, std::string> Agent::connectHub() {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  auto ws = cli::WebSocketClient::connect(o_.node, "/v1/signal", std::chrono::seconds(10));
  if (!ws) return unexpected(ws.error());
  while (true) {
    auto text = (*ws)->receive(deadline);
    if (!text) return unexpected("no answer from the hub (" + (*ws)->closeReason() + ")");
    auto frame = sig::decodeFrame(*text);
    if (!frame) continue;
    if (auto* c = std::get_if<sig::ChallengeFrame>(&*frame)) {
      auto s = sig::signChallenge(*key_, c->hub, c->nonce);
      if (!s) return unexpected(std::string("cannot sign the hub's challenge"));
      (*ws)->sendText(sig::encodeFrame(sig::AuthFrame{key_->nodeId(), *s, o_.presence}));
    } else if (auto* w = std::get_if<sig::WelcomeFrame>(&*frame)) {
      storedToConfirm_ = w->stored;
      ws_ = std::move(*ws);
      return true;
    } else if (auto* e = std::get_if<sig::ErrorFrame>(&*frame)) {
      return unexpected("the hub refused authentication: " + e->code + ": " + e->message);
    }
  }
}

uint64_t Agent::sendSignal(const NodeId& to, sig::EnvelopeType type, const Json& body) {
  auto it = peers_.find(to);
  if (it == peers_.end() || !ws_ || ws_->closed()) return 0;
  const uint64_t now = unixMs();
  lastSeq_ = std::max(lastSeq_ + 1, now * 1000);  // docs/signalling.md: seq from the clock
  sig::EnvelopeHeader h{key_->nodeId(), to, type, lastSeq_, now};
  const std::string text = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  auto e = sig::seal(*key_, it->second.key, h, asBytes(text), rng_);
  if (!e) return 0;
  if (!ws_->sendText(sig::encodeFrame(sig::EnvelopeFrame{*e}))) return 0;
  inFlight_[lastSeq_] = to;
  if (inFlight_.size() > 4096) inFlight_.erase(inFlight_.begin());
  return lastSeq_;
}

void Agent::drainHub() {
  while (ws_ && !ws_->closed()) {
    auto text = ws_->receive(Clock::now());
    if (!text) break;
    handleFrame(*text);
    if (finished_) return;
  }
  if (ws_ && ws_->closed() && !finished_) {
    const std::string why = std::to_string(ws_->closeCode()) + " " + ws_->closeReason();
    if (failover()) return;
    error("hub-closed", "the signalling connection closed: " + why);
    finish(1);
  }
}

// The node died or closed the hub connection: log in at the next node of the fleet that answers, in the
// order of --node and the directory. The registry and the mailbox are the fleet's, so the session goes
// on: envelopes for this peer are routed to the new node. A listener registers again there at once and
// fetches that node's TURN credentials.
bool Agent::failover() {
  if (!nodes_) return false;
  const std::string from = o_.node;
  const cli::HttpUrl fromUrl = url_;
  if (iceRefresh_.valid()) iceRefresh_.wait();  // it reads url_
  for (const std::string& next : nodes_->others()) {
    auto url = cli::parseHttpUrl(next);
    if (!url) continue;
    o_.node = next;
    url_ = *url;
    auto hub = connectHub();
    if (!hub) {
      std::cerr << "rdv: failover to " << next << ": " << hub.error() << "\n";
      continue;
    }
    nodes_->setCurrent(next);
    GSource* source = g_unix_fd_source_new(ws_->fd(), static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR));
    g_source_set_callback(source, G_SOURCE_FUNC(onHubReadable), this, nullptr);
    g_source_attach(source, context_);
    sources_.push_back(source);
    emit({{"event", "node-changed"}, {"from", from}, {"node", next}, {"reason", "hub connection lost"}});
    registeredAt_ = Clock::time_point{};  // tick(): register again (a node outside the fleet needs it)
    iceFetchedAt_ = Clock::time_point{};  // and that node's TURN credentials
    return true;
  }
  o_.node = from;
  url_ = fromUrl;
  return false;
}

void Agent::handleFrame(const std::string& text) {
  auto frame = sig::decodeFrame(text);
  if (!frame) return;  // e.g. a frame type newer than this client
  if (auto* ef = std::get_if<sig::EnvelopeFrame>(&*frame)) {
    handleEnvelope(ef->envelope);
  } else if (auto* a = std::get_if<sig::AckFrame>(&*frame)) {
    auto it = inFlight_.find(a->seq);
    if (it == inFlight_.end()) return;
    auto p = peers_.find(it->second);
    inFlight_.erase(it);
    if (p != peers_.end() && p->second.session) p->second.session->hubAck(a->seq, true);
  } else if (auto* err = std::get_if<sig::ErrorFrame>(&*frame)) {
    if (err->seq) {
      auto it = inFlight_.find(*err->seq);
      if (it != inFlight_.end()) {
        auto p = peers_.find(it->second);
        inFlight_.erase(it);
        if (p != peers_.end() && p->second.session) p->second.session->hubAck(*err->seq, false);
      }
    }
    // Errors without an envelope (e.g. a path-report the hub does not know yet) change nothing.
    if (err->code != "unknown-frame-type") std::cerr << "rdv: hub error " << err->code << ": " << err->message << "\n";
  }
}

void Agent::handleEnvelope(const sig::Envelope& envelope) {
  auto verified = sig::verify(envelope);
  if (!verified) return;
  if (!guard_.check(*verified)) return;
  auto body = sig::open(*verified, *key_);
  if (!body) return;
  guard_.accept(*verified);
  const auto& h = verified->header();
  if (storedToConfirm_ > 0) {
    --storedToConfirm_;
    ws_->sendText(sig::encodeFrame(sig::ReceivedFrame{h.from, h.seq}));
  }
  auto j = Json::parse(asString(*body), nullptr, false);
  if (!j.is_object() || !j.contains("session") || !j["session"].is_string()) return;
  const std::string sessionId = j["session"].get<std::string>();
  auto it = peers_.find(h.from);
  const bool known = it != peers_.end() && it->second.session && it->second.session->id() == sessionId;
  if (!known) {
    // Only a fresh offer to a listener opens a session.
    if (h.type != sig::EnvelopeType::Offer || o_.mode != AgentOptions::Mode::Listen) return;
    if (j.value("gen", 0u) != 0 || h.timestampMs + kStaleOfferMs < unixMs()) return;
    if (it != peers_.end()) peers_.erase(it);
    Peer p{verified->senderKey(), nullptr};
    auto [pos, inserted] = peers_.emplace(h.from, std::move(p));
    pos->second.session = std::make_unique<PeerSession>(*this, context_, sessionOptions(), h.from, sessionId, false);
    emit({{"event", "offer"}, {"peer", h.from.hex()}, {"session", sessionId}});
    it = pos;
  }
  if (h.type == sig::EnvelopeType::Bye) {
    Peer& p = it->second;
    // A fast peer can finish before this side's final pair was known (e.g. during its upgrade restart):
    // the session still connected, so say so before it closes.
    if (p.session) p.session->announceNow();
    if (o_.mode == AgentOptions::Mode::Listen)
      emit({{"event", "closed"}, {"peer", h.from.hex()}, {"received", p.received}, {"via_fast", p.viaFast},
            {"via_hub", p.viaHub}});
    p.dead = true;
    return;
  }
  it->second.session->handleSignal(h.type, j);
}

SessionOptions Agent::sessionOptions() const {
  SessionOptions s;
  s.ice = ice_;
  s.relayOnly = o_.relayOnly;
  s.tcp = o_.tcp;
  s.turnCa = o_.turnCa;
  s.localAddresses = o_.localAddresses;
  s.pathTimeout = std::chrono::milliseconds(o_.pathTimeoutMs);
  s.testDropFastAfter = o_.testDropFastAfter;
  s.testBadFingerprint = o_.testBadFingerprint;
  s.webrtc = o_.webrtc;
  return s;
}

void Agent::onConnected(PeerSession& s) {
  Json e = {{"event", "connected"}, {"peer", s.remote().hex()}};
  std::string local = "?", remote = "?", path = "?";
  if (auto p = s.selectedPair()) {
    local = p->local;
    remote = p->remote;
    path = p->path();
    e.update({{"local", local}, {"remote", remote}, {"path", path}, {"transport", p->transport},
              {"local_address", p->localAddress}, {"remote_address", p->remoteAddress}});
  }
  // From the command's start (connect/call), or from the offer's arrival (listen).
  const auto from = o_.mode == AgentOptions::Mode::Listen ? s.created() : start_;
  e["time_to_first_byte_ms"] = round3(std::chrono::duration<double, std::milli>(s.firstByteAt() - from).count());
  if (auto rtt = s.rttMs()) e["rtt_ms"] = round3(*rtt);
  e["phases"] = phases(s, from);
  emit(e);
  // Issue 7: tell the node which kind of path this session uses (older hubs answer an error: ignored).
  if (ws_) ws_->sendText(Json{{"type", "path-report"}, {"path", path}, {"local", local}, {"remote", remote}}.dump());
  if (o_.mode == AgentOptions::Mode::Listen) return;
  connected_ = true;
  nextSend_ = Clock::now();
  if (o_.mode == AgentOptions::Mode::Call) startCall(s);
}

// Where the time to the first byte went: when each step ended, in ms from the same origin as
// time_to_first_byte_ms (docs/agent.md "Where the time goes"); null when a step has not happened. A
// listener did its lookup-free set-up (ICE servers, hub login) before the offer came: 0.
Json Agent::phases(const PeerSession& s, Clock::time_point from) const {
  auto at = [from](std::optional<Clock::time_point> t) -> Json {
    if (!t) return nullptr;
    return round3(std::chrono::duration<double, std::milli>(*t - from).count());
  };
  const bool listen = o_.mode == AgentOptions::Mode::Listen;
  const SessionTimes& t = s.times();
  return {{"peer_lookup_ms", listen ? Json(0.0) : at(peerLookupAt_)},
          {"ice_servers_ms", listen ? Json(0.0) : at(iceServersAt_)},
          {"hub_login_ms", listen ? Json(0.0) : at(hubLoginAt_)},
          {"signalled_ms", at(t.remoteDescription)},
          {"first_check_ms", at(t.firstCheck)},
          {"gathering_ms", at(t.gathered)},
          {"nomination_ms", at(t.nominated)},
          {"dtls_ms", at(t.dtls)},
          {"first_byte_ms", at(s.firstByteAt())}};
}

void Agent::onDelivered(PeerSession& s, const InboundOrder::Delivery& d) {
  if (o_.mode == AgentOptions::Mode::Listen) {
    auto it = peers_.find(s.remote());
    if (it != peers_.end()) {
      ++it->second.received;
      ++(d.path == Path::Fast ? it->second.viaFast : it->second.viaHub);
    }
    s.sendMessage(d.body);  // echo: data flows both ways
    return;
  }
  if (d.body != "msg " + std::to_string(received_)) inOrder_ = false;
  ++received_;
  ++(d.path == Path::Fast ? viaFast_ : viaHub_);
}

void Agent::onControl(PeerSession& s, const Json& ctl) {
  const std::string kind = ctl.value("kind", "");
  if (o_.mode == AgentOptions::Mode::Listen && kind == "call-end") {
    std::optional<uint64_t> sent;
    if (ctl.contains("packets") && ctl["packets"].is_number_unsigned()) sent = ctl["packets"].get<uint64_t>();
    Json report = s.media().report(sent);
    auto it = peers_.find(s.remote());
    if (it != peers_.end() && !it->second.reported) {
      it->second.reported = true;
      Json e = {{"event", "call-report"}, {"role", "receiver"}, {"peer", s.remote().hex()}};
      e.update(report);
      emit(e);
    }
    s.sendControl({{"kind", "call-report"}, {"report", report}});
  } else if (o_.mode == AgentOptions::Mode::Call && kind == "call-report" && ctl.contains("report") &&
             ctl["report"].is_object() && !finished_) {
    Json e = {{"event", "call-report"}, {"role", "sender"}, {"peer", s.remote().hex()}, {"packets_sent", rtpSent_},
              {"bitrate_target_bps", o_.bitrate}};
    e.update(ctl["report"]);
    emit(e);
    finish(0);
  }
}

void Agent::onFailed(PeerSession& s, const std::string& code, const std::string& message) {
  if (o_.mode == AgentOptions::Mode::Listen) {
    emit({{"event", "error"}, {"peer", s.remote().hex()}, {"error", code}, {"message", message}});
    auto it = peers_.find(s.remote());
    if (it != peers_.end()) it->second.dead = true;
    return;
  }
  error(code, message);
  finish(1);
}

void Agent::startCall(PeerSession&) {
  callStart_ = Clock::now();
  RAND_bytes(reinterpret_cast<uint8_t*>(&ssrc_), sizeof(ssrc_));
}

void Agent::tickCall(PeerSession& s, Clock::time_point now) {
  if (!callStart_) return;
  const double elapsed = std::chrono::duration<double>(now - *callStart_).count();
  if (elapsed < o_.seconds) {
    // 50 packets a second at most this size; more (full-size) packets when the bitrate needs them.
    const uint64_t perPacket = std::clamp<uint64_t>(o_.bitrate / 8 / 50, 100, 1200);
    const double due = static_cast<double>(o_.bitrate) / 8.0 * elapsed;
    while (static_cast<double>(rtpBytes_) + static_cast<double>(perPacket) <= due + static_cast<double>(perPacket)) {
      const auto ts = static_cast<uint32_t>(elapsed * kRtpClockRate);
      if (!s.sendRtp(makeRtpPacket(rtpSeq_, ts, ssrc_, perPacket))) break;  // fast path down: media is not rerouted
      ++rtpSeq_;
      ++rtpSent_;
      rtpBytes_ += perPacket;
    }
    return;
  }
  if (now - lastCallEnd_ > std::chrono::milliseconds(300)) {
    lastCallEnd_ = now;
    s.sendControl({{"kind", "call-end"}, {"packets", rtpSent_}, {"bytes", rtpBytes_}});
  }
}

void Agent::refreshIceServers(Clock::time_point now) {
  if (iceRefresh_.valid()) {
    if (iceRefresh_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    auto r = iceRefresh_.get();
    if (r) {
      ice_ = synthesizeNat64(*r, iceUrl().host);
      iceFetchedAt_ = now;
    } else {
      std::cerr << "rdv listen: fetching the ICE servers again failed (retry in 30 s): " << r.error() << "\n";
      iceFetchedAt_ += std::chrono::seconds(30);
    }
    return;
  }
  if (ice_.ttlSeconds == 0 || now - iceFetchedAt_ < std::chrono::seconds(ice_.ttlSeconds / 2)) return;
  iceRefresh_ = std::async(std::launch::async, [this] { return fetchIceServers(); });
}

void Agent::tick() {
  const auto now = Clock::now();
  if (o_.mode == AgentOptions::Mode::Listen) refreshIceServers(now);
  if (o_.mode == AgentOptions::Mode::Listen && now - registeredAt_ > kReregister) {
    registeredAt_ = now;
    if (auto r = registerRecord(); !r) std::cerr << "rdv listen: registering again failed: " << r.error() << "\n";
  }
  for (auto it = peers_.begin(); it != peers_.end();) {
    if (it->second.dead) {
      it = peers_.erase(it);
      continue;
    }
    if (it->second.session) it->second.session->tick(now);
    if (finished_) return;
    ++it;
  }
  if (!target_ || !connected_) return;
  auto it = peers_.find(*target_);
  if (it == peers_.end() || !it->second.session) return;
  PeerSession& s = *it->second.session;
  if (o_.mode == AgentOptions::Mode::Call) return tickCall(s, now);
  while (sent_ < o_.count && now >= nextSend_) {
    s.sendMessage("msg " + std::to_string(sent_++));
    nextSend_ += std::chrono::milliseconds(o_.intervalMs);
  }
  if (sent_ == o_.count && received_ >= o_.count) {
    emit({{"event", "done"},
          {"sent", sent_},
          {"received", received_},
          {"via_fast", viaFast_},
          {"via_hub", viaHub_},
          {"in_order", inOrder_},
          {"generation", s.generation()},
          {"elapsed_ms", round3(msSince(start_))}});
    finish(inOrder_ && received_ == sent_ ? 0 : 1);
  }
}

void Agent::finish(int code) {
  if (finished_) return;
  finished_ = true;
  exitCode_ = code;
  for (auto& [id, p] : peers_)
    if (p.session && !p.dead) sendSignal(id, sig::EnvelopeType::Bye, p.session->byeBody());
  if (loop_) g_main_loop_quit(loop_);
}

gboolean Agent::onHubReadable(gint fd, GIOCondition, gpointer data) {
  auto* a = static_cast<Agent*>(data);
  if (!a->ws_ || a->ws_->fd() != fd) return G_SOURCE_REMOVE;  // the connection of a node left behind
  a->drainHub();
  return a->ws_ && a->ws_->fd() == fd ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

gboolean Agent::onTick(gpointer data) {
  static_cast<Agent*>(data)->tick();
  return G_SOURCE_CONTINUE;
}

gboolean Agent::onDeadline(gpointer data) {
  auto* a = static_cast<Agent*>(data);
  if (a->o_.mode == AgentOptions::Mode::Listen) {
    a->emit({{"event", "stopped"}, {"reason", "timeout"}});
    a->finish(0);
  } else {
    std::string what = a->connected_ ? "connected, but not done" : "not connected";
    if (a->o_.mode == AgentOptions::Mode::Connect && a->connected_)
      what += " (sent " + std::to_string(a->sent_) + ", received " + std::to_string(a->received_) + ")";
    a->error("timeout", what + " before the --timeout");
    a->finish(1);
  }
  return G_SOURCE_REMOVE;
}

int Agent::run() {
  auto key = identity::PrivateKey::load(o_.keyFile);
  if (!key) return error("usage", "--key " + o_.keyFile + ": " + std::string(identity::describe(key.error())), 2);
  key_ = *key;
  // Several --node: the first that answers (docs/fleet.md, "Clients").
  nodes_ = std::make_unique<NodeList>(o_.nodes.empty() ? std::vector<std::string>{o_.node} : o_.nodes);
  for (const auto& n : nodes_->all())
    if (auto u = cli::parseHttpUrl(n); !u) return error("usage", "--node " + n + ": " + u.error(), 2);
  if (nodes_->all().size() > 1) {
    auto picked = nodes_->pickReachable(std::chrono::seconds(3));
    if (!picked) return error("node", picked.error());
  }
  o_.node = nodes_->current();
  url_ = *cli::parseHttpUrl(o_.node);
  if (!o_.iceNode.empty()) {
    auto ice = cli::parseHttpUrl(o_.iceNode);
    if (!ice) return error("usage", "--ice-node: " + ice.error(), 2);
    iceUrl_ = *ice;
  }
  // One node given: the fleet's others (if it is in one) come from its directory, fetched meanwhile.
  std::future<Json> directory;
  if (nodes_->all().size() == 1)
    directory = std::async(std::launch::async, [this] {
      auto r = cli::httpRequest(url_, {"GET", "/v1/nodes", "", std::chrono::milliseconds(3000), nullptr, ""});
      return r && r->status == 200 ? Json::parse(r->body, nullptr, false) : Json();
    });

  // The set-up steps are independent: the peer lookup (connect), the ICE servers, the registration
  // (listen) run on their own threads while this one logs in to the hub. Each step is a blocking HTTP
  // exchange on a connection of its own; they only read o_, url_ and key_. Errors are reported in the
  // order the steps used to run one after another.
  const bool listen = o_.mode == AgentOptions::Mode::Listen;
  // libsrtp's self-tests (srtp_init) would otherwise run when DTLS completes, right before the first byte.
  // The same for the DTLS certificate (one per process): made while the set-up steps run.
  auto srtpReady = std::async(std::launch::async, [] { return SrtpSession::initLibrary(); });
  auto certificateReady = std::async(std::launch::async, [] { return DtlsTransport::prepareCertificate(); });
  auto stamp = [](auto result, std::optional<Clock::time_point>& at) {
    at = Clock::now();
    return result;
  };
  std::future<Result<identity::PublicKey, std::string>> lookup;
  if (!listen) lookup = std::async(std::launch::async, [this, &stamp] { return stamp(resolvePeer(), peerLookupAt_); });
  auto ice = std::async(std::launch::async, [this, &stamp] { return stamp(fetchIceServers(), iceServersAt_); });
  std::future<Result<bool, std::string>> registration;
  if (listen) registration = std::async(std::launch::async, [this] { return registerRecord(); });
  auto hub = connectHub();
  hubLoginAt_ = Clock::now();

  std::optional<identity::PublicKey> remoteKey;
  if (!listen) {
    auto k = lookup.get();
    if (!k) return error("peer-unknown", k.error());
    remoteKey = *k;
    if (remoteKey->nodeId() == key_->nodeId()) return error("usage", "--to names this peer itself", 2);
  }
  auto servers = ice.get();
  if (!servers) return error("ice-servers", servers.error());
  ice_ = synthesizeNat64(*servers, iceUrl().host);  // an IPv6-only host reaching the node through NAT64
  iceFetchedAt_ = Clock::now();
  if (listen) {
    auto r = registration.get();
    if (!r) return error("register", r.error());
    registeredAt_ = Clock::now();
  }
  if (!hub) return error("hub", hub.error());
  if (directory.valid()) nodes_->addFromDirectory(directory.get());

  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
  GSource* hubSource = g_unix_fd_source_new(ws_->fd(), static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR));
  g_source_set_callback(hubSource, G_SOURCE_FUNC(onHubReadable), this, nullptr);
  GSource* tickSource = g_timeout_source_new(static_cast<guint>(kTick.count()));
  g_source_set_callback(tickSource, onTick, this, nullptr);
  sources_ = {hubSource, tickSource};
  if (o_.timeoutSeconds > 0) {
    GSource* deadline = g_timeout_source_new(static_cast<guint>(o_.timeoutSeconds * 1000));
    g_source_set_callback(deadline, onDeadline, this, nullptr);
    sources_.push_back(deadline);
  }
  for (GSource* s : sources_) g_source_attach(s, context_);

  if (o_.mode == AgentOptions::Mode::Listen) {
    emit({{"event", "listening"}, {"node_id", key_->nodeId().hex()}, {"namespace", o_.ns}, {"enr", o_.enr}});
  } else {
    target_ = remoteKey->nodeId();
    Peer p{*remoteKey, nullptr};
    auto [pos, inserted] = peers_.emplace(*target_, std::move(p));
    pos->second.session = std::make_unique<PeerSession>(*this, context_, sessionOptions(), *target_, randomHex(8), true);
    if (!pos->second.session->start()) return exitCode_;
  }
  drainHub();  // frames that came with the welcome
  if (!finished_) g_main_loop_run(loop_);
  if (ws_) ws_->close();
  return exitCode_;
}

}  // namespace

int runAgent(const AgentOptions& options) {
  Agent agent(options);
  return agent.run();
}

uint64_t parseBitrate(const std::string& text) {
  if (text.empty()) return 0;
  uint64_t mult = 1;
  std::string digits = text;
  const char last = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
  if (last == 'k') mult = 1000;
  if (last == 'm') mult = 1'000'000;
  if (mult != 1) digits.pop_back();
  if (digits.empty() || digits.size() > 12 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::stoull(digits) * mult;
}

}  // namespace rdv::agent
