// The expensive, stateless part of handling a client frame: decoding it (JSON or CBOR) and recovering the
// secp256k1 signer of an auth or envelope frame (~60 us, most of the hub's CPU per frame). It is a
// pure function of the frame's text and what the hub tells it (its id, the connection's pending
// challenge), so it can run on any thread: the daemon runs it on a small verifier pool
// (rendezvous/node/api/signal_verifier.h) and hands the result to Hub::handleChecked() on the API
// thread, in each connection's order. Hub::handleFrame() runs it inline. docs/signalling.md, "Cost".
#pragma once

#include <optional>
#include <string_view>

#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/framing.h"

namespace rdv::signalling {

struct CheckedFrame {
  size_t bytes = 0;  // the frame's size; a frame over the limit is not decoded (frame holds an error)
  bool tooLarge = false;
  Result<Frame, FrameError> frame = unexpected(FrameError{});
  // An auth frame: whether its signature recovers to its node id for `nonce` (nullopt: there was no
  // pending challenge to check it against).
  std::optional<ChallengeNonce> nonce;
  bool authValid = false;
  // An envelope frame: checked by verify() when signatures are checked; nullopt when valid or unchecked.
  bool envelopeChecked = false;
  std::optional<EnvelopeError> envelopeError;
};

struct FrameCheckContext {
  NodeId hubId;
  std::optional<ChallengeNonce> pendingChallenge;  // of the frame's connection, when it was queued
  size_t maxFrameBytes = 0;
  bool verifySignatures = true;
  Framing framing = Framing::Json;  // the connection's: how the frame is decoded
};

CheckedFrame checkFrame(std::string_view text, const FrameCheckContext& context);

}  // namespace rdv::signalling
