// rendezvousd: the rendezvous node. Configuration: embedded defaults < --config FILE < flags.
#include <pthread.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "rendezvous/node/check_config.h"
#include "rendezvous/node/config.h"
#include "rendezvous/node/coturn_import.h"
#include "rendezvous/node/daemon.h"
#include "rendezvous/node/log.h"
#include "rendezvous/node/machine_defaults.h"
#include "rendezvous/node/secret_files.h"

namespace {

using rdv::node::OptionSpec;

// Turns a flag's text into the JSON value the config table expects.
nlohmann::json flagValue(const OptionSpec& spec, const std::vector<std::string>& values) {
  if (spec.repeatable) return nlohmann::json(values);
  const std::string& v = values.back();
  if (std::string_view(spec.kind) == "uint") {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (end != v.c_str() && *end == '\0' && v[0] != '-') return nlohmann::json(n);
  }
  if (std::string_view(spec.kind) == "object") {  // object-valued keys take their JSON text as the flag value
    auto j = nlohmann::json::parse(v, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) return j;
  }
  if (std::string_view(spec.kind) == "number") {
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (end != v.c_str() && *end == '\0') return nlohmann::json(d);
  }
  return nlohmann::json(v);  // the table reports the type error with the key's name
}

std::optional<std::string> readFile(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "cannot read config file '" + path + "'";
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return std::nullopt;
}

// Embedded defaults < --config file < flags, merged and parsed. Errors name the file or the key.
rdv::Result<std::pair<nlohmann::json, rdv::node::Config>, std::string> loadConfig(
    const std::string& configPath, const std::map<std::string, std::vector<std::string>>& flagValues) {
  using Out = rdv::Result<std::pair<nlohmann::json, rdv::node::Config>, std::string>;
  auto merged = rdv::node::parseConfigText(rdv::node::embeddedDefaultConfig(), "embedded default configuration");
  if (!merged) return Out(rdv::unexpected(merged.error()));
  nlohmann::json config = *merged;
  if (!configPath.empty()) {
    std::string text;
    if (auto err = readFile(configPath, text)) return Out(rdv::unexpected(*err));
    auto file = rdv::node::parseConfigText(text, configPath);
    if (!file) return Out(rdv::unexpected(file.error()));
    rdv::node::mergeConfig(config, *file);
  }
  nlohmann::json flags = nlohmann::json::object();
  for (const auto& spec : rdv::node::optionSpecs()) {
    const auto it = flagValues.find(spec.name);
    if (it != flagValues.end() && !it->second.empty()) flags[spec.name] = flagValue(spec, it->second);
  }
  rdv::node::mergeConfig(config, flags);
  auto parsed = rdv::node::configFromJson(config);
  if (!parsed) return Out(rdv::unexpected(parsed.error()));
  // max-allocations and bps-capacity, unless set: from the relay range and this machine (printed by
  // --print-config; the same on a SIGHUP reload, so they do not count as changed).
  rdv::node::applyMachineDefaults(config, *parsed, rdv::node::readMachineFacts());
  return std::make_pair(std::move(config), std::move(*parsed));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "rendezvousd: STUN (RFC 8489/5780), metered TURN relay (RFC 8656), ENR registry and signalling node.\n"
      "Configuration: embedded defaults, then --config FILE (JSON, comments allowed), then flags.\n"
      "Every configuration key is also a flag of the same name."};
  app.set_version_flag("--version", "rendezvousd 0.1.0");
  std::string configPath;
  bool checkOnly = false;
  bool printConfig = false;
  bool printDefault = false;
  std::string coturnPath;
  app.add_option("--config", configPath, "JSON configuration file (keys as the flags below, comments allowed)");
  app.add_flag("--check-config", checkOnly,
               "check everything start-up checks (keys, TLS files, data dir, node key) without binding or starting "
               "anything; print ok (exit 0) or the error start-up would give (exit 2)");
  app.add_flag("--print-config", printConfig, "validate the configuration, print the effective configuration as JSON and exit");
  app.add_option("--import-coturn-config", coturnPath,
                 "print the rendezvous configuration equivalent to coturn's turnserver.conf FILE (unmapped options as // lines)")
      ->type_name("FILE");
  app.add_flag("--print-default-config", printDefault, "print the embedded default configuration and exit");
  std::map<std::string, std::vector<std::string>> flagValues;
  for (const auto& spec : rdv::node::optionSpecs()) {
    auto* opt = app.add_option("--" + std::string(spec.name), flagValues[spec.name], spec.help);
    opt->type_name(spec.repeatable ? "VALUE (repeatable)" : "VALUE");
    if (!spec.repeatable) opt->expected(1);
  }
  CLI11_PARSE(app, argc, argv);

  if (printDefault) {
    std::cout << rdv::node::embeddedDefaultConfig() << "\n";
    return 0;
  }
  if (!coturnPath.empty()) {
    std::string text;
    if (auto err = readFile(coturnPath, text)) {
      std::cerr << "rendezvousd: import-coturn-config: " << *err << "\n";
      return 2;
    }
    std::cout << rdv::node::renderCoturnImport(rdv::node::importCoturnConfig(text), coturnPath);
    return 0;
  }
  auto loaded = loadConfig(configPath, flagValues);
  if (!loaded) {
    std::cerr << "rendezvousd: " << loaded.error() << "\n";
    return 2;
  }
  auto& [config, parsedConfig] = *loaded;
  if (checkOnly) {
    if (auto err = rdv::node::checkStartup(parsedConfig)) {
      std::cerr << "rendezvousd: " << *err << "\n";
      return 2;
    }
    std::cout << "ok\n";
    return 0;
  }
  if (printConfig) {
    std::cout << config.dump(2) << "\n";
    return 0;
  }
  const auto* parsed = &parsedConfig;

  std::signal(SIGPIPE, SIG_IGN);
  // SIGINT/SIGTERM/SIGHUP stay blocked until the daemon's handlers are in place (runUntilSignalled
  // unblocks them): a SIGTERM right after the ready file appeared used to kill the node with the default
  // action, before the ledger's final flush. Threads started meanwhile inherit the mask, so the main
  // thread receives them.
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stopSignals, s);
  pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
  rdv::node::initLogging(parsed->logLevel, parsed->logFormat);
  for (const auto& [key, values] : flagValues) {
    if (!values.empty() && rdv::node::isSecretKey(key))
      rdv::node::logEvent(rdv::node::Level::Warn, "secret-on-command-line",
                          {{"key", key},
                           {"reason", "--" + key + " is visible to every user of this host (ps, /proc/PID/cmdline): "
                                      "use " + (key == "user" ? std::string("users") : key) + "-file or the config file"}});
  }
  rdv::node::Daemon daemon(*parsed);
  daemon.setReloader(config, [configPath, flagValues] { return loadConfig(configPath, flagValues); });
  if (auto err = daemon.start()) {
    rdv::node::logEvent(rdv::node::Level::Error, "start-failed", {{"reason", *err}});
    std::cerr << "rendezvousd: " << *err << "\n";
    return 2;  // start-up problems (a taken port, a locked data directory, ...) exit 2 like config errors
  }
  daemon.runUntilSignalled();
  return 0;
}
