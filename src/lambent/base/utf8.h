#pragma once

#include <string>
#include <string_view>

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
namespace lambent {

bool is_valid_utf8(std::string_view text);

// Appends `text` with each invalid sequence replaced by U+FFFD. When `xml` is true, code points
// that XML 1.0 forbids (C0 controls other than tab, newline and carriage return; U+FFFE and
// U+FFFF) are replaced too.
void append_valid_utf8(std::string& out, std::string_view text, bool xml = false);

// `text` itself when valid, else a copy with invalid sequences replaced by U+FFFD.
std::string to_valid_utf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a
// multi-byte sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace lambent
