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

// Declared in ruleeval/slo/slo.hpp (SliModel, derive_sli_model, eval_sli).

}  // namespace ruleeval::slo
