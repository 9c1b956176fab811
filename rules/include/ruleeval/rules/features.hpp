// Prometheus's feature names (`--enable-feature=...`, `enable_features:` in ruleeval.yaml and
// .ruleeval.yaml). Each experimental PromQL feature is its own parser switch, as in Prometheus
// (promql::PromqlFeature bits).
#pragma once

#include <string_view>

#include "ruleeval/parser/promql.hpp"

namespace ruleeval::rules {

// Applies one feature name to the PromqlFeature bits; false when it is not a feature ruleeval
// knows.
inline bool apply_feature(std::string_view f, unsigned& promql_features) {
  if (f == "promql-experimental-functions") {
    promql_features |= promql::kFeatureExperimentalFunctions;
    return true;
  }
  if (f == "promql-extended-range-selectors") {
    promql_features |= promql::kFeatureExtendedRangeSelectors;
    return true;
  }
  if (f == "promql-binop-fill-modifiers") {
    promql_features |= promql::kFeatureBinopFillModifiers;
    return true;
  }
  if (f == "promql-delayed-name-removal") {
    promql_features |= promql::kFeatureDelayedNameRemoval;
    return true;
  }
  // Always on: duration expressions (Prometheus made promql-duration-expr permanent), @ and
  // negative offsets (since Prometheus 2.33). Prometheus and promtool still accept the names.
  return f == "promql-duration-expr" || f == "promql-at-modifier" ||
         f == "promql-negative-offset";
}

}  // namespace ruleeval::rules
