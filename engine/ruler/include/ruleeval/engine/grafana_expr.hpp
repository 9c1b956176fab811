// Grafana server-side expressions (pkg/expr) over Grafana's value model, and the evaluation of a
// rule's refId DAG (rules/grafana_dag.hpp) at one tick: datasource queries through a RuleQuerier,
// then math / reduce / resample / threshold / classic_conditions in dependency order, then the
// condition node's values turned into Grafana's evaluation results (Normal, Alerting, NoData,
// Error per label set; pkg/services/ngalert/eval). Pure: no clocks, no state besides the inputs.
#pragma once

#include <functional>
#include <map>
#include <memory>
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

// A value a classic condition matched (pkg/expr/classic EvalMatch): the series that met its
// evaluator, or the "NoData" marker of a condition without data.
struct ClassicMatch {
  std::string metric;  // the series' display name, or "NoData"
  Nullable value;
  Labels labels;
};

// One item of a node's result (mathexp.Value).
struct GValue {
  enum class Kind : uint8_t { kScalar, kNumber, kSeries, kNoData };
  Kind kind = Kind::kNumber;
  Labels labels;
  Nullable v;                 // Scalar / Number
  std::vector<GPoint> points;  // Series, ascending time
  std::string name;            // the series' display name (datasource queries)
  // classic_conditions: every match of every condition, in condition order (its $values are
  // <refId>0, <refId>1, ... by position in this list, as Grafana's extractValues).
  std::shared_ptr<const std::vector<ClassicMatch>> matches;

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
  std::map<std::string, Labels> value_labels;  // refId -> the labels of that value
  std::string value_string;  // Grafana's $value: "[ var='A' labels={...} value=1 ], ..."
};

// The display name Grafana's Prometheus datasource gives a series without legendFormat:
// `name{k="v", ...}`, `{k="v"}`, or "Value" for a series without labels.
std::string series_display_name(const Labels& labels);

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
