#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace lambent::patterns::detail {

// Parses a textual IPv4 (dotted quad) or IPv6 address into network byte order; IPv4 fills the
// first 4 bytes. Returns false for anything else. Allocates nothing.
bool parse_ip_address(std::string_view text, std::array<std::uint8_t, 16>& bytes, bool& v6);

}  // namespace lambent::patterns::detail
