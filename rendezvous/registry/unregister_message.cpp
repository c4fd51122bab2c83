#include "rendezvous/registry/unregister_message.h"

#include "rendezvous/enr/rlp.h"

namespace rdv::registry {

namespace {
identity::Hash256 digestOf(const Bytes& body) {
  Bytes list;
  enr::encodeList(list, body);
  return identity::keccak256(list);
}
// Times before 1970 are not meaningful here; they encode as 0 (and fail the skew check anyway).
uint64_t unsignedTime(int64_t t) { return t < 0 ? 0 : static_cast<uint64_t>(t); }
}  // namespace

identity::Hash256 registerDigest(std::string_view ns, ByteSpan recordRlp, uint64_t ttl, int64_t unixMillis) {
  Bytes body;
  enr::encodeString(body, asBytes(kRegisterTag));
  enr::encodeString(body, asBytes(ns));
  enr::encodeString(body, identity::keccak256(recordRlp));
  enr::encodeUint(body, ttl);
  enr::encodeUint(body, unsignedTime(unixMillis));
  return digestOf(body);
}

identity::Hash256 unregisterDigest(std::string_view ns, const identity::NodeId& id, uint64_t seq, int64_t unixMillis) {
  Bytes body;
  enr::encodeString(body, asBytes(kUnregisterTag));
  enr::encodeString(body, asBytes(ns));
  enr::encodeString(body, id.bytes);
  enr::encodeUint(body, seq);
  enr::encodeUint(body, unsignedTime(unixMillis));
  return digestOf(body);
}

}  // namespace rdv::registry
