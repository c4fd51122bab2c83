// What a peer signs to remove its registration (64-byte r||s over this digest, same key as the
// registered record):
//   keccak256(rlp(["rdv-unregister-v1", namespace, node id (32 bytes), seq of the registered record]))
// Binding the seq means a captured signature stops working once the peer registers a newer
// record; it can be replayed only against the very record it was made for.
#pragma once

#include <cstdint>
#include <string_view>

#include "rendezvous/identity/keccak.h"
#include "rendezvous/identity/node_id.h"

namespace rdv::registry {

inline constexpr std::string_view kUnregisterTag = "rdv-unregister-v1";

identity::Hash256 unregisterDigest(std::string_view ns, const identity::NodeId& id, uint64_t seq);

}  // namespace rdv::registry
