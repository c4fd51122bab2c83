// The Binding responder (RFC 8489 §8.3, RFC 5780 §6): sans-I/O. The daemon hands it a parsed request and
// the request's addressing; it returns the reply and which of the node's addresses to send it from.
#pragma once

#include <optional>
#include <string>

#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"
#include "stun/message.h"

namespace rdv::stun {

// RFC 5780 needs two IPs and two ports; the node listens on all four combinations.
struct AlternateAddresses {
  IpAddress primaryIp;
  IpAddress alternateIp;
  uint16_t primaryPort = 0;
  uint16_t alternatePort = 0;
};

struct BindingConfig {
  std::optional<AlternateAddresses> rfc5780;  // nullopt: CHANGE-REQUEST/RESPONSE-PORT get 420
  std::string software;                       // SOFTWARE attribute; empty: none
};

struct BindingRequestContext {
  Endpoint source;  // where the request came from (after any proxying: the reflexive address)
  Endpoint local;   // the node's address that received it
  bool stream = false;  // TCP/TLS: RESPONSE-PORT and CHANGE-REQUEST do not apply (RFC 5780 §6.1)
};

struct BindingReply {
  Bytes bytes;
  Endpoint from;  // the node's address to send from (differs from context.local after CHANGE-REQUEST)
  Endpoint to;    // destination (differs from context.source with RESPONSE-PORT)
};

// Returns nullopt for what gets no answer (indications, responses). Requests always get an answer:
// success, 400 (malformed attribute), or 420 with UNKNOWN-ATTRIBUTES.
std::optional<BindingReply> handleBinding(const MessageView& request, const BindingRequestContext& ctx,
                                          const BindingConfig& config);

}  // namespace rdv::stun
