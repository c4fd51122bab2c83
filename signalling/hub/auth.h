// Connection authentication for the signalling hub. The hub sends a 32-byte random nonce; the
// client answers with its node id and a recoverable secp256k1 signature over
//   keccak256("rdv-signal-auth-v1" || hub node id (32) || nonce (32) || client node id (32)).
// The hub recovers the key and checks its node id is the claimed one. The hub id stops a
// response made for one node being replayed to another; the nonce (single use, fresh per
// connection, short-lived) stops replay across connections. No ENR is needed: the node id is
// keccak256 of the key that recovers.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "rendezvous/identity/node_id.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/identity/public_key.h"

namespace rdv::signalling {

inline constexpr std::string_view kAuthDomain = "rdv-signal-auth-v1";
using ChallengeNonce = std::array<uint8_t, 32>;

identity::Hash256 authDigest(const identity::NodeId& hubId, const ChallengeNonce& nonce,
                             const identity::NodeId& clientId);

// What a client sends back (the rdv CLI and browsers do the same in JavaScript).
Result<identity::RecoverableSignature, identity::IdentityError> signChallenge(const identity::PrivateKey& client,
                                                                              const identity::NodeId& hubId,
                                                                              const ChallengeNonce& nonce);

// True when `signature` recovers to a key whose node id is `clientId`.
bool checkChallengeResponse(const identity::NodeId& hubId, const ChallengeNonce& nonce,
                            const identity::NodeId& clientId, const identity::RecoverableSignature& signature);

}  // namespace rdv::signalling
