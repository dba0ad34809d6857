#pragma once

#include "lambent/patterns/compiled.h"

#include <optional>
#include <string>

namespace lambent::patterns::detail {

// The reason a pattern is invalid, in AWS's words. `bare` marks an SNS reason that AWS prints
// without the "FilterPolicy: " label.
struct Failure {
  std::string reason;
  bool bare = false;
};

// Validates `pattern` for `dialect` and compiles it into `out`.
std::optional<Failure> compile_pattern(const boost::json::value& pattern, Dialect dialect,
                                       Node& out);

}  // namespace lambent::patterns::detail
