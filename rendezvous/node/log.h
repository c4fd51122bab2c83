// Structured logs: one line per event, as `event key=value ...` text or as one JSON object per line.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rendezvous/node/config.h"

namespace rdv::node {

enum class Level { Trace, Debug, Info, Warn, Error };

void initLogging(const std::string& level, LogFormat format);
bool logEnabled(Level level);
// A reload (SIGHUP): from now on, events below `level` (trace ... off) are dropped. Any thread.
void setLogLevel(const std::string& level);
// `fields` is a JSON object; its members become key=value pairs (text) or JSON members.
// The text form of one event (without time and level): `event key=value ...`; a value with a space, quote,
// `=`, backslash or control character is quoted, with control characters escaped (\n, \xNN).
std::string formatTextLine(std::string_view event, const nlohmann::json& fields);
void logEvent(Level level, std::string_view event, const nlohmann::json& fields = nlohmann::json::object());

}  // namespace rdv::node
