// rdv register, discover, unregister, node-info: the registry API of a rendezvous node
// (docs/registry.md). Output on success is the node's JSON reply on one line (discover: one JSON
// document {"registrations": [...], "cookie": ...}); on failure "rdv CMD: HTTP STATUS code: message"
// on stderr and exit code 1.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/eth_address.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/unregister_message.h"
#include "rendezvous/cli/subcommands.h"
#include "rendezvous/client/http_client.h"
#include "rendezvous/cli/record_options.h"

namespace rdv::cli {

namespace {

using Json = nlohmann::json;

// A usage error (a flag's value): exit 2.
int usage(const std::string& command, const std::string& message) {
  std::cerr << "rdv " << command << ": " << message << "\n";
  return 2;
}

int fail(const std::string& command, const std::string& message) {
  std::cerr << "rdv " << command << ": " << message << "\n";
  return 1;
}

struct NodeOptions {
  std::string node;  // http://HOST:PORT
  std::string caFile;
  unsigned timeoutMs = 10000;
};

void addNodeOptions(CLI::App& cmd, NodeOptions& o) {
  cmd.add_option("--node", o.node, "the node's API URL, e.g. http://127.0.0.1:8080")->required();
  cmd.add_option("--ca", o.caFile, "for https: trust this CA or certificate (PEM)");
  cmd.add_option("--timeout", o.timeoutMs, "milliseconds for the whole request")->capture_default_str();
}

// One API call; the reply's JSON on 2xx, else the printed error and exit code 1.
Result<Json, int> call(const std::string& command, const NodeOptions& o, HttpCall c, int expectStatus) {
  auto url = parseHttpUrl(o.node);
  if (!url) return unexpected(fail(command, url.error()));
  Stream::TlsOptions tls;
  tls.caFile = o.caFile;
  if (url->tls && !IpAddress::parse(url->host)) tls.serverName = url->host;
  c.tls = &tls;
  c.timeout = std::chrono::milliseconds(o.timeoutMs);
  auto reply = httpRequest(*url, c);
  if (!reply) return unexpected(fail(command, reply.error()));
  auto j = Json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  if (reply->status != expectStatus) {
    if (j.is_object() && j.contains("error"))
      return unexpected(fail(command, "HTTP " + std::to_string(reply->status) + " " + j.value("error", "") + ": " +
                                          j.value("message", "")));
    return unexpected(fail(command, "HTTP " + std::to_string(reply->status)));
  }
  if (j.is_discarded() || !j.is_object()) return unexpected(fail(command, "the reply is not a JSON object"));
  return j;
}

struct RegisterOptions {
  NodeOptions node;
  std::string ns;
  std::optional<int64_t> ttl;
  std::string keyFile;
  std::string enr;
  RecordOptions record;
};

int64_t unixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int registerRecord(const RegisterOptions& o) {
  auto key = identity::PrivateKey::load(o.keyFile);
  if (!key) return fail("register", o.keyFile + ": " + identity::describe(key.error()));
  std::optional<enr::EnrRecord> record;
  if (o.enr.empty()) {
    auto built = buildRecord(o.record, *key);
    if (!built) return fail("register", built.error());
    record = std::move(*built);
  } else {
    auto given = enr::EnrRecord::fromText(o.enr);
    if (!given) return fail("register", std::string("--enr: not a valid ENR: ") + enr::describe(given.error()));
    if (given->nodeId() != key->nodeId())
      return fail("register", "--enr: the record is not this key's (the node needs the record's own key to sign)");
    record = std::move(*given);
  }
  // Proof of possession (docs/registry.md): the record's key signs (namespace, ttl, time).
  const int64_t now = unixMillisNow();
  const uint64_t signedTtl = o.ttl ? static_cast<uint64_t>(std::max<int64_t>(*o.ttl, 0)) : 0;
  auto signature = key->sign(registry::registerDigest(o.ns, record->encoded(), signedTtl, now));
  if (!signature) return fail("register", identity::describe(signature.error()));
  Json body = {{"namespace", o.ns}, {"enr", record->toText()}, {"time", now}, {"signature", toHex(*signature)}};
  if (o.ttl) body["ttl"] = *o.ttl;
  auto reply = call("register", o.node, {"POST", "/v1/registrations", body.dump()}, 201);
  if (!reply) return reply.error();
  std::cout << reply->dump() << std::endl;
  return 0;
}

struct DiscoverOptions {
  NodeOptions node;
  std::string ns;
  std::optional<unsigned> limit;
  std::string cookie;
  std::string id;  // a node id (64 hex) or an Ethereum address (0x + 40 hex)
};

int discover(const DiscoverOptions& o) {
  if (!o.id.empty()) {
    // One identity's records: by node id or by its Ethereum address (every namespace, or --namespace's).
    std::string target = "/v1/registrations?";
    if (identity::EthAddress::looksLikeAddress(o.id)) {
      if (!identity::EthAddress::parse(o.id))
        return usage("discover", "--id " + o.id + ": not an address (0x and 40 hex digits; mixed case must carry a "
                                 "valid EIP-55 checksum)");
      target += "address=" + urlEncode(o.id);
    } else {
      if (!identity::NodeId::fromHex(o.id)) return usage("discover", "--id must be a node id (64 hex) or a 0x address");
      target += "node_id=" + o.id;
    }
    if (!o.ns.empty()) target += "&namespace=" + urlEncode(o.ns);
    auto reply = call("discover", o.node, {"GET", target, ""}, 200);
    if (!reply) return reply.error();
    std::cout << reply->dump() << std::endl;
    return 0;
  }
  if (o.ns.empty()) return usage("discover", "give --namespace, --id, or both");
  std::string target = "/v1/registrations?namespace=" + urlEncode(o.ns);
  if (o.limit) target += "&limit=" + std::to_string(*o.limit);
  if (!o.cookie.empty()) target += "&cookie=" + urlEncode(o.cookie);
  auto reply = call("discover", o.node, {"GET", target, ""}, 200);
  if (!reply) return reply.error();
  std::cout << reply->dump() << std::endl;
  return 0;
}

struct UnregisterOptions {
  NodeOptions node;
  std::string ns;
  std::string keyFile;
  uint64_t seq = 1;
};

int unregister(const UnregisterOptions& o) {
  auto key = identity::PrivateKey::load(o.keyFile);
  if (!key) return fail("unregister", o.keyFile + ": " + identity::describe(key.error()));
  const int64_t now = unixMillisNow();
  auto signature = key->sign(registry::unregisterDigest(o.ns, key->nodeId(), o.seq, now));
  if (!signature) return fail("unregister", identity::describe(signature.error()));
  Json body = {{"namespace", o.ns}, {"node_id", key->nodeId().hex()}, {"time", now}, {"signature", toHex(*signature)}};
  auto reply = call("unregister", o.node, {"DELETE", "/v1/registrations", body.dump()}, 200);
  if (!reply) return reply.error();
  std::cout << reply->dump() << std::endl;
  return 0;
}

// Fetches GET /v1/node and checks the record itself: signature, and the node id the node claims.
int nodeInfo(const NodeOptions& o) {
  auto reply = call("node-info", o, {"GET", "/v1/node", ""}, 200);
  if (!reply) return reply.error();
  auto record = enr::EnrRecord::fromText(reply->value("enr", ""));
  if (!record) return fail("node-info", std::string("the node's record is invalid: ") + enr::describe(record.error()));
  if (record->nodeId().hex() != reply->value("node_id", ""))
    return fail("node-info", "the node id does not match the record");
  std::cout << reply->dump() << std::endl;
  return 0;
}

}  // namespace

void addRegistryCommands(CLI::App& app) {
  auto r = std::make_shared<RegisterOptions>();
  auto* reg = app.add_subcommand("register", "register a signed record in a namespace of a node's registry");
  addNodeOptions(*reg, r->node);
  reg->add_option("--namespace", r->ns, "namespace (1-255 bytes)")->required();
  reg->add_option("--ttl", r->ttl, "seconds (default: the node's, 2 h; bounds in the error if refused)");
  reg->add_option("--key", r->keyFile,
                  "private key file: builds the record from it (or with --enr, must be that record's key) and "
                  "signs the request (proof of possession)");
  reg->add_option("--enr", r->enr, "register this existing record (enr:...) instead of building one; needs its --key");
  reg->callback([r] {
    if (r->keyFile.empty()) {
      exitCode() = fail("register", "give --key (with record options, or with --enr for an existing record of that key)");
      return;
    }
    exitCode() = registerRecord(*r);
  });
  addRecordOptions(*reg, r->record);

  auto d = std::make_shared<DiscoverOptions>();
  auto* disc = app.add_subcommand("discover", "list the records in a namespace, or one identity's records "
                                              "(one JSON document)");
  addNodeOptions(*disc, d->node);
  disc->add_option("--namespace", d->ns, "namespace (with --id: only this namespace)");
  disc->add_option("--id", d->id, "only this identity's records: its node id (64 hex) or Ethereum address (0x...)");
  disc->add_option("--limit", d->limit, "at most this many records (node default 100, maximum 1000)");
  disc->add_option("--cookie", d->cookie, "the cookie of the previous page: only records new since then");
  disc->callback([d] { exitCode() = discover(*d); });

  auto u = std::make_shared<UnregisterOptions>();
  auto* unreg = app.add_subcommand("unregister", "remove this key's registration from a namespace (signed)");
  addNodeOptions(*unreg, u->node);
  unreg->add_option("--namespace", u->ns, "namespace")->required();
  unreg->add_option("--key", u->keyFile, "private key file of the registered record")->required();
  unreg->add_option("--seq", u->seq, "seq of the registered record")->capture_default_str();
  unreg->callback([u] { exitCode() = unregister(*u); });

  auto n = std::make_shared<NodeOptions>();
  auto* info = app.add_subcommand("node-info", "the node's own signed record (GET /v1/node), verified");
  addNodeOptions(*info, *n);
  info->callback([n] { exitCode() = nodeInfo(*n); });
}

}  // namespace rdv::cli
