// Excerpts of untrusted input quoted in error messages and logs: control bytes are escaped
// (\n, \r, \t, \xHH), so a response body or a file cannot inject lines or terminal sequences.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ruleeval {

// The first `max` bytes of `s` with control bytes escaped, plus "..." when cut.
std::string excerpt(std::string_view s, size_t max = 200);

}  // namespace ruleeval
