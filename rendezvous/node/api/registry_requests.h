// The registry API's request bodies and their parsers (docs/registry.md), pure (no registry, no clock),
// so they are fuzzed (tests/fuzz/http_api.cpp). Errors are the JSON error responses the handlers answer with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"
#include "rendezvous/enr/enr_error.h"
#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/eth_address.h"
#include "rendezvous/identity/node_id.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/registry/registry.h"

namespace rdv::node {

// A write's signed time (unix milliseconds) and signature by the record's key (docs/registry.md, "Proof
// of possession"); checked by the handlers against the record or the registration.
struct RequestProof {
  int64_t time = 0;
  Bytes signature;
};
// POST /v1/registrations {namespace, enr, ttl?, time, signature}
struct RegistrationRequest {
  std::string ns;
  enr::EnrRecord record;
  std::optional<registry::Seconds> ttl;  // outside the bounds: the registry refuses it with the bounds
  RequestProof proof;
};
Result<RegistrationRequest, HttpResponse> parseRegistrationRequest(const std::string& body);
// DELETE /v1/registrations {namespace, node_id, time, signature}
struct UnregistrationRequest {
  std::string ns;
  identity::NodeId id;
  RequestProof proof;
};
Result<UnregistrationRequest, HttpResponse> parseUnregistrationRequest(const std::string& body);
// GET /v1/registrations?limit=N: the limit (UINT32_MAX when out of range, for the registry to refuse with
// its bounds), or nullopt when it is not a decimal number.
std::optional<size_t> parseDiscoverLimit(std::string_view text);
// GET /v1/registrations?node_id=HEX or ?address=0x...: the identity asked about, nullopt when neither is
// given, or a 400 (invalid_node_id, invalid_address; both given: ambiguous_query). An address is matched
// against each registered identity's address (the last 20 bytes of its node id), EIP-55 checked when
// mixed case.
struct IdentityQuery {
  std::optional<identity::NodeId> id;
  std::optional<identity::EthAddress> address;
};
Result<std::optional<IdentityQuery>, HttpResponse> parseIdentityQuery(const std::optional<std::string>& nodeId,
                                                                      const std::optional<std::string>& address);


// Shared with the handlers: a JSON object body, a string field, a hex field (optional 0x), the proof,
// and the answer for a record that does not parse or verify.
Result<nlohmann::json, HttpResponse> jsonBody(const std::string& body);
Result<std::string, HttpResponse> stringField(const nlohmann::json& j, const char* name);
Result<Bytes, HttpResponse> hexField(const nlohmann::json& j, const char* name);
Result<RequestProof, HttpResponse> readProof(const nlohmann::json& body);
HttpResponse enrError(enr::EnrError e);

}  // namespace rdv::node
