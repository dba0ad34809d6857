#include "lambent/patterns/case_fold.h"

namespace lambent::patterns::detail {
namespace {

// Returns the code point at text[i] and moves i past it. A byte that does not start a valid
// sequence comes back as a value above U+10FFFF, so it equals only the same byte.
char32_t next_code_point(std::string_view text, std::size_t& i) {
  auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  unsigned char lead = byte(i);
  std::size_t length = lead < 0x80           ? 1
                       : (lead >> 5) == 0x6  ? 2
                       : (lead >> 4) == 0xE  ? 3
                       : (lead >> 3) == 0x1E ? 4
                                             : 0;
  if (length == 0 || i + length > text.size()) return 0x110000 + byte(i++);
  char32_t c = length == 1 ? lead : lead & (0xFF >> (length + 1));
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0x110000 + byte(i++);
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  i += length;
  return c;
}

void append_utf8(std::string& out, char32_t c) {
  if (c > 0x10FFFF) {
    out += static_cast<char>(c - 0x110000);
  } else if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Lower-cases the letters of Basic Latin, Latin-1, Latin Extended-A, Greek and Cyrillic, the
// blocks where upper and lower case sit at fixed offsets. Each mapping keeps the UTF-8 length.
// NOTE: letters of other scripts (Armenian, Georgian, Latin Extended-B and beyond) are compared
// as they are, where AWS folds them too.
char32_t fold(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 0x20;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 0x20;
  // U+0130 (capital I with dot) is left alone: its lower case is two code points.
  if ((c >= 0x100 && c <= 0x12F) || (c >= 0x132 && c <= 0x137)) return c | 1;
  if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
  if (c >= 0x14A && c <= 0x177) return c | 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  return c;
}

}  // namespace

std::string fold_case(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) append_utf8(out, fold(next_code_point(text, i)));
  return out;
}

bool equals_folded(std::string_view text, std::string_view folded) {
  if (text.size() != folded.size()) return false;
  std::size_t i = 0, j = 0;
  while (i < text.size() && j < folded.size()) {
    if (fold(next_code_point(text, i)) != next_code_point(folded, j)) return false;
  }
  return i == text.size() && j == folded.size();
}

}  // namespace lambent::patterns::detail
