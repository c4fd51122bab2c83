// An authenticated connection to a node's signalling hub (/v1/signal), as rdv's one-shot commands use
// it: connect, answer the challenge (optionally opting in to presence), read the welcome.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "rendezvous/base/result.h"
#include "rendezvous/client/ws_client.h"
#include "rendezvous/identity/private_key.h"
#include "signalling/hub/framing.h"

namespace rdv::cli {

struct HubSession {
  std::unique_ptr<WebSocketClient> ws;
  uint64_t stored = 0;     // envelopes the welcome said are waiting
  identity::NodeId hubId;  // from the challenge: the key presence events are signed with
  signalling::Framing framing = signalling::Framing::Json;  // rdv.json.1, or rdv.cbor.1 (--compact)

  // One frame in the session's framing (text for JSON, binary for CBOR).
  bool send(const signalling::Frame& f);
  Result<signalling::Frame, signalling::FrameError> decode(const std::string& message) const;
};

// `presence`: opt this identity in to presence events for its watchers (docs/signalling.md, "Presence").
// `compact`: the CBOR framing (WebSocket subprotocol rdv.cbor.1) instead of JSON.
Result<HubSession, std::string> openHubSession(const std::string& node, const identity::PrivateKey& key,
                                               std::chrono::milliseconds connectTimeout,
                                               std::chrono::steady_clock::time_point deadline, bool presence = false,
                                               bool compact = false);

// Unix milliseconds now; a one-shot sender's seq is this times 1000 (docs/signalling.md).
uint64_t unixMillisNow();

}  // namespace rdv::cli
