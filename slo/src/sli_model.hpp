// The raw input series behind an SLI query (internal): which series the query reads, and two
// mixes of them, one the query rates as all good (error ratio 0) and one as all bad (ratio 1), so
// that feeding p·bad + (1−p)·good gives an error ratio of exactly p. Found by evaluating the
// query on synthetic series with a small evaluator for the PromQL that SLIs are written in
// (sum/avg/min/max/count by, + − * /, rate/increase over counters, avg/sum/count_over_time over
// gauges); anything else is reported as unsupported, with the reason.
#pragma once

#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/slo/slo.hpp"

namespace ruleeval::slo {

struct SliModel {
  bool gauge = false;           // *_over_time over gauges (else rate/increase over counters)
  std::vector<StrMap> series;   // label sets, __name__ included
  std::vector<double> bad, good;  // per series: the share of the traffic (counters) or the level (gauges)
  StrMap out_labels;            // the labels of the query's single result series
};

// `expr` is the SLI query for one window. Error: why its input cannot be synthesised.
Result<SliModel> derive_sli_model(const std::string& expr);

// The error ratio the query gives for per-series rates (counters) or levels (gauges) `x`
// (for tests). NaN when it gives no single result.
double eval_sli(const std::string& expr, const SliModel& m, const std::vector<double>& x);

}  // namespace ruleeval::slo
