#include "lambent/base/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace lambent::log {

void init(Level level) {
  auto logger = spdlog::get("lambent");
  if (!logger) logger = spdlog::stderr_logger_mt("lambent");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  switch (level) {
    case Level::debug: spdlog::set_level(spdlog::level::debug); break;
    case Level::info: spdlog::set_level(spdlog::level::info); break;
    case Level::warn: spdlog::set_level(spdlog::level::warn); break;
    case Level::error: spdlog::set_level(spdlog::level::err); break;
  }
}

Level parse_level(std::string_view text, Level fallback) {
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warn") return Level::warn;
  if (text == "error") return Level::error;
  return fallback;
}

}  // namespace lambent::log
