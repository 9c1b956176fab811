// A process-wide cache of compiled PromQL regexes (RE2, fully anchored, `.` matching newlines, as
// Prometheus's label matchers and label_replace() compile them). Prometheus compiles a rule's
// matchers once, when the expression is parsed; ruleeval evaluates the AST, so without a cache
// every evaluation of `{job=~"api|web"}` or label_replace() recompiled its regex (a third of the
// CPU of `ruleeval test` on a suite of many small test groups).
//
// Thread-safe (one mutex around the map; matching with a returned RE2 needs no lock). Bounded:
// at most kMaxEntries patterns are kept, the map is emptied when it is full, so memory stays
// bounded whatever the input.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ruleeval/common/error.hpp"

namespace re2 {
class RE2;
}  // namespace re2

namespace ruleeval::engine {

inline constexpr size_t kRegexCacheMaxEntries = 2048;

// The compiled form of "^(?:" + pattern + ")$" (never null). An invalid pattern is an Error with
// RE2's message (failures are not cached).
Result<std::shared_ptr<const re2::RE2>> anchored_regex(std::string_view pattern);

}  // namespace ruleeval::engine
