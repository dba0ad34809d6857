#include "lambent/patterns/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace lambent::patterns::detail {

bool parse_ip_address(std::string_view text, std::array<std::uint8_t, 16>& bytes, bool& v6) {
  // inet_pton needs a terminated string; the longest IPv6 text form is 45 characters.
  char buffer[64];
  if (text.empty() || text.size() >= sizeof(buffer)) return false;
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';

  v6 = text.find(':') != std::string_view::npos;
  bytes.fill(0);
  return inet_pton(v6 ? AF_INET6 : AF_INET, buffer, bytes.data()) == 1;
}

}  // namespace lambent::patterns::detail
