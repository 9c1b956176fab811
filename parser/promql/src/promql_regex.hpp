// Regex validation shared by the parser and LabelMatcher::matches_empty. Prometheus anchors every
// matcher regex as ^(?s:...)$; RE2 with dot_nl and a full match is the same thing.
#pragma once

#include <string>
#include <string_view>

namespace ruleeval::promql::detail {

struct RegexInfo {
  bool ok = false;
  std::string error;  // RE2's message when !ok
  bool matches_empty = false;
};

// Compiles `pattern` once per thread (small bounded cache), so re-parsing the same rule text
// does not recompile its regexes.
const RegexInfo& regex_info(std::string_view pattern);

}  // namespace ruleeval::promql::detail
