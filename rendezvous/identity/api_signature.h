// Signed API requests: what a peer signs to prove its identity to a node for one request, e.g.
// GET /v1/ice-servers. The digest binds a purpose (domain), the node it is meant for (no replay on
// another node) and a unix time (no replay later than the node's allowed skew).
#pragma once

#include <cstdint>
#include <string_view>

#include "rendezvous/identity/keccak.h"
#include "rendezvous/identity/node_id.h"

namespace rdv::identity {

// keccak256(domain || node id (32 bytes) || unixTime as decimal text).
Hash256 apiRequestDigest(std::string_view domain, const NodeId& node, int64_t unixTime);

constexpr std::string_view kIceServersDomain = "rdv-ice-servers-v1";

}  // namespace rdv::identity
