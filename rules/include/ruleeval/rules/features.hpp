// Prometheus's feature names (`--enable-feature=...`, `enable_features:` in ruleeval.yaml and
// .ruleeval.yaml). The PromQL parser has one switch for every experimental PromQL feature.
#pragma once

#include <string_view>

namespace ruleeval::rules {

// Applies one feature name; false when it is not a feature ruleeval knows.
inline bool apply_feature(std::string_view f, bool& experimental_promql) {
  if (f == "promql-experimental-functions" || f == "promql-extended-range-selectors" ||
      f == "promql-binop-fill-modifiers" || f == "promql-duration-expr") {
    experimental_promql = true;
    return true;
  }
  // Always on (since Prometheus 2.33, and delayed name removal as Prometheus 3 does it);
  // promtool still accepts the names.
  return f == "promql-at-modifier" || f == "promql-negative-offset" ||
         f == "promql-delayed-name-removal";
}

}  // namespace ruleeval::rules
