#include "rendezvous/registry/unregister_message.h"

#include "rendezvous/enr/rlp.h"

namespace rdv::registry {

identity::Hash256 unregisterDigest(std::string_view ns, const identity::NodeId& id, uint64_t seq) {
  Bytes body;
  enr::encodeString(body, asBytes(kUnregisterTag));
  enr::encodeString(body, asBytes(ns));
  enr::encodeString(body, id.bytes);
  enr::encodeUint(body, seq);
  Bytes list;
  enr::encodeList(list, body);
  return identity::keccak256(list);
}

}  // namespace rdv::registry
