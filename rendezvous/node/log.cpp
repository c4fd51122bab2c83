#include "rendezvous/node/log.h"

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

std::string textValue(const nlohmann::json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.find_first_of(" \"=") == std::string::npos && !s.empty()) return s;
    return safeDump(v);  // quoted and escaped
  }
  return safeDump(v);
}

}  // namespace

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
    line.assign(event);
    if (fields.is_object())
      for (const auto& [k, v] : fields.items()) line += " " + k + "=" + textValue(v);
  }
  logger->log(toSpd(level), "{}", line);
}

}  // namespace rdv::node
