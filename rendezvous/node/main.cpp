// rendezvousd: the rendezvous node. Configuration: embedded defaults < --config FILE < flags.
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "rendezvous/node/config.h"
#include "rendezvous/node/daemon.h"
#include "rendezvous/node/log.h"

namespace {

using rdv::node::OptionSpec;

// Turns a flag's text into the JSON value the config table expects.
nlohmann::json flagValue(const OptionSpec& spec, const std::vector<std::string>& values) {
  if (spec.repeatable) return nlohmann::json(values);
  const std::string& v = values.back();
  if (std::string_view(spec.kind) == "uint") {
    char* end = nullptr;
    const long long n = std::strtoll(v.c_str(), &end, 10);
    if (end != v.c_str() && *end == '\0') return nlohmann::json(n);
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "rendezvousd: STUN (RFC 8489/5780), metered TURN relay (RFC 8656), ENR registry and signalling node.\n"
      "Configuration: embedded defaults, then --config FILE (JSON, comments allowed), then flags.\n"
      "Every configuration key is also a flag of the same name."};
  app.set_version_flag("--version", "rendezvousd 0.1.0");
  std::string configPath;
  bool checkOnly = false;
  bool printDefault = false;
  app.add_option("--config", configPath, "JSON configuration file (keys as the flags below, comments allowed)");
  app.add_flag("--check-config", checkOnly, "validate the configuration, print it as JSON and exit");
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
  auto merged = rdv::node::parseConfigText(rdv::node::embeddedDefaultConfig(), "embedded default configuration");
  if (!merged) {
    std::cerr << "rendezvousd: " << merged.error() << "\n";
    return 2;
  }
  nlohmann::json config = *merged;
  if (!configPath.empty()) {
    std::string text;
    if (auto err = readFile(configPath, text)) {
      std::cerr << "rendezvousd: " << *err << "\n";
      return 2;
    }
    auto file = rdv::node::parseConfigText(text, configPath);
    if (!file) {
      std::cerr << "rendezvousd: " << file.error() << "\n";
      return 2;
    }
    rdv::node::mergeConfig(config, *file);
  }
  nlohmann::json flags = nlohmann::json::object();
  for (const auto& spec : rdv::node::optionSpecs()) {
    const auto& values = flagValues[spec.name];
    if (!values.empty()) flags[spec.name] = flagValue(spec, values);
  }
  rdv::node::mergeConfig(config, flags);
  auto parsed = rdv::node::configFromJson(config);
  if (!parsed) {
    std::cerr << "rendezvousd: " << parsed.error() << "\n";
    return 2;
  }
  if (checkOnly) {
    std::cout << config.dump(2) << "\n";
    return 0;
  }

  std::signal(SIGPIPE, SIG_IGN);
  rdv::node::initLogging(parsed->logLevel, parsed->logFormat);
  rdv::node::Daemon daemon(*parsed);
  if (auto err = daemon.start()) {
    rdv::node::logEvent(rdv::node::Level::Error, "start-failed", {{"reason", *err}});
    std::cerr << "rendezvousd: " << *err << "\n";
    return 1;
  }
  daemon.runUntilSignalled();
  return 0;
}
