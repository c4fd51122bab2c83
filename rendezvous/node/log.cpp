#include "rendezvous/node/log.h"

#include <algorithm>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace rdv::node {

namespace {

LogFormat gFormat = LogFormat::Text;  // written once at start-up, before any worker thread exists

spdlog::level::level_enum toSpd(Level l) {
  switch (l) {
    case Level::Trace: return spdlog::level::trace;
    case Level::Debug: return spdlog::level::debug;
    case Level::Info: return spdlog::level::info;
    case Level::Warn: return spdlog::level::warn;
    case Level::Error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Never throws: bytes that are not UTF-8 (from the network) are replaced.
std::string safeDump(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Control characters never reach a text line raw (a value with a newline could forge a line): \n \r \t,
// quote and backslash are escaped C-style, other bytes below 0x20 and 0x7f as \xNN.
void appendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
}

bool plainToken(std::string_view s) {
  if (s.empty()) return false;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f || ch == '"' || ch == '=' || ch == '\\') return false;
  }
  return true;
}

std::string textValue(const nlohmann::json& v) {
  if (!v.is_string()) return safeDump(v);  // JSON escapes every control character
  std::string s = v.get<std::string>();
  if (std::any_of(s.begin(), s.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; }))
    s = nlohmann::json::parse(safeDump(v)).get<std::string>();  // bytes that are not UTF-8 become U+FFFD
  if (plainToken(s)) return s;
  std::string out = "\"";
  appendEscaped(out, s);
  return out + "\"";
}

}  // namespace

std::string formatTextLine(std::string_view event, const nlohmann::json& fields) {
  std::string line;
  appendEscaped(line, event);
  if (fields.is_object())
    for (const auto& [k, v] : fields.items()) {
      line += ' ';
      appendEscaped(line, k);
      line += '=' + textValue(v);
    }
  return line;
}

void initLogging(const std::string& level, LogFormat format) {
  gFormat = format;
  auto logger = spdlog::stderr_logger_mt("rendezvousd");
  if (format == LogFormat::Json) {
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void setLogLevel(const std::string& level) { spdlog::default_logger_raw()->set_level(spdlog::level::from_str(level)); }

bool logEnabled(Level level) { return spdlog::default_logger_raw()->should_log(toSpd(level)); }

void logEvent(Level level, std::string_view event, const nlohmann::json& fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(toSpd(level))) return;
  std::string line;
  if (gFormat == LogFormat::Json) {
    line = "\"event\":" + safeDump(nlohmann::json(event));
    if (fields.is_object())
      for (const auto& [k, v] : fields.items()) line += "," + safeDump(nlohmann::json(k)) + ":" + safeDump(v);
  } else {
    line = formatTextLine(event, fields);
  }
  logger->log(toSpd(level), "{}", line);
}

}  // namespace rdv::node
