// One ICE/DTLS session with one remote peer, inside the agent's GLib main context.
//
//   signalling (through the SessionHost): offer/answer {session, gen, ufrag, pwd, fingerprint},
//     candidate {session, gen, candidate: "a=candidate:..."}, end-of-candidates {session, gen},
//     message {session, seq, data} (application data on the base layer) or {session, control}.
//   ICE: libnice, RFC 5245 mode, regular nomination, trickle, consent freshness (RFC 7675), UDP
//     and TCP candidates, TURN from the node's ice-servers. Roles follow the offer/answer: the
//     offerer is controlling and the DTLS client.
//   DTLS over the selected pair (DtlsTransport), the peer's certificate checked against the
//     fingerprint in its signed offer/answer; application records are small JSON objects:
//     {"t":"ping"|"pong","id"}, {"t":"data","seq","d"}, {"t":"ack","upto","seq"}, {"t":"ctl",...}.
//     SRTP (RFC 5764 keys) shares the pair; packets are told apart by their first byte (RFC 7983).
//   Fallback: messages wait in an OutboundQueue until acknowledged. When the fast path stops
//     answering (nothing heard for pathTimeout, or a message unacknowledged that long, or ICE
//     failed/consent lost) every unacknowledged message goes to the hub at once, new ones follow
//     there, and the offerer restarts ICE (nice_agent_restart_stream + a new offer/answer with a
//     higher generation; the answerer asks for it with a "restart-request" control message).
//     The fast path is used again only after a restart brought it back (a pong heard in the new
//     generation). The receiver orders and de-duplicates by seq (InboundOrder).
//   WebRTC mode (a browser, or `rdv connect --webrtc`; peer_session_webrtc.cpp): the bodies carry
//     "kind":"webrtc" and real SDP (docs/web.md), DTLS carries SCTP (DataChannels) and messages
//     travel on one reliable, ordered data channel "rdv"; SCTP retransmits, so no ping/ack records,
//     no ICE restart and no hub fallback there.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/identity/node_id.h"
#include "signalling/agent/data_channels.h"
#include "signalling/agent/dtls_transport.h"
#include "signalling/agent/ice_config.h"
#include "signalling/agent/media_stats.h"
#include "signalling/agent/message_order.h"
#include "signalling/agent/srtp_session.h"
#include "signalling/agent/turn_tls_bridge.h"
#include "signalling/envelope/envelope.h"

typedef struct _NiceAgent NiceAgent;
typedef struct _NiceCandidate NiceCandidate;
typedef struct _GMainContext GMainContext;

namespace rdv::agent {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct SessionOptions {
  IceConfig ice;
  bool relayOnly = false;                   // ICE transport policy "relay" (libnice force-relay)
  bool tcp = true;                          // ICE-TCP candidates too
  std::string turnCa;                       // CA for turns: servers (empty: the system store)
  std::vector<std::string> localAddresses;  // host candidates only on these (default: every interface)
  std::chrono::milliseconds pathTimeout{1500};
  std::chrono::milliseconds pingInterval{250};
  // TEST ONLY: after this many application records arrived over the fast path, drop every DTLS
  // packet received in the current ICE generation (a fast path that dies; the restart's next
  // generation is not affected). 0 = off.
  unsigned testDropFastAfter = 0;
  // TEST ONLY: announce a fingerprint that is not our certificate's.
  bool testBadFingerprint = false;
  // Offerer: speak WebRTC (SDP offer/answer, SCTP data channel) instead of the native records. An
  // answerer follows the offer it gets (peer_session_webrtc.cpp).
  bool webrtc = false;
};

class PeerSession;

// When each step of a session's first connection ended (the `phases` of the `connected` line,
// docs/agent.md "Where the time goes"). Unset: the step has not happened (yet).
struct SessionTimes {
  std::optional<Clock::time_point> remoteDescription;  // the peer's offer/answer applied
  std::optional<Clock::time_point> firstCheck;         // credentials and a first remote candidate: checks start
  std::optional<Clock::time_point> gathered;           // our own gathering finished (STUN, TURN allocations)
  std::optional<Clock::time_point> nominated;          // a pair selected (nominated)
  std::optional<Clock::time_point> dtls;               // DTLS handshake complete, fingerprint checked
};

// What a session needs from the agent around it.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  // Seals and sends an envelope; returns its envelope seq (0 when it could not be sent).
  virtual uint64_t sendSignal(const identity::NodeId& to, signalling::EnvelopeType type, const Json& body) = 0;
  virtual void emit(const Json& event) = 0;  // one JSON line on stdout
  // The fast path came up for the first time (DTLS connected, first pong).
  virtual void onConnected(PeerSession& s) = 0;
  virtual void onDelivered(PeerSession& s, const InboundOrder::Delivery& d) = 0;
  virtual void onControl(PeerSession& s, const Json& ctl) = 0;
  virtual void onFailed(PeerSession& s, const std::string& code, const std::string& message) = 0;
};

struct SelectedPair {
  std::string local, remote;  // host, srflx, prflx, relay
  std::string transport;      // udp, tcp
  std::string localAddress, remoteAddress;
  std::string path() const { return local == "relay" || remote == "relay" ? "relayed" : "direct"; }
};

class PeerSession {
 public:
  // controlling = offerer (rdv connect), the DTLS client.
  PeerSession(SessionHost& host, GMainContext* context, SessionOptions options, identity::NodeId remote,
              std::string sessionId, bool controlling);
  ~PeerSession();
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  // Offerer: gather and send the offer. Answerer: call handleOffer() instead.
  bool start();
  void handleSignal(signalling::EnvelopeType type, const Json& body);
  // The hub acknowledged (ok) or refused one of our envelopes.
  void hubAck(uint64_t envelopeSeq, bool ok);
  void tick(Clock::time_point now);
  // The session ends (the peer said bye): report a first connection still waiting for its final pair
  // (an answerer waiting for the peer's upgrade restart) with the pair in use now.
  void announceNow();

  // Application message, reliable and ordered (fast path when up, else the hub).
  uint64_t sendMessage(const std::string& body);
  // Unreliable control record over DTLS (false when the fast path is not up).
  bool sendControl(const Json& ctl);
  // SRTP media (call): false before DTLS-SRTP keys exist or when the fast path is down.
  bool sendRtp(Bytes rtp);

  const std::string& id() const { return id_; }
  bool webrtc() const { return webrtc_; }
  // The body of our bye (a browser reads only bodies of its own kind).
  Json byeBody() const;
  const identity::NodeId& remote() const { return remote_; }
  bool fastUp() const { return fastUp_; }
  bool connected() const { return everConnected_; }
  uint32_t generation() const { return generation_; }
  std::optional<double> rttMs() const { return rttMs_; }
  std::optional<SelectedPair> selectedPair() const;
  const MediaStats& media() const { return media_; }
  uint64_t pendingMessages() { return out_.pending().size(); }
  uint64_t droppedForTest() const { return droppedForTest_; }
  Clock::time_point created() const { return created_; }
  // When the first application record from the peer arrived (the answer to our first ping).
  Clock::time_point firstByteAt() const { return firstByteAt_; }
  const SessionTimes& times() const { return times_; }

  // libnice callbacks (static trampolines in the .cpp call these).
  void onCandidate(NiceCandidate* c);
  void onGatheringDone();
  void onComponentState(unsigned state);
  void onReceive(const uint8_t* data, size_t len);
  void onSelectedPair();

 private:
  bool createAgent();
  void sendDescription(signalling::EnvelopeType type);  // offer or answer for the current generation
  void sendAllLocalCandidates();
  void applyRemoteDescription(const Json& body);
  void applyNativeDescription(const Json& body);
  void applyRemoteCandidate(const Json& body);
  void flushDtls();
  void handleRecord(const Json& record);
  void sendRecord(const Json& record);
  void sendViaHub(uint64_t seq);
  void sendViaFast(uint64_t seq);
  void goDown(const std::string& reason, bool askForRestart = true);
  // upgrade: the path works but is relayed while the peer offered direct candidates; restart once
  // so that checks run again through NAT filters the first round opened (see docs/agent.md).
  void restartIce(bool upgrade = false);
  void fail(const std::string& code, const std::string& message);
  void setupSrtp();
  // The fast path answers: first connection (connected line pending) or restored after a restart.
  void bringUp(Clock::time_point now);
  // A ping over DTLS when the path is up and the interval passed (atOnce: regardless of the interval).
  void maybePing(Clock::time_point now, bool atOnce);
  // WebRTC mode (peer_session_webrtc.cpp).
  Json candidateBody(const std::string& niceLine) const;
  Json endOfCandidatesBody() const;
  Json webrtcDescription(signalling::EnvelopeType type);
  bool applyRemoteSdp(const Json& body);
  void onWebRtcDtlsUp();
  void onWebRtcRecords(std::vector<Bytes> records);
  void pumpChannels();
  void tickWebRtc(Clock::time_point now);
  bool sendOnChannel(const std::string& body);
  void sendChannelViaHub(uint64_t seq, const std::string& body);
  void handleChannelAck(const Bytes& data);
  void fallBackToHub(const std::string& reason);
  // Reports the first connection once a pair is selected and nominated (or 2 s after the first byte).
  void maybeAnnounce(Clock::time_point now);

  SessionHost& host_;
  GMainContext* context_;
  SessionOptions options_;
  identity::NodeId remote_;
  std::string id_;
  bool controlling_;
  Clock::time_point created_;
  NiceAgent* agent_ = nullptr;
  unsigned stream_ = 0;
  uint32_t generation_ = 0;
  bool descriptionSent_ = false;  // candidates wait until the offer/answer of this generation went out
  bool gatheringDone_ = false;
  std::vector<std::string> queuedCandidates_;
  std::vector<std::unique_ptr<TurnTlsBridge>> tlsBridges_;  // one per turns: server; outlive agent_
  bool remoteDescription_ = false;  // remote credentials of this generation applied
  std::vector<Json> earlyCandidates_;  // remote candidates that came before their description
  bool remoteGatheringDone_ = false;
  bool iceReady_ = false;
  std::unique_ptr<DtlsTransport> dtls_;
  bool failed_ = false;

  bool fastUp_ = false;
  bool everConnected_ = false;
  bool announcePending_ = false;
  bool announced_ = false;
  bool nominated_ = false;  // READY in the current generation
  bool remoteHasDirect_ = false;  // the peer sent a host/srflx/prflx candidate
  bool upgradeTried_ = false;
  bool upgrading_ = false;  // an upgrade restart runs; the fast path stays in use meanwhile
  Clock::time_point upgradeStarted_{};
  Clock::time_point firstByteAt_{};
  SessionTimes times_;
  uint32_t downGeneration_ = UINT32_MAX;  // fast path down in this generation: wait for a newer one
  Clock::time_point lastHeard_{};
  Clock::time_point lastPing_{};
  Clock::time_point lastRestart_{};
  uint64_t nextPingId_ = 1;
  std::map<uint64_t, Clock::time_point> pingsOut_;
  std::optional<double> rttMs_;

  OutboundQueue out_;
  InboundOrder in_;
  std::map<uint64_t, uint64_t> hubInFlight_;  // envelope seq -> message seq

  uint64_t fastRecordsReceived_ = 0;
  std::optional<uint32_t> dropGeneration_;  // TEST ONLY hook
  uint64_t droppedForTest_ = 0;

  std::unique_ptr<SrtpSession> srtpOut_, srtpIn_;
  bool srtpTried_ = false;  // keys exported once, on the first media packet either way

  // WebRTC mode
  bool webrtc_ = false;
  std::string remoteMid_ = "0";
  std::unique_ptr<DataChannels> channels_;
  std::optional<uint16_t> channel_;     // the "rdv" channel (ours or the peer's first)
  bool channelOpen_ = false;
  std::vector<std::string> channelBacklog_;  // messages sent before the channel opened
  uint64_t channelInSeq_ = 0;
  // Hub fallback with a peer that opens or accepts "rdv-ack" (signalling/web): numbered messages,
  // kept until acknowledged on that channel; after the path broke they travel as hub "message"s.
  std::optional<uint16_t> ackChannel_;
  bool peerAcks_ = false;
  bool channelViaHub_ = false;
  uint64_t channelOutSeq_ = 0;
  std::map<uint64_t, std::pair<std::string, Clock::time_point>> unackedOnChannel_;  // body, sent at
  // DTLS that came before the answer fixed our DTLS role (a browser's ClientHello can overtake the
  // answer through the hub): replayed once the role is known.
  std::vector<Bytes> earlyDtls_;
  MediaStats media_;
};

}  // namespace rdv::agent
