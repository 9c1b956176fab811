// Limits applied to JSON request bodies before they are parsed: the parsers used here recurse
// (or build recursive values), so a body nested 100,000 levels deep must be refused first.
#pragma once

#include <cstddef>
#include <string_view>

namespace ruleeval {

inline constexpr size_t kMaxRequestBodyBytes = 1 << 20;
inline constexpr size_t kMaxJsonNesting = 64;

// The deepest nesting of JSON arrays/objects in `text`; strings (and brackets in them) are
// skipped. Iterative, any input.
size_t json_nesting_depth(std::string_view text);

}  // namespace ruleeval
