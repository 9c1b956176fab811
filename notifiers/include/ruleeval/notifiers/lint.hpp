// Checks of the routing config for `ruleeval lint`.
// Thread-safety: a pure function of its arguments.
#pragma once

#include <string>
#include <vector>

#include "ruleeval/notifiers/config.hpp"

namespace ruleeval::notifiers {

struct RouteFinding {
  std::string message;
  SourceLocation where;
};

// Receivers referenced by routes but not defined, receivers defined twice or never used, and
// every given label set that only the root (default) route handles.
std::vector<RouteFinding> lint_routes(const NotifyConfig& config,
                                      const std::vector<Labels>& alert_label_sets);

}  // namespace ruleeval::notifiers
