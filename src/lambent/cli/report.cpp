#include "lambent/cli/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace lambent::cli {

namespace {

// Characters of UTF-8 text: every byte that does not continue a sequence.
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

}  // namespace

std::optional<std::int64_t> parse_duration_seconds(std::string_view text) {
  std::int64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's':
        text.remove_suffix(1);
        break;
      case 'm':
        unit = 60;
        text.remove_suffix(1);
        break;
      case 'h':
        unit = 3600;
        text.remove_suffix(1);
        break;
      case 'd':
        unit = 86400;
        text.remove_suffix(1);
        break;
      case 'w':
        unit = 7 * 86400;
        text.remove_suffix(1);
        break;
      default:
        break;
    }
  }
  std::int64_t count = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || count <= 0) {
    return std::nullopt;
  }
  if (count > std::numeric_limits<std::int64_t>::max() / unit / 1000) return std::nullopt;
  return count * unit;
}

std::string format_table(const std::vector<std::vector<std::string>>& rows,
                         const std::vector<bool>& right_aligned) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line += "  ";
      std::string padding(widths[i] - display_width(row[i]), ' ');
      bool right = i < right_aligned.size() && right_aligned[i];
      line += right ? padding + row[i] : row[i] + padding;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::vector<std::optional<double>> downsample(const std::vector<std::optional<double>>& values,
                                              std::size_t width, Combine combine,
                                              std::size_t& per_bucket) {
  width = std::max<std::size_t>(width, 1);
  per_bucket = std::max<std::size_t>(1, (values.size() + width - 1) / width);
  std::vector<std::optional<double>> out;
  for (std::size_t start = 0; start < values.size(); start += per_bucket) {
    std::optional<double> combined;
    std::size_t present = 0;
    for (std::size_t i = start; i < std::min(values.size(), start + per_bucket); ++i) {
      if (!values[i]) continue;
      double v = *values[i];
      ++present;
      if (!combined) {
        combined = v;
      } else if (combine == Combine::max) {
        combined = std::max(*combined, v);
      } else {
        *combined += v;
      }
    }
    if (combined && combine == Combine::mean) *combined /= static_cast<double>(present);
    out.push_back(combined);
  }
  return out;
}

std::string sparkline(const std::vector<std::optional<double>>& values) {
  static constexpr std::string_view kBlocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  double low = 0;
  double high = 0;
  bool any = false;
  for (const auto& v : values) {
    if (!v) continue;
    low = any ? std::min(low, *v) : std::min(0.0, *v);
    high = any ? std::max(high, *v) : *v;
    any = true;
  }
  std::string out;
  for (const auto& v : values) {
    if (!v) {
      out += ' ';
      continue;
    }
    int level = 0;
    if (high > low) {
      level = static_cast<int>(std::lround((*v - low) / (high - low) * 7));
      level = std::clamp(level, 0, 7);
    }
    out += kBlocks[level];
  }
  return out;
}

std::string compact_number(double value) {
  double magnitude = std::fabs(value);
  if (magnitude >= 1e9) return fmt::format("{:.3g}G", value / 1e9);
  if (magnitude >= 1e6) return fmt::format("{:.3g}M", value / 1e6);
  if (value == std::floor(value) || magnitude >= 1000) return fmt::format("{:.0f}", value);
  return fmt::format("{:.3g}", value);
}

}  // namespace lambent::cli
