// Hand-built /v1/usage documents for the renderer tests, and a way to hand a rendered text to a
// real parser (Python's csv and xml.etree from Debian's python3).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/cli/report/usage_document.h"

namespace rdv::report::test {

// The example document of the agreed interface: three allocations, two identities, one day.
nlohmann::json exampleDocument();
// A document with no usage at all in its window.
nlohmann::json emptyDocument();

struct IdentityUsage {
  std::string identity;
  std::string quotaClass;
  uint64_t toPeer = 0;
  uint64_t toClient = 0;
  uint64_t allocations = 1;
  uint64_t seconds = 60;
};
// A consistent by=identity document: rows, totals, top identities, daily and hourly series, with
// costs from `pricePerGb` (both directions) spread evenly over the window's days.
nlohmann::json documentOf(const std::vector<IdentityUsage>& identities, double pricePerGb,
                          const std::string& since = "2026-11-01", const std::string& until = "2026-11-22");

UsageDocument parsed(const nlohmann::json& doc);

struct ToolResult {
  int exitCode = -1;
  std::string out;
};
// Writes `input` to a temporary file and runs python3 -c `script` FILE.
ToolResult runPython(const std::string& script, const std::string& input);

}  // namespace rdv::report::test
