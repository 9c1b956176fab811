// A Grafana alert rule's `data` list as a DAG of refIds (pkg/expr): datasource queries feed
// server-side expressions (math, reduce, resample, threshold, classic_conditions); the rule's
// `condition` (or a recording rule's `record.from`) names the node that decides. Loaded from
// provisioning / export files by grafana_convert.cpp, evaluated by engine/grafana_expr.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ruleeval/parser/condition.hpp"
#include "ruleeval/parser/grafana_math.hpp"
#include "ruleeval/parser/promql_ast.hpp"

namespace ruleeval::rules {

enum class GrafanaNodeType : uint8_t { kQuery, kMath, kReduce, kResample, kThreshold, kClassic };
std::string_view to_string(GrafanaNodeType t);  // "query", "math", "reduce", ...

// Reducers of the `reduce` and `resample` expressions (pkg/expr/mathexp/reduce.go).
enum class SseReducer : uint8_t { kSum, kMean, kMin, kMax, kCount, kLast, kMedian };
std::optional<SseReducer> sse_reducer_from_name(std::string_view s);  // case-insensitive
enum class SseMode : uint8_t { kStrict, kDropNN, kReplaceNN };
enum class Upsampler : uint8_t { kPad, kBackfilling, kFillNA };

// A threshold evaluator: gt lt eq ne gte lte within_range outside_range
// within_range_included outside_range_included (params not reordered).
struct SseEvaluator {
  std::string type;
  std::vector<double> params;
};

struct ClassicCond {
  std::string ref_id;
  classic::Reducer reducer = classic::Reducer::kAvg;
  classic::Evaluator evaluator;
  // The evaluator as written (gt lt eq ne gte lte within_range outside_range
  // within_range_included outside_range_included no_value); when set it decides, with ranges
  // order-insensitive as in pkg/expr/classic.
  std::string evaluator_type;
  bool op_or = false;  // joins it to the conditions before it (ignored for the first)
};

struct GrafanaNode {
  std::string ref_id;
  GrafanaNodeType type = GrafanaNodeType::kQuery;
  uint32_t line = 0, col = 0;  // of the data entry
  std::string datasource_uid;
  int64_t from_s = 600;  // relativeTimeRange: [now - from, now - to]
  int64_t to_s = 0;
  // kQuery (Prometheus): the PromQL, instant and/or range, step inputs.
  std::string expr;
  uint32_t expr_line = 0, expr_col = 0;
  std::shared_ptr<const promql::Expr> ast;
  bool instant = false;
  bool range = true;
  int64_t interval_ms = 1000;      // model.intervalMs (Grafana sets 1000 when absent)
  int64_t max_data_points = 43200;  // model.maxDataPoints (43200 when absent)
  int64_t min_step_ms = 0;          // model.interval ("30s"), 0 = none
  // kMath
  std::shared_ptr<const grafana::MathNode> math;
  // kReduce / kResample / kThreshold: the input refId
  std::string input;
  SseReducer reducer = SseReducer::kLast;
  SseMode mode = SseMode::kStrict;
  double replace_with = 0;
  int64_t window_ms = 0;  // kResample
  Upsampler upsampler = Upsampler::kPad;
  // kThreshold
  SseEvaluator evaluator;
  std::optional<SseEvaluator> unload_evaluator;  // recovery threshold
  // kClassic
  std::vector<ClassicCond> conditions;

  // The refIds this node reads.
  std::vector<std::string> inputs() const;
};

struct GrafanaDag {
  std::vector<GrafanaNode> nodes;  // in file order
  std::string condition;           // refId of the deciding node (record.from for recordings)
  const GrafanaNode* find(std::string_view ref) const;
  // Nodes in evaluation order (inputs first); empty when the graph has a cycle or unknown refs.
  std::vector<const GrafanaNode*> order() const;
};

}  // namespace ruleeval::rules
