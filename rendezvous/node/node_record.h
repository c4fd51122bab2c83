// The node's own ENR: what a rendezvous node advertises about itself (docs/enr-keys.md: "stun",
// "turn" and "api", plus the standard ip/udp/tcp keys), signed with the node key and served at
// GET /v1/node. The seq is kept in the database beside the registry: it stays the same across
// restarts while the advertised content is unchanged and goes up by one when it changes.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/storage/database.h"
#include "rendezvous/base/address.h"

namespace rdv::node {

// What the daemon has bound, and the public addresses to advertise instead of bound ones.
struct NodeServices {
  std::vector<Endpoint> udp;  // STUN/TURN over UDP, and over TCP on the same ports
  std::vector<Endpoint> tls;  // STUN/TURN over TLS
  std::optional<Endpoint> http;
  std::vector<IpAddress> external;  // replaces a bound address of the same family
  bool httpTls = false;             // the API is https (http-cert)
};

// The advertised content, before signing. URIs are most useful first: when the record would
// exceed 300 bytes, signFitting() drops URIs from the end of the longer list.
struct NodeAdvert {
  std::vector<std::string> stun;  // RFC 7064: stun:HOST:PORT, stuns:HOST:PORT
  std::vector<std::string> turn;  // RFC 7065: turn:HOST:PORT (UDP), ...?transport=tcp, turns:HOST:PORT
  std::string api;                // http://HOST:PORT
  std::optional<Endpoint> v4;     // -> ip, udp, tcp
  std::optional<Endpoint> v6;     // -> ip6, udp6, tcp6
};

// Pure: wildcard addresses with no external address of their family are left out.
NodeAdvert describeServices(const NodeServices& services);

// Signs the advert with `seq`, dropping trailing URIs until the record fits in 300 bytes.
Result<enr::EnrRecord, enr::EnrError> signFitting(NodeAdvert advert, uint64_t seq, const identity::PrivateKey& key);

// Signs the advert with the stored seq when the resulting record is unchanged, else with the
// stored seq + 1 (1 on first start), and stores it (table node_record, component "node").
Result<enr::EnrRecord, std::string> publishNodeRecord(storage::Database& db, const NodeAdvert& advert,
                                                      const identity::PrivateKey& key);

}  // namespace rdv::node
