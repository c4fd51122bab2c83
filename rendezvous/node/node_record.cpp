#include "rendezvous/node/node_record.h"

#include <array>
#include <string_view>

#include "rendezvous/enr/rdv_keys.h"

namespace rdv::node {

namespace {

bool isWildcard(const IpAddress& ip) { return ip == *IpAddress::parse(ip.isV4() ? "0.0.0.0" : "::"); }

// The address peers should use for a bound endpoint; nullopt for a wildcard with no external address.
std::optional<Endpoint> advertised(const Endpoint& bound, const std::vector<IpAddress>& external) {
  for (const auto& ip : external)
    if (ip.family() == bound.family()) return Endpoint(ip, bound.port());
  if (isWildcard(bound.ip())) return std::nullopt;
  return bound;
}

std::string joined(const std::vector<std::string>& uris) {
  std::string out;
  for (const auto& u : uris) out += (out.empty() ? "" : " ") + u;
  return out;
}

enr::EnrBuilder toBuilder(const NodeAdvert& a, uint64_t seq) {
  enr::EnrBuilder b;
  b.setSeq(seq);
  if (a.v4) {
    std::array<uint8_t, 4> ip{};
    std::copy_n(a.v4->ip().data(), 4, ip.begin());
    b.setIp(ip).setUdp(a.v4->port()).setTcp(a.v4->port());
  }
  if (a.v6) {
    std::array<uint8_t, 16> ip6{};
    std::copy_n(a.v6->ip().data(), 16, ip6.begin());
    b.setIp6(ip6).setUdp6(a.v6->port()).setTcp6(a.v6->port());
  }
  if (!a.stun.empty()) b.setText(enr::keys::kStun, joined(a.stun));
  if (!a.turn.empty()) b.setText(enr::keys::kTurn, joined(a.turn));
  if (!a.api.empty()) b.setText(enr::keys::kApi, a.api);
  return b;
}

// Schema steps: index i upgrades version i to i+1. Never edit a released step; append a new one.
constexpr std::array<std::string_view, 1> kSchema = {
    "CREATE TABLE node_record (id INTEGER PRIMARY KEY CHECK (id = 1), enr BLOB NOT NULL);",
};

}  // namespace

NodeAdvert describeServices(const NodeServices& s) {
  NodeAdvert a;
  for (const auto& bound : s.udp) {
    auto ep = advertised(bound, s.external);
    if (!ep) continue;
    const std::string hostPort = ep->toString();
    a.stun.push_back("stun:" + hostPort);
    a.turn.push_back("turn:" + hostPort);  // RFC 7065 §3: UDP when no transport is given
    auto& slot = ep->ip().isV4() ? a.v4 : a.v6;
    if (!slot) slot = *ep;
  }
  for (const auto& bound : s.tls) {
    auto ep = advertised(bound, s.external);
    if (!ep) continue;
    a.stun.push_back("stuns:" + ep->toString());
    a.turn.push_back("turns:" + ep->toString());  // RFC 7065 §3: TLS over TCP
  }
  // Least useful last (dropped first when the record is full): TURN over plain TCP.
  for (const auto& bound : s.udp)
    if (auto ep = advertised(bound, s.external)) a.turn.push_back("turn:" + ep->toString() + "?transport=tcp");
  if (s.http)
    if (auto ep = advertised(*s.http, s.external)) a.api = (s.httpTls ? "https://" : "http://") + ep->toString();
  return a;
}

Result<enr::EnrRecord, enr::EnrError> signFitting(NodeAdvert advert, uint64_t seq, const identity::PrivateKey& key) {
  for (;;) {
    auto record = toBuilder(advert, seq).sign(key);
    if (record || record.error() != enr::EnrError::TooLarge) return record;
    auto& longer = advert.turn.size() >= advert.stun.size() ? advert.turn : advert.stun;
    if (longer.size() <= 1) return record;  // even one URI of each does not fit
    longer.pop_back();
  }
}

Result<enr::EnrRecord, std::string> publishNodeRecord(storage::Database& db, const NodeAdvert& advert,
                                                      const identity::PrivateKey& key) {
  if (auto s = db.migrate("node", kSchema); !s) return unexpected("node record: " + s.error().message);
  std::optional<enr::EnrRecord> stored;
  {
    auto select = db.prepare("SELECT enr FROM node_record WHERE id = 1");
    if (!select) return unexpected("node record: " + select.error().message);
    auto row = select->step();
    if (!row) return unexpected("node record: " + row.error().message);
    if (*row) {
      auto decoded = enr::EnrRecord::decode(select->columnBlob(0));
      if (decoded) stored = std::move(*decoded);  // an unreadable row is replaced, seq restarts at 1
    }
  }
  const uint64_t storedSeq = stored ? stored->seq() : 0;
  auto record = signFitting(advert, std::max<uint64_t>(storedSeq, 1), key);
  if (record && stored && record->encoded() == stored->encoded()) return std::move(*record);
  if (stored) record = signFitting(advert, storedSeq + 1, key);
  if (!record) return unexpected(std::string("node record: ") + enr::describe(record.error()));
  auto upsert = db.prepare("INSERT OR REPLACE INTO node_record (id, enr) VALUES (1, ?1)");
  if (!upsert) return unexpected("node record: " + upsert.error().message);
  if (auto s = upsert->bindBlob(1, record->encoded()); !s) return unexpected("node record: " + s.error().message);
  if (auto s = upsert->run(); !s) return unexpected("node record: " + s.error().message);
  return std::move(*record);
}

}  // namespace rdv::node
