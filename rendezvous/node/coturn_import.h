// `rendezvousd --import-coturn-config FILE`: a coturn turnserver.conf turned into the equivalent rendezvous
// configuration. Pure: text in, JSON and notes out. The output is JSON with `//` comment lines (the
// rendezvous configuration parser accepts comments), one comment per coturn option that has no rendezvous
// equivalent, naming the option, its line and why (docs/operator.md, "Coming from coturn").
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace rdv::node {

struct CoturnImport {
  nlohmann::json config = nlohmann::json::object();  // rendezvous keys, ready for configFromJson
  std::vector<std::string> unmapped;                 // "option (line N): reason", in file order
  std::vector<std::string> notes;                    // how a mapped option differs from coturn's meaning
};

// Never fails: unknown, malformed or unsupported options become `unmapped` entries.
CoturnImport importCoturnConfig(const std::string& text);

// The printable configuration: a header, the notes and the unmapped options as `//` lines, then the JSON.
std::string renderCoturnImport(const CoturnImport& imported, const std::string& origin);

}  // namespace rdv::node
