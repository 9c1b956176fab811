// `ruleeval lint --datasource`: pint's online checks, asking a Prometheus-compatible backend.
//   promql/series      every selector's metric exists now, or within the lookback (saying when it
//                      was last seen); a selector whose matchers match nothing is reported with
//                      the label values that do exist.
//   alerts/count       how often each alerting rule would have fired over the lookback (the
//                      replay engine, replay_report.hpp); info, or warning above a budget of
//                      pages per day.
//   promql/rate_range  a rate()/irate()/increase()/deriv() window shorter than four times the
//                      scrape interval measured from the data.
//   alerts/template    `$labels.x` in a template whose query's series never carry label x within
//                      the lookback.
// Queries run on `concurrency` threads with a timeout each. Selectors of metrics recorded by the
// rules themselves are skipped (the backend may not have them yet).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/engine/querier.hpp"
#include "ruleeval/rules/diagnostic.hpp"
#include "ruleeval/rules/model.hpp"

namespace ruleeval::engine {

struct OnlineLintOptions {
  HttpClientConfig backend;
  Millis now = 0;
  Millis lookback = Millis{7} * 24 * 3600'000;
  Millis default_interval = 60'000;  // for groups without `interval`
  double pages_per_day_budget = 5;    // alerts/count: warning above this many pages per day
  size_t concurrency = 4;
};

// The online diagnostics, or one error when the backend cannot be reached at all.
Result<std::vector<rules::Diagnostic>> online_lint(
    const std::vector<const rules::RuleFile*>& files, const OnlineLintOptions& opts);

}  // namespace ruleeval::engine
