#include "rendezvous/cli/hub_session.h"

#include "rendezvous/base/bytes.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/framing.h"
#include "signalling/hub/frames.h"

namespace rdv::cli {

namespace sig = rdv::signalling;

bool HubSession::send(const sig::Frame& f) {
  const std::string m = sig::encodeFrameAs(framing, f);
  return framing == sig::Framing::Cbor ? ws->sendBinary(m) : ws->sendText(m);
}

Result<sig::Frame, sig::FrameError> HubSession::decode(const std::string& message) const {
  return sig::decodeFrameAs(framing, message);
}

Result<HubSession, std::string> openHubSession(const std::string& node, const identity::PrivateKey& key,
                                               std::chrono::milliseconds connectTimeout,
                                               std::chrono::steady_clock::time_point deadline, bool presence,
                                               bool compact) {
  const auto framing = compact ? sig::Framing::Cbor : sig::Framing::Json;
  auto ws = WebSocketClient::connect(node, "/v1/signal", connectTimeout, std::string(sig::subprotocolOf(framing)));
  if (!ws) return unexpected(ws.error());
  HubSession session{std::move(*ws), 0, {}, framing};
  while (true) {
    auto text = session.ws->receive(deadline);
    if (!text) return unexpected("no answer from the hub (" + session.ws->closeReason() + ")");
    auto frame = session.decode(*text);
    if (!frame) {
      return unexpected("the hub sent a frame we cannot read: " +
                        (compact ? "0x" + toHex(asBytes(text->substr(0, 64))) : *text));
    }
    if (auto* c = std::get_if<sig::ChallengeFrame>(&*frame)) {
      auto s = sig::signChallenge(key, c->hub, c->nonce);
      if (!s) return unexpected(std::string("cannot sign the challenge"));
      session.hubId = c->hub;
      session.send(sig::AuthFrame{key.nodeId(), *s, presence});
    } else if (auto* w = std::get_if<sig::WelcomeFrame>(&*frame)) {
      session.stored = w->stored;
      return session;
    } else if (auto* e = std::get_if<sig::ErrorFrame>(&*frame)) {
      return unexpected("the hub refused authentication: " + e->code + ": " + e->message);
    }
  }
}

uint64_t unixMillisNow() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace rdv::cli
