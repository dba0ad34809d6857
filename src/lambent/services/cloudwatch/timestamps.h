#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// ISO 8601 date-times as the query protocol carries them ("2024-05-01T12:00:00Z",
// "2024-05-01T12:00:00.250+02:00"). Pure functions.
namespace lambent::services::cloudwatch {

// Parses YYYY-MM-DDTHH:MM:SS with an optional fraction and an optional zone (Z, +HH:MM or
// +HHMM; none means UTC) into epoch milliseconds. A fraction finer than milliseconds is
// truncated. Returns nullopt for any other text or an impossible date.
std::optional<std::int64_t> parse_iso8601_ms(std::string_view text);

// Formats epoch milliseconds as "2024-05-01T12:00:00.000Z".
std::string format_iso8601_ms(std::int64_t epoch_ms);

}  // namespace lambent::services::cloudwatch
