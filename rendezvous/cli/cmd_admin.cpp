// rdv admin: session control over a node's admin API (issue 18; node/api/admin_api.h).
//   rdv admin allocations [--identity ID] [--class NAME] [--format table|json]
//   rdv admin end ID | ban IDENTITY [--reason R] [--until UNIX] | unban IDENTITY | bans | drain [--off]
// Every command takes --node URL (the admin listener) and --token T or --token-file FILE
// (or RDV_ADMIN_TOKEN). Output: one JSON object per line (--format json) or a table.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "rendezvous/cli/subcommands.h"
#include "rendezvous/client/http_client.h"

namespace rdv::cli {

namespace {

struct AdminOptions {
  std::string node;
  std::string token;
  std::string tokenFile;
  std::string format = "table";
  // allocations
  std::string identity;
  std::string cls;
  // end, ban, unban
  std::string target;
  std::string reason;
  int64_t until = 0;
  bool off = false;
};

int fail(int code, const std::string& message) {
  std::cerr << "rdv admin: " << message << "\n";
  return code;
}

std::string oneLine(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

std::string errorMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return oneLine(j["message"].get<std::string>());
  return oneLine(body);
}

// The token from --token, else the first line of --token-file; "" with `problem` set when neither works.
std::string tokenOf(const AdminOptions& o, std::string& problem) {
  if (!o.token.empty()) return o.token;
  if (o.tokenFile.empty()) {
    problem = "--token or --token-file (or RDV_ADMIN_TOKEN) is needed";
    return "";
  }
  std::ifstream f(o.tokenFile);
  std::string line;
  if (!f || !std::getline(f, line)) {
    problem = "--token-file: cannot read '" + o.tokenFile + "'";
    return "";
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty()) problem = "--token-file: '" + o.tokenFile + "' is empty";
  return line;
}

// One admin API call; prints the node's error and returns its exit code, or fills `out`.
int call(const AdminOptions& o, const std::string& method, const std::string& target, const std::string& body,
         nlohmann::json& out) {
  std::string problem;
  const std::string token = tokenOf(o, problem);
  if (!problem.empty()) return fail(2, problem);
  auto url = parseHttpUrl(o.node);
  if (!url) return fail(2, "--node: " + url.error());
  if (o.format != "table" && o.format != "json") return fail(2, "--format: '" + o.format + "' is not table or json");
  auto reply = httpRequest(*url, {method, target, body, std::chrono::milliseconds(15000), nullptr, "Bearer " + token});
  if (!reply) return fail(1, "cannot reach " + o.node + ": " + reply.error());
  if (reply->status == 401) return fail(1, "the node refused the admin token (401): check --token");
  if (reply->status == 404 && target.rfind("/v1/allocations/", 0) != 0 && target.rfind("/v1/bans/", 0) != 0)
    return fail(1, "no " + target + " at " + o.node + " (404): --node must be the admin listener (admin-listen)");
  if (reply->status < 200 || reply->status >= 300)
    return fail(1, method + " " + target + ": status " + std::to_string(reply->status) + ": " + errorMessage(reply->body));
  out = nlohmann::json::parse(reply->body, nullptr, false);
  if (out.is_discarded()) return fail(1, "malformed answer from " + o.node);
  return 0;
}

std::string cell(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "-";
  if (v.is_array()) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + cell(e);
    return s.empty() ? "-" : s;
  }
  return v.dump();
}

// A list as JSON lines, or as a table with `columns`.
void printList(const AdminOptions& o, const nlohmann::json& list, const std::vector<std::string>& columns) {
  if (o.format == "json") {
    for (const auto& row : list) std::cout << row.dump() << "\n";
    return;
  }
  std::vector<size_t> width;
  for (const auto& c : columns) width.push_back(c.size());
  for (const auto& row : list)
    for (size_t i = 0; i < columns.size(); ++i) width[i] = std::max(width[i], cell(row.value(columns[i], nlohmann::json())).size());
  auto line = [&](auto get) {
    for (size_t i = 0; i < columns.size(); ++i)
      std::cout << std::left << std::setw(static_cast<int>(width[i]) + (i + 1 < columns.size() ? 2 : 0)) << get(i);
    std::cout << "\n";
  };
  line([&](size_t i) { return columns[i]; });
  for (const auto& row : list) line([&](size_t i) { return cell(row.value(columns[i], nlohmann::json())); });
}

void printOne(const AdminOptions& o, const nlohmann::json& j) {
  if (o.format == "json") {
    std::cout << j.dump() << "\n";
    return;
  }
  for (const auto& [k, v] : j.items()) std::cout << k << ": " << cell(v) << "\n";
}

int runAllocations(const AdminOptions& o) {
  std::string target = "/v1/allocations";
  std::string sep = "?";
  if (!o.identity.empty()) target += sep + "identity=" + urlEncode(o.identity), sep = "&";
  if (!o.cls.empty()) target += sep + "class=" + urlEncode(o.cls);
  nlohmann::json j;
  if (int rc = call(o, "GET", target, "", j)) return rc;
  printList(o, j.value("allocations", nlohmann::json::array()),
            {"id", "identity", "class", "client", "relay", "peers", "bytes_up", "bytes_down", "age_seconds"});
  return 0;
}

int runBans(const AdminOptions& o) {
  nlohmann::json j;
  if (int rc = call(o, "GET", "/v1/bans", "", j)) return rc;
  printList(o, j.value("bans", nlohmann::json::array()), {"identity", "reason", "created", "until"});
  return 0;
}

int runSimple(const AdminOptions& o, const std::string& method, const std::string& target, const std::string& body) {
  nlohmann::json j;
  if (int rc = call(o, method, target, body, j)) return rc;
  printOne(o, j);
  return 0;
}

void commonOptions(CLI::App* cmd, const std::shared_ptr<AdminOptions>& o) {
  cmd->add_option("--node", o->node, "the node's ADMIN listener, e.g. http://127.0.0.1:9090")->required();
  cmd->add_option("--token", o->token, "the node's admin-token (or set RDV_ADMIN_TOKEN)")->envname("RDV_ADMIN_TOKEN");
  cmd->add_option("--token-file", o->tokenFile, "read the admin-token from the first line of FILE");
  cmd->add_option("--format", o->format, "table or json (one JSON object per line)")->capture_default_str();
}

}  // namespace

void addAdminCommands(CLI::App& app) {
  auto* admin = app.add_subcommand("admin", "session control on a node's admin API: allocations, end, ban, unban, "
                                            "bans, drain");
  admin->require_subcommand(1);
  auto o = std::make_shared<AdminOptions>();

  auto* list = admin->add_subcommand("allocations", "list live allocations (GET /v1/allocations)");
  commonOptions(list, o);
  list->add_option("--identity", o->identity, "only this identity (ENR node id, REST ID or user)");
  list->add_option("--class", o->cls, "only this quota class");
  list->callback([o] { exitCode() = runAllocations(*o); });

  auto* end = admin->add_subcommand("end", "end an allocation at once (DELETE /v1/allocations/ID)");
  commonOptions(end, o);
  end->add_option("ID", o->target, "the allocation id (from rdv admin allocations)")->required();
  end->callback([o] { exitCode() = runSimple(*o, "DELETE", "/v1/allocations/" + urlEncode(o->target), ""); });

  auto* ban = admin->add_subcommand("ban", "ban an identity: 403 on Allocate and on registry writes, its hub login refused");
  commonOptions(ban, o);
  ban->add_option("IDENTITY", o->target, "ENR node id (hex), REST username ID or static user name")->required();
  ban->add_option("--reason", o->reason, "why (kept with the ban)");
  ban->add_option("--until", o->until, "unix time the ban ends (default: until lifted)");
  ban->callback([o] {
    nlohmann::json body = {{"identity", o->target}, {"reason", o->reason}};
    if (o->until != 0) body["until"] = o->until;
    exitCode() = runSimple(*o, "POST", "/v1/bans", body.dump());
  });

  auto* unban = admin->add_subcommand("unban", "lift a ban (DELETE /v1/bans/IDENTITY)");
  commonOptions(unban, o);
  unban->add_option("IDENTITY", o->target, "the banned identity")->required();
  unban->callback([o] { exitCode() = runSimple(*o, "DELETE", "/v1/bans/" + urlEncode(o->target), ""); });

  auto* bans = admin->add_subcommand("bans", "list the bans (GET /v1/bans)");
  commonOptions(bans, o);
  bans->callback([o] { exitCode() = runBans(*o); });

  auto* drain = admin->add_subcommand("drain", "refuse new allocations (300 to alternate-server), keep live ones");
  commonOptions(drain, o);
  drain->add_flag("--off", o->off, "stop draining (DELETE /v1/drain)");
  drain->callback([o] { exitCode() = runSimple(*o, o->off ? "DELETE" : "POST", "/v1/drain", ""); });
}

}  // namespace rdv::cli
