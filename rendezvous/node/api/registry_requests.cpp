// The registry API's request parsers (pure: no registry, no clock; fuzzed in tests/fuzz/http_api.cpp).
#include "rendezvous/node/api/registry_requests.h"

#include <algorithm>
#include <charconv>

namespace rdv::node {

using Json = nlohmann::json;

// docs/registry.md: TooLarge 413; the text-form errors mean a malformed request (400); the rest
// (RLP, keys, signature) is a record that does not verify (422).
HttpResponse enrError(enr::EnrError e) {
  const std::string why = std::string("enr: ") + enr::describe(e);
  switch (e) {
    case enr::EnrError::TooLarge: return jsonError(413, "record_too_large", why + " (the limit is 300 bytes)");
    case enr::EnrError::MissingPrefix:
    case enr::EnrError::BadBase64: return jsonError(400, "malformed_enr", why);
    default: return jsonError(422, "invalid_record", why);
  }
}

// A request body that is a JSON object, or the 400 to answer.
Result<Json, HttpResponse> jsonBody(const std::string& body) {
  auto j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return unexpected(jsonError(400, "malformed_json", "the body is not valid JSON"));
  if (!j.is_object()) return unexpected(jsonError(400, "malformed_json", "the body must be a JSON object"));
  return j;
}

Result<std::string, HttpResponse> stringField(const Json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null())
    return unexpected(jsonError(400, "missing_field", std::string("'") + name + "' is required"));
  if (!it->is_string()) return unexpected(jsonError(400, "bad_field", std::string("'") + name + "' must be a string"));
  return it->get<std::string>();
}

// Hex with an optional 0x prefix.
Result<Bytes, HttpResponse> hexField(const Json& j, const char* name) {
  auto text = stringField(j, name);
  if (!text) return unexpected(text.error());
  std::string_view hex = *text;
  if (hex.starts_with("0x")) hex.remove_prefix(2);
  Bytes out;
  if (!fromHex(hex, out)) return unexpected(jsonError(400, "bad_field", std::string("'") + name + "' must be hex"));
  return out;
}

// The request's signed time and signature, or the 4xx.
Result<RequestProof, HttpResponse> readProof(const Json& body) {
  auto time = body.find("time");
  if (time == body.end() || time->is_null())
    return unexpected(jsonError(400, "missing_proof",
                                "'time' and 'signature' are required: sign the request with the record's key "
                                "(docs/registry.md, \"Proof of possession\")"));
  if (!time->is_number_integer())
    return unexpected(jsonError(400, "bad_field", "'time' must be a unix time in milliseconds"));
  RequestProof p;
  p.time = time->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(time->get<uint64_t>(), INT64_MAX))
                                      : time->get<int64_t>();
  if (!body.contains("signature") || body["signature"].is_null())
    return unexpected(jsonError(400, "missing_proof",
                                "'signature' is required: sign the request with the record's key "
                                "(docs/registry.md, \"Proof of possession\")"));
  auto signature = hexField(body, "signature");
  if (!signature) return unexpected(signature.error());
  p.signature = std::move(*signature);
  return p;
}

Result<RegistrationRequest, HttpResponse> parseRegistrationRequest(const std::string& requestBody) {
  auto body = jsonBody(requestBody);
  if (!body) return unexpected(body.error());
  auto ns = stringField(*body, "namespace");
  if (!ns) return unexpected(ns.error());
  auto text = stringField(*body, "enr");
  if (!text) return unexpected(text.error());
  std::optional<registry::Seconds> ttl;
  if (auto it = body->find("ttl"); it != body->end() && !it->is_null()) {
    if (!it->is_number_integer()) return unexpected(jsonError(400, "bad_field", "'ttl' must be a whole number of seconds"));
    // Anything outside the bounds is refused by the registry with the bounds in the message.
    const int64_t n = it->is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT32_MAX))
                                               : std::max<int64_t>(it->get<int64_t>(), -1);
    ttl = registry::Seconds(std::min<int64_t>(n, INT32_MAX));
  }
  auto record = enr::EnrRecord::fromText(*text);
  if (!record) return unexpected(enrError(record.error()));
  auto proof = readProof(*body);
  if (!proof) return unexpected(proof.error());
  return RegistrationRequest{std::move(*ns), std::move(*record), ttl, std::move(*proof)};
}

Result<UnregistrationRequest, HttpResponse> parseUnregistrationRequest(const std::string& requestBody) {
  auto body = jsonBody(requestBody);
  if (!body) return unexpected(body.error());
  auto ns = stringField(*body, "namespace");
  if (!ns) return unexpected(ns.error());
  auto idBytes = hexField(*body, "node_id");
  if (!idBytes) return unexpected(idBytes.error());
  auto id = identity::NodeId::fromBytes(*idBytes);
  if (!id) return unexpected(jsonError(400, "bad_field", "'node_id' must be 32 bytes of hex"));
  auto proof = readProof(*body);
  if (!proof) return unexpected(proof.error());
  return UnregistrationRequest{std::move(*ns), *id, std::move(*proof)};
}

std::optional<size_t> parseDiscoverLimit(std::string_view text) {
  uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range) return UINT32_MAX;
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return static_cast<size_t>(std::min<uint64_t>(n, UINT32_MAX));
}

Result<std::optional<IdentityQuery>, HttpResponse> parseIdentityQuery(const std::optional<std::string>& nodeId,
                                                                      const std::optional<std::string>& address) {
  if (nodeId && address)
    return unexpected(jsonError(400, "ambiguous_query", "give 'node_id' or 'address', not both"));
  if (nodeId) {
    std::string_view hex = *nodeId;
    if (hex.starts_with("0x")) hex.remove_prefix(2);
    auto id = identity::NodeId::fromHex(hex);
    if (!id) return unexpected(jsonError(400, "invalid_node_id", "'node_id' must be 64 hex digits"));
    return std::optional<IdentityQuery>(IdentityQuery{*id, std::nullopt});
  }
  if (address) {
    auto a = identity::EthAddress::parse(*address);
    if (!a) {
      return unexpected(jsonError(400, "invalid_address",
                                  "'address' must be 0x and 40 hex digits (mixed case: a valid EIP-55 checksum)"));
    }
    return std::optional<IdentityQuery>(IdentityQuery{std::nullopt, *a});
  }
  return std::optional<IdentityQuery>();
}

}  // namespace rdv::node
