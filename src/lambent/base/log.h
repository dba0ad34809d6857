#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

// Logging goes through spdlog. Each line carries a component and an event name first, then the
// ids involved as key=value pairs, so lines can be grepped and parsed:
//   LOG_INFO("server", "listening", "address={}", addr);
// Payloads, environment variables, keys and signatures are never logged.
namespace lambent::log {

enum class Level { debug, info, warn, error };

// Sets up the process-wide logger (stderr, ISO timestamps). Safe to call more than once.
void init(Level level);
Level parse_level(std::string_view text, Level fallback);

}  // namespace lambent::log

#define LAMBENT_LOG(lvl, component, event, fmtstr, ...) \
  ::spdlog::lvl("{} {} " fmtstr, component, event __VA_OPT__(, ) __VA_ARGS__)
#define LOG_DEBUG(component, event, fmtstr, ...) \
  LAMBENT_LOG(debug, component, event, fmtstr __VA_OPT__(, ) __VA_ARGS__)
#define LOG_INFO(component, event, fmtstr, ...) \
  LAMBENT_LOG(info, component, event, fmtstr __VA_OPT__(, ) __VA_ARGS__)
#define LOG_WARN(component, event, fmtstr, ...) \
  LAMBENT_LOG(warn, component, event, fmtstr __VA_OPT__(, ) __VA_ARGS__)
#define LOG_ERROR(component, event, fmtstr, ...) \
  LAMBENT_LOG(error, component, event, fmtstr __VA_OPT__(, ) __VA_ARGS__)
