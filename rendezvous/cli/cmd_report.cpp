// rdv report: reads GET /v1/usage from a node's admin listener and renders it as a table, the JSON
// document itself, CSV or a self-contained HTML page (rendezvous/cli/report/ does the rendering).
// Exit codes: 0 done, 1 runtime error (node unreachable, refused, malformed answer, output not
// written), 2 usage error (bad flag values).
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "rendezvous/cli/subcommands.h"
#include "rendezvous/client/http_client.h"
#include "rendezvous/cli/report/render.h"

namespace rdv::cli {

namespace {

struct ReportOptions {
  std::string node;
  std::string adminToken;
  std::string since;
  std::string until;
  std::string by = "identity";
  std::string scope = "node";
  std::string format = "table";
  std::string output;
};

int fail(int code, const std::string& message) {
  std::cerr << "rdv report: " << message << "\n";
  return code;
}

// A server's text on one line, bounded, for an error message.
std::string oneLine(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

// The "message" of a JSON error body, else the body itself.
std::string errorMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return oneLine(j["message"].get<std::string>());
  return oneLine(body);
}

// Usage errors found before any request; "" when the options are fine.
std::string checkOptions(const ReportOptions& o) {
  if (!o.since.empty() && !report::parseDay(o.since)) return "--since: '" + o.since + "' is not a day (YYYY-MM-DD)";
  if (!o.until.empty() && !report::parseDay(o.until)) return "--until: '" + o.until + "' is not a day (YYYY-MM-DD)";
  if (!o.since.empty() && !o.until.empty() && *report::parseDay(o.since) > *report::parseDay(o.until))
    return "--since " + o.since + " is after --until " + o.until;
  if (!report::parseGroupBy(o.by)) return "--by: '" + o.by + "' is not identity, day or class";
  if (!report::parseFormat(o.format)) return "--format: '" + o.format + "' is not table, json, csv or html";
  if (o.adminToken.empty()) return "--admin-token: empty";
  if (o.scope != "node" && o.scope != "fleet") return "--scope: '" + o.scope + "' is not node or fleet";
  return "";
}

std::string usageTarget(const ReportOptions& o) {
  std::string target = "/v1/usage?by=" + urlEncode(o.by);
  if (!o.since.empty()) target += "&since=" + urlEncode(o.since);
  if (!o.until.empty()) target += "&until=" + urlEncode(o.until);
  if (o.scope != "node") target += "&scope=" + urlEncode(o.scope);
  return target;
}

// Writes next to the target and renames, so a failed run leaves no half-written report. The temporary file
// is created new (O_EXCL) and never through a symlink (O_NOFOLLOW): a link planted at FILE.tmp cannot make
// the report overwrite another file.
std::string writeFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    const int e = errno;
    if (e == EEXIST) return "cannot write " + tmp + ": it already exists (remove it and run again)";
    return "cannot write " + tmp + ": " + std::strerror(e);
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool closed = ::close(fd) == 0;
  std::error_code ec;
  if (done != text.size() || !closed) {
    std::filesystem::remove(tmp, ec);
    return "cannot write " + tmp;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return "cannot write " + path;
  }
  return "";
}

int runReport(const ReportOptions& o) {
  if (auto problem = checkOptions(o); !problem.empty()) return fail(2, problem);
  auto url = parseHttpUrl(o.node);
  if (!url) return fail(2, "--node: " + url.error());
  auto reply = httpRequest(*url, {"GET", usageTarget(o), "", std::chrono::milliseconds(30000), nullptr,
                                  "Bearer " + o.adminToken});
  if (!reply) return fail(1, "cannot reach " + o.node + ": " + reply.error());
  switch (reply->status) {
    case 200:
      break;
    case 401:
      return fail(1, "the node refused the admin token (401): check --admin-token");
    case 400:
      return fail(1, "the node refused the request (400): " + errorMessage(reply->body));
    case 404:
      return fail(1, "no /v1/usage at " + o.node + " (404): --node must be the admin listener (admin-listen)");
    default:
      return fail(1, "GET /v1/usage: status " + std::to_string(reply->status) + ": " + errorMessage(reply->body));
  }
  auto doc = report::parseUsageDocument(reply->body);
  if (!doc) return fail(1, "malformed /v1/usage document from " + o.node + ": " + doc.error());
  const std::string text = report::render(*doc, *report::parseFormat(o.format));
  if (o.output.empty() || o.output == "-") {
    std::cout << text << std::flush;
    if (!std::cout) return fail(1, "cannot write to standard output");
    return 0;
  }
  if (auto problem = writeFile(o.output, text); !problem.empty()) return fail(1, problem);
  return 0;
}

}  // namespace

void addReportCommands(CLI::App& app) {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand("report", "relay usage and cost from a node's ledger (GET /v1/usage on the admin "
                                           "listener) as a table, JSON, CSV or a self-contained HTML page");
  cmd->add_option("--node", o->node, "the node's ADMIN listener, e.g. http://127.0.0.1:9090")->required();
  cmd->add_option("--admin-token", o->adminToken, "the node's admin-token (or set RDV_ADMIN_TOKEN)")
      ->envname("RDV_ADMIN_TOKEN")
      ->required();
  cmd->add_option("--since", o->since, "first UTC day, YYYY-MM-DD (default: 29 days before --until)");
  cmd->add_option("--until", o->until, "last UTC day, YYYY-MM-DD, inclusive (default: today)");
  cmd->add_option("--by", o->by, "rows per identity, day or class")->capture_default_str();
  cmd->add_option("--scope", o->scope, "node (this node's ledger) or fleet (every node of its fleet, docs/fleet.md)")
      ->capture_default_str();
  cmd->add_option("--format", o->format, "table, json, csv or html")->capture_default_str();
  cmd->add_option("--output", o->output, "write the report to FILE instead of standard output");
  cmd->callback([o] { exitCode() = runReport(*o); });
}

}  // namespace rdv::cli
