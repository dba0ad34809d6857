#pragma once

#include <string>
#include <string_view>

// Case-insensitive comparison for equals-ignore-case and the case-blind prefix and suffix.
namespace lambent::patterns::detail {

// `text` with each letter replaced by its lower-case form.
std::string fold_case(std::string_view text);

// True when `text` equals `folded` (a fold_case result) ignoring case. Folding keeps the UTF-8
// length of every character it changes, so callers may cut `text` to `folded.size()` bytes
// first for prefix and suffix checks.
bool equals_folded(std::string_view text, std::string_view folded);

}  // namespace lambent::patterns::detail
