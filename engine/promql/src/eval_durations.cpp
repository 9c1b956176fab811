// Experimental duration expressions (`rate(x[step() * 2])`, `x offset -step()`,
// `y[range():step()]`), evaluated as Prometheus's durationVisitor does.
#include <cmath>

#include "eval_internal.hpp"

namespace ruleeval::engine::detail {

Millis Evaluator::duration(const promql::Expr* e, Millis constant, bool allow_negative) {
  if (!e || constant != 0) return constant;
  // step() and range() read the query's step and range; durations do not depend on t.
  double secs = eval_scalar(*e, start_);
  if (std::isnan(secs) || std::isinf(secs)) fail("duration is NaN or infinite");
  if (secs <= 0 && !allow_negative) fail("duration must be greater than 0");
  if (std::fabs(secs) > 9.2e9) fail("duration is out of range");
  return static_cast<Millis>(secs * 1000);
}

Millis Evaluator::range_of(const promql::MatrixSelector& ms) {
  return duration(ms.range_expr.get(), ms.range, false);
}

Millis Evaluator::offset_of(const promql::VectorSelector& vs) {
  return duration(vs.offset_expr.get(), vs.offset, true);
}

}  // namespace ruleeval::engine::detail
