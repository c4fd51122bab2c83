#include "rendezvous/identity/api_signature.h"

#include <string>

namespace rdv::identity {

Hash256 apiRequestDigest(std::string_view domain, const NodeId& node, int64_t unixTime) {
  std::string message(domain);
  message.append(reinterpret_cast<const char*>(node.bytes.data()), node.bytes.size());
  message += std::to_string(unixTime);
  return keccak256(asBytes(message));
}

}  // namespace rdv::identity
