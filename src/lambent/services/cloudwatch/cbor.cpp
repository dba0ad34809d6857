#include "lambent/services/cloudwatch/cbor.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace lambent::services::cloudwatch {

namespace {

constexpr std::uint8_t kUnsigned = 0;
constexpr std::uint8_t kNegative = 1;
constexpr std::uint8_t kBytes = 2;
constexpr std::uint8_t kText = 3;
constexpr std::uint8_t kArray = 4;
constexpr std::uint8_t kMap = 5;
constexpr std::uint8_t kTag = 6;
constexpr std::uint8_t kSimple = 7;

constexpr std::uint8_t kIndefinite = 31;
constexpr std::uint8_t kBreak = 0xff;
constexpr int kMaxDepth = 64;

void put_head(std::string& out, std::uint8_t major, std::uint64_t argument) {
  auto initial = static_cast<char>(major << 5);
  if (argument < 24) {
    out.push_back(static_cast<char>(initial | static_cast<char>(argument)));
    return;
  }
  // Additional information 24 to 27 announces an argument of 1, 2, 4 or 8 bytes.
  int bytes = 8;
  std::uint8_t info = 27;
  if (argument <= 0xff) {
    bytes = 1;
    info = 24;
  } else if (argument <= 0xffff) {
    bytes = 2;
    info = 25;
  } else if (argument <= 0xffffffff) {
    bytes = 4;
    info = 26;
  }
  out.push_back(static_cast<char>(initial | static_cast<char>(info)));
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((argument >> (8 * i)) & 0xff));
}

void put_double(std::string& out, double value) {
  out.push_back(static_cast<char>(0xfb));
  auto bits = std::bit_cast<std::uint64_t>(value);
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

void put_integer(std::string& out, std::int64_t value) {
  if (value >= 0) {
    put_head(out, kUnsigned, static_cast<std::uint64_t>(value));
  } else {
    // For a negative int64, -1 - value lies in [0, INT64_MAX].
    put_head(out, kNegative, static_cast<std::uint64_t>(-1 - value));
  }
}

void put_text(std::string& out, std::string_view text) {
  put_head(out, kText, text.size());
  out.append(text);
}

void encode_into(std::string& out, const Value& value) {
  switch (value.kind()) {
    case Value::Kind::null:
      out.push_back(static_cast<char>(0xf6));
      break;
    case Value::Kind::boolean:
      out.push_back(static_cast<char>(value.as_bool() ? 0xf5 : 0xf4));
      break;
    case Value::Kind::integer:
      put_integer(out, value.as_integer());
      break;
    case Value::Kind::number:
      put_double(out, value.as_number());
      break;
    case Value::Kind::string:
      put_text(out, value.as_string());
      break;
    case Value::Kind::timestamp: {
      put_head(out, kTag, 1);
      std::int64_t ms = value.as_timestamp_ms();
      if (ms % 1000 == 0) {
        put_integer(out, ms / 1000);
      } else {
        put_double(out, static_cast<double>(ms) / 1000.0);
      }
      break;
    }
    case Value::Kind::list:
      put_head(out, kArray, value.items().size());
      for (const auto& item : value.items()) encode_into(out, item);
      break;
    case Value::Kind::structure:
    case Value::Kind::map:
      put_head(out, kMap, value.members().size());
      for (const auto& [key, member] : value.members()) {
        put_text(out, key);
        encode_into(out, member);
      }
      break;
  }
}

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      extra = 1;
      code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
    static constexpr std::uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

double half_to_double(std::uint16_t half) {
  int exponent = (half >> 10) & 0x1f;
  int mantissa = half & 0x3ff;
  double value;
  if (exponent == 0) {
    value = std::ldexp(mantissa, -24);
  } else if (exponent != 31) {
    value = std::ldexp(mantissa + 1024, exponent - 25);
  } else {
    value = mantissa == 0 ? std::numeric_limits<double>::infinity()
                          : std::numeric_limits<double>::quiet_NaN();
  }
  return (half & 0x8000) ? -value : value;
}

class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : bytes_(bytes) {}

  Result<Value> decode_all() {
    auto value = item(0);
    if (!value) return value;
    if (pos_ != bytes_.size()) {
      return fail(fmt::format("unexpected data after the CBOR item at offset {}", pos_));
    }
    return value;
  }

 private:
  Error fail(std::string message) const {
    return Error{Errc::invalid_content, "malformed CBOR body: " + message};
  }

  bool read_uint(std::size_t bytes, std::uint64_t& out) {
    if (bytes_.size() - pos_ < bytes) return false;
    out = 0;
    for (std::size_t i = 0; i < bytes; ++i) {
      out = (out << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);
    }
    pos_ += bytes;
    return true;
  }

  // Reads the argument that follows an initial byte with this additional information.
  Result<std::uint64_t> argument(std::uint8_t info) {
    if (info < 24) return std::uint64_t{info};
    // 24 to 27 announce 1, 2, 4 or 8 bytes; 28 to 30 are reserved.
    if (info > 27) {
      return fail(fmt::format("invalid additional information {} at offset {}", info, pos_));
    }
    std::size_t size = std::size_t{1} << (info - 24);
    std::uint64_t out = 0;
    if (!read_uint(size, out)) return fail(fmt::format("truncated at offset {}", pos_));
    return out;
  }

  bool at_break() const {
    return pos_ < bytes_.size() && static_cast<unsigned char>(bytes_[pos_]) == kBreak;
  }

  Result<std::string> string_body(std::uint8_t major, std::uint8_t info) {
    if (info != kIndefinite) {
      auto length = argument(info);
      if (!length) return std::move(length).error();
      if (*length > bytes_.size() - pos_) {
        return fail(
            fmt::format("string of {} bytes runs past the end at offset {}", *length, pos_));
      }
      std::string out(bytes_.substr(pos_, *length));
      pos_ += *length;
      return out;
    }
    // Indefinite length: definite chunks of the same major type until a break.
    std::string out;
    while (true) {
      if (pos_ >= bytes_.size()) return fail("unterminated indefinite-length string");
      if (at_break()) {
        ++pos_;
        return out;
      }
      auto head = static_cast<unsigned char>(bytes_[pos_++]);
      if ((head >> 5) != major || (head & 0x1f) == kIndefinite) {
        return fail(
            fmt::format("invalid chunk in an indefinite-length string at offset {}", pos_ - 1));
      }
      auto chunk = string_body(major, head & 0x1f);
      if (!chunk) return chunk;
      out += *chunk;
    }
  }

  Result<Value> item(int depth) {
    if (depth > kMaxDepth) return fail(fmt::format("nesting deeper than {} levels", kMaxDepth));
    if (pos_ >= bytes_.size()) return fail(fmt::format("truncated at offset {}", pos_));
    std::size_t start = pos_;
    auto head = static_cast<unsigned char>(bytes_[pos_++]);
    std::uint8_t major = head >> 5;
    std::uint8_t info = head & 0x1f;

    switch (major) {
      case kUnsigned:
      case kNegative: {
        auto n = argument(info);
        if (!n) return std::move(n).error();
        constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        if (*n > kMax) {
          double magnitude = static_cast<double>(*n);
          return Value::number(major == kUnsigned ? magnitude : -1.0 - magnitude);
        }
        auto signed_value = static_cast<std::int64_t>(*n);
        return Value::integer(major == kUnsigned ? signed_value : -1 - signed_value);
      }
      case kBytes:
      case kText: {
        auto text = string_body(major, info);
        if (!text) return std::move(text).error();
        if (major == kText && !valid_utf8(*text)) {
          return fail(fmt::format("text string at offset {} is not valid UTF-8", start));
        }
        return Value::string(std::move(*text));
      }
      case kArray: {
        Value list = Value::list();
        if (info == kIndefinite) {
          while (!at_break()) {
            auto element = item(depth + 1);
            if (!element) return element;
            list.push_back(std::move(*element));
          }
          ++pos_;
          return list;
        }
        auto count = argument(info);
        if (!count) return std::move(count).error();
        // Every element takes at least one byte.
        if (*count > bytes_.size() - pos_) {
          return fail(
              fmt::format("array of {} elements runs past the end at offset {}", *count, start));
        }
        list.items().reserve(*count);
        for (std::uint64_t i = 0; i < *count; ++i) {
          auto element = item(depth + 1);
          if (!element) return element;
          list.push_back(std::move(*element));
        }
        return list;
      }
      case kMap: {
        Value map = Value::structure();
        bool indefinite = info == kIndefinite;
        std::uint64_t count = 0;
        if (!indefinite) {
          auto n = argument(info);
          if (!n) return std::move(n).error();
          if (*n > (bytes_.size() - pos_) / 2) {
            return fail(fmt::format("map of {} entries runs past the end at offset {}", *n, start));
          }
          count = *n;
        }
        for (std::uint64_t i = 0; indefinite || i < count; ++i) {
          if (indefinite && at_break()) {
            ++pos_;
            break;
          }
          std::size_t key_offset = pos_;
          auto key = item(depth + 1);
          if (!key) return key;
          if (key->kind() != Value::Kind::string) {
            return fail(fmt::format("map key at offset {} is not a text string", key_offset));
          }
          auto member = item(depth + 1);
          if (!member) return member;
          map.members().emplace_back(key->as_string(), std::move(*member));
        }
        return map;
      }
      case kTag: {
        auto tag = argument(info);
        if (!tag) return std::move(tag).error();
        if (*tag != 1) return fail(fmt::format("unsupported tag {} at offset {}", *tag, start));
        auto inner = item(depth + 1);
        if (!inner) return inner;
        double seconds = 0;
        if (inner->kind() == Value::Kind::integer) {
          seconds = static_cast<double>(inner->as_integer());
        } else if (inner->kind() == Value::Kind::number && std::isfinite(inner->as_number())) {
          seconds = inner->as_number();
        } else {
          return fail(fmt::format("tag 1 at offset {} does not hold a finite number", start));
        }
        // Beyond about 292 million years the milliseconds overflow int64.
        if (std::fabs(seconds) > 9.0e15) {
          return fail(fmt::format("timestamp at offset {} is out of range", start));
        }
        return Value::timestamp(static_cast<std::int64_t>(std::llround(seconds * 1000.0)));
      }
      default:
        break;
    }

    // Major type 7: simple values and floats.
    switch (info) {
      case 20:
        return Value::boolean(false);
      case 21:
        return Value::boolean(true);
      case 22:
      case 23:
        return Value();
      case 25: {
        std::uint64_t bits = 0;
        if (!read_uint(2, bits)) return fail(fmt::format("truncated at offset {}", pos_));
        return Value::number(half_to_double(static_cast<std::uint16_t>(bits)));
      }
      case 26: {
        std::uint64_t bits = 0;
        if (!read_uint(4, bits)) return fail(fmt::format("truncated at offset {}", pos_));
        return Value::number(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
      }
      case 27: {
        std::uint64_t bits = 0;
        if (!read_uint(8, bits)) return fail(fmt::format("truncated at offset {}", pos_));
        return Value::number(std::bit_cast<double>(bits));
      }
      case kIndefinite:
        return fail(fmt::format("unexpected break at offset {}", start));
      default:
        return fail(fmt::format("unsupported simple value {} at offset {}", info, start));
    }
  }

  std::string_view bytes_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode_cbor(const Value& value) {
  std::string out;
  encode_into(out, value);
  return out;
}

Result<Value> decode_cbor(std::string_view bytes) { return Decoder(bytes).decode_all(); }

}  // namespace lambent::services::cloudwatch
