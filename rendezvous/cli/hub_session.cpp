#include "rendezvous/cli/hub_session.h"

#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"

namespace rdv::cli {

namespace sig = rdv::signalling;

Result<HubSession, std::string> openHubSession(const std::string& node, const identity::PrivateKey& key,
                                               std::chrono::milliseconds connectTimeout,
                                               std::chrono::steady_clock::time_point deadline, bool presence) {
  auto ws = WebSocketClient::connect(node, "/v1/signal", connectTimeout);
  if (!ws) return unexpected(ws.error());
  identity::NodeId hubId;
  while (true) {
    auto text = (*ws)->receive(deadline);
    if (!text) return unexpected("no answer from the hub (" + (*ws)->closeReason() + ")");
    auto frame = sig::decodeFrame(*text);
    if (!frame) return unexpected("the hub sent a frame we cannot read: " + *text);
    if (auto* c = std::get_if<sig::ChallengeFrame>(&*frame)) {
      auto s = sig::signChallenge(key, c->hub, c->nonce);
      if (!s) return unexpected(std::string("cannot sign the challenge"));
      hubId = c->hub;
      (*ws)->sendText(sig::encodeFrame(sig::AuthFrame{key.nodeId(), *s, presence}));
    } else if (auto* w = std::get_if<sig::WelcomeFrame>(&*frame)) {
      return HubSession{std::move(*ws), w->stored, hubId};
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
