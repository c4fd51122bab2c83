// What a peer signs to register or remove a registration: proof that the request comes from the
// holder of the record's key, not from someone who copied the record off a discover page (issue 12).
// Both are 64-byte r||s secp256k1 signatures by the record's own key (verified with the public key in
// the record), over a digest that binds the namespace and a unix time in milliseconds:
//   register:   keccak256(rlp(["rdv-register-v1", namespace, keccak256(record RLP) (32 bytes), ttl, time]))
//   unregister: keccak256(rlp(["rdv-unregister-v2", namespace, node id (32 bytes), record seq, time]))
// ttl is what the request asks for (0 when it leaves it to the node's default); the register digest
// binds the exact record (its RLP, signature included). The node accepts a time within its clock skew
// (api-clock-skew) and each signature once inside that window, so a
// captured request cannot be re-posted into another namespace, after a DELETE, or later; binding the
// seq means an unregister signature stops working once the peer registers a newer record.
#pragma once

#include <cstdint>
#include <string_view>

#include "rendezvous/identity/keccak.h"
#include "rendezvous/identity/node_id.h"
#include "rendezvous/base/bytes.h"

namespace rdv::registry {

inline constexpr std::string_view kRegisterTag = "rdv-register-v1";
inline constexpr std::string_view kUnregisterTag = "rdv-unregister-v2";

// `recordRlp` is EnrRecord::encoded(); times are unix milliseconds.
identity::Hash256 registerDigest(std::string_view ns, ByteSpan recordRlp, uint64_t ttl, int64_t unixMillis);
identity::Hash256 unregisterDigest(std::string_view ns, const identity::NodeId& id, uint64_t seq, int64_t unixMillis);

}  // namespace rdv::registry
