// rdv ice-servers: fetch RTCIceServer-shaped STUN/TURN servers with short-lived TURN credentials from a
// node, signing the request with the peer's key (or presenting the operator's shared secret).
#include <CLI/CLI.hpp>

#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "rendezvous/identity/api_signature.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/cli/subcommands.h"
#include "rendezvous/client/http_client.h"

namespace rdv::cli {

namespace {

struct IceOptions {
  std::string node;
  std::string keyFile;
  std::string secret;
  std::string username;
};

int fail(const std::string& message) {
  std::cerr << "rdv ice-servers: " << message << "\n";
  return 1;
}

int fetchIceServers(const IceOptions& o) {
  auto url = parseHttpUrl(o.node);
  if (!url) return fail(url.error());
  std::string authorization;
  if (!o.secret.empty()) {
    authorization = "Bearer " + o.secret;
  } else {
    auto key = identity::PrivateKey::load(o.keyFile);
    if (!key) return fail(o.keyFile + ": " + std::string(identity::describe(key.error())));
    // The signature names the node it is for: ask the node who it is first.
    auto info = httpRequest(*url, {"GET", "/v1/node", "", std::chrono::milliseconds(10000), nullptr, ""});
    if (!info) return fail(info.error());
    auto j = nlohmann::json::parse(info->body, nullptr, false);
    auto nodeId = j.is_object() && j["node_id"].is_string() ? identity::NodeId::fromHex(j["node_id"].get<std::string>())
                                                            : std::nullopt;
    if (info->status != 200 || !nodeId) return fail("GET /v1/node did not give a node id (status " + std::to_string(info->status) + ")");
    const int64_t now = std::time(nullptr);
    auto sig = key->signRecoverable(identity::apiRequestDigest(identity::kIceServersDomain, *nodeId, now));
    if (!sig) return fail(std::string("signing failed: ") + identity::describe(sig.error()));
    authorization = "RDV-Sig " + key->nodeId().hex() + ":" + std::to_string(now) + ":" + toHex(*sig);
  }
  std::string target = "/v1/ice-servers";
  if (!o.username.empty()) target += "?username=" + urlEncode(o.username);
  auto reply = httpRequest(*url, {"GET", target, "", std::chrono::milliseconds(10000), nullptr, authorization});
  if (!reply) return fail(reply.error());
  if (reply->status != 200) return fail("status " + std::to_string(reply->status) + ": " + reply->body);
  std::cout << reply->body << std::endl;
  return 0;
}

}  // namespace

void addIceCommands(CLI::App& app) {
  auto o = std::make_shared<IceOptions>();
  auto* cmd = app.add_subcommand("ice-servers", "fetch STUN/TURN servers with short-lived TURN credentials (JSON, "
                                                "RTCIceServer-shaped) from a node");
  cmd->add_option("--node", o->node, "the node's HTTP API, e.g. http://127.0.0.1:8080")->required();
  auto* key = cmd->add_option("--key", o->keyFile, "sign the request with this peer key (rdv key new)");
  auto* secret = cmd->add_option("--secret", o->secret, "or present the operator's shared auth-secret");
  key->excludes(secret);
  cmd->add_option("--username", o->username, "with --secret: the ID in the credential's EXPIRY:ID username");
  cmd->callback([o, key, secret] {
    if (key->count() == 0 && secret->count() == 0) {
      exitCode() = fail("give --key FILE or --secret SECRET");
      return;
    }
    exitCode() = fetchIceServers(*o);
  });
}

}  // namespace rdv::cli
