// Grafana server-side expressions (pkg/expr) over Grafana's value model, and the evaluation of a
// rule's refId DAG (rules/grafana_dag.hpp) at one tick: datasource queries through a RuleQuerier,
// then math / reduce / resample / threshold / classic_conditions in dependency order, then the
// condition node's values turned into Grafana's evaluation results (Normal, Alerting, NoData,
// Error per label set; pkg/services/ngalert/eval). Pure: no clocks, no state besides the inputs.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/value.hpp"
#include "ruleeval/parser/grafana_math.hpp"
#include "ruleeval/rules/grafana_dag.hpp"

namespace ruleeval::engine {

class RuleQuerier;

namespace gexpr {

using Nullable = std::optional<double>;  // Grafana's *float64: nullopt = null

struct GPoint {
  Millis t = 0;
  Nullable v;
};

// One item of a node's result (mathexp.Value).
struct GValue {
  enum class Kind : uint8_t { kScalar, kNumber, kSeries, kNoData };
  Kind kind = Kind::kNumber;
  Labels labels;
  Nullable v;                 // Scalar / Number
  std::vector<GPoint> points;  // Series, ascending time

  static GValue scalar(Nullable v);
  static GValue number(Labels l, Nullable v);
  static GValue no_data();
};
using GResults = std::vector<GValue>;
using Vars = std::map<std::string, GResults, std::less<>>;

// IsNoData: no items, or exactly one NoData item.
bool is_no_data(const GResults& r);

// The math language over results (§1-2 of the spec): union by label subsets, null and NaN rules.
Result<GResults> eval_math(const grafana::MathNode& n, const Vars& vars);
// reduce: one Number per Series, with the mode's NaN/null handling.
Result<GResults> reduce(const GResults& in, rules::SseReducer r, rules::SseMode mode,
                        double replace_with);
// The strict/dropNN/replaceNN reduction of one list of points.
Nullable reduce_points(rules::SseReducer r, rules::SseMode mode, double replace_with,
                       const std::vector<Nullable>& pts);
// resample onto [from, to] in steps of window.
Result<GResults> resample(const GResults& in, Millis from, Millis to, Millis window,
                          rules::SseReducer down, rules::Upsampler up);
// threshold (with hysteresis when `unload` is set and `loaded` says which label sets are
// loaded, i.e. firing or pending).
Result<GResults> threshold(const GResults& in, const rules::SseEvaluator& ev,
                           const rules::SseEvaluator* unload,
                           const std::function<bool(const Labels&)>& loaded);
Result<bool> threshold_matches(const rules::SseEvaluator& ev, double v);
// classic_conditions: one unlabelled Number (null = no data, 1 firing, 0 not).
Result<GResults> classic_conditions(const std::vector<rules::ClassicCond>& conds,
                                    const Vars& vars);

// The result of a rule's evaluation, per label set (eval.Result).
struct EvalItem {
  enum class State : uint8_t { kNormal, kAlerting, kNoData, kError };
  State state = State::kNormal;
  Labels labels;        // the raw result labels (for hysteresis and instance identity)
  Nullable value;       // the condition's value
  std::string error;    // kError
  std::string ref_id;   // kError from a query / kNoData of a datasource: the failing refIds
  std::string datasource_uid;
  std::map<std::string, double> values;  // refId -> value for $values (null as NaN)
};

struct DagOptions {
  // Which raw label sets the rule currently has loaded (Alerting or Pending, no reason).
  std::function<bool(const Labels&)> loaded;
};

// Runs the whole DAG at `now` and converts the condition node (dag.condition) into results.
// `node_values` (optional) receives every node's values, e.g. a recording rule's `from`.
std::vector<EvalItem> evaluate_rule(const rules::GrafanaDag& dag, RuleQuerier& q, Millis now,
                                    const DagOptions& opts, Vars* node_values = nullptr);

// Grafana's gtime.RoundInterval, and the Prometheus step for a range of `range_ms`.
Millis round_interval(Millis ms);
Millis query_step(const rules::GrafanaNode& n, Millis range_ms);

}  // namespace gexpr
}  // namespace ruleeval::engine
