#include "lambent/services/cloudwatch/timestamps.h"

#include <fmt/format.h>

#include <chrono>

namespace lambent::services::cloudwatch {

namespace {

// Reads exactly `count` digits at `pos`.
bool digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_iso8601_ms(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, year) || text.size() < 19 || text[4] != '-' ||
      !digits(text, 5, 2, month) || text[7] != '-' || !digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || !digits(text, 11, 2, hour) ||
      text[13] != ':' || !digits(text, 14, 2, minute) || text[16] != ':' ||
      !digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  std::int64_t millis = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    std::size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (pos < text.size()) {
    char zone = text[pos];
    if (zone == 'Z' || zone == 'z') {
      ++pos;
    } else if (zone == '+' || zone == '-') {
      int zone_hours = 0, zone_minutes = 0;
      if (!digits(text, pos + 1, 2, zone_hours)) return std::nullopt;
      std::size_t minutes_at = pos + 3;
      if (minutes_at < text.size() && text[minutes_at] == ':') ++minutes_at;
      if (!digits(text, minutes_at, 2, zone_minutes)) return std::nullopt;
      if (zone_hours > 23 || zone_minutes > 59) return std::nullopt;
      offset_s = (zone_hours * 3600 + zone_minutes * 60) * (zone == '+' ? 1 : -1);
      pos = minutes_at + 2;
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;

  using namespace std::chrono;
  year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                      std::chrono::day(static_cast<unsigned>(day))};
  // Second 60 is a leap second, which CloudWatch does not accept either.
  if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::int64_t days = sys_days(date).time_since_epoch().count();
  std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return seconds * 1000 + millis;
}

std::string format_iso8601_ms(std::int64_t epoch_ms) {
  using namespace std::chrono;
  std::int64_t seconds = epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000;
  auto millis = static_cast<int>(epoch_ms - seconds * 1000);
  std::int64_t days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400;
  auto in_day = static_cast<int>(seconds - days * 86400);
  year_month_day date{sys_days(std::chrono::days(days))};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     in_day / 3600, (in_day / 60) % 60, in_day % 60, millis);
}

}  // namespace lambent::services::cloudwatch
