#pragma once

#include "lambent/store/versions.h"

#include <string_view>

// Helpers for qualifiers and alias routing, apart from the Invoker so they can be tested alone.
namespace lambent::invoke {

// True for a published version number as AWS writes one: decimal digits, no sign.
bool is_version_number(std::string_view qualifier);

// Returns the version an alias runs for one invocation. `draw` is uniform in [0, 1). The
// additional version runs when `draw` is below its weight, so 0.3 sends 30% of calls there.
std::string_view pick_alias_version(const store::AliasRecord& alias, double draw);

}  // namespace lambent::invoke
