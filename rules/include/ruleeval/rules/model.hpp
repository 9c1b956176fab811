// The rule model: what a rule file says, with the 1-based line:col of every field, so that every
// diagnostic can point at its source. Produced by the loaders (loader.hpp) from Prometheus rule
// files, Kubernetes PrometheusRule objects, our concise Grafana-like rules and Grafana provisioning
// files; consumed by the checks (lint.hpp) and the engine. Plain values, no yaml-cpp types.
// Thread-safety: immutable after loading; may be read from many threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/parser/promql_ast.hpp"
#include "ruleeval/parser/template.hpp"
#include "ruleeval/rules/grafana_dag.hpp"

namespace ruleeval::rules {

// A 1-based position in the rule file; line 0 means unknown.
struct Pos {
  uint32_t line = 0;
  uint32_t col = 0;
  bool known() const { return line != 0; }
};

// How a scalar was written in YAML; needed to map offsets inside a value back to the file.
enum class ScalarStyle : uint8_t { Plain, SingleQuoted, DoubleQuoted, Literal, Folded };

struct Scalar {
  std::string value;
  Pos pos;  // where the value starts (for block scalars: the `|` or `>` indicator)
  ScalarStyle style = ScalarStyle::Plain;
  bool present = false;
};

// A label or annotation: key and value with their own positions. For alerting rules the value is
// parsed once at load as a Prometheus alert template (null when it did not parse).
struct KeyValue {
  std::string key;
  Pos key_pos;
  Scalar value;
  std::shared_ptr<const tmpl::Template> tmpl;
};

// A duration field (`for: 5m`); ms is set when the value parsed.
struct DurationField {
  int64_t ms = 0;
  Pos pos;
  bool present = false;
};

enum class RuleKind : uint8_t { Recording, Alerting };

// Grafana threshold evaluators, as in pkg/expr/threshold.go.
enum class ThresholdOp : uint8_t {
  Above,                 // gt
  Below,                 // lt
  Equal,                 // eq
  NotEqual,              // ne
  AboveOrEqual,          // gte
  BelowOrEqual,          // lte
  WithinRange,           // a < x < b
  OutsideRange,          // x < a || x > b
  WithinRangeIncluded,   // a <= x <= b
  OutsideRangeIncluded,  // x <= a || x >= b
};

struct Threshold {
  ThresholdOp op = ThresholdOp::Above;
  double a = 0;
  double b = 0;  // second bound of the range operators
  Pos pos;
  // True when `v` breaches this threshold.
  bool matches(double v) const;
};

// Grafana reducers (reduce expression and classic conditions).
enum class Reducer : uint8_t {
  Avg, Min, Max, Sum, Count, Last, Median, Diff, DiffAbs, PercentDiff, PercentDiffAbs,
  CountNonNull,
};

// How a Grafana reduce treats NaN/null: strict (result NaN), drop them, or replace them.
enum class ReduceMode : uint8_t { Strict, DropNonNumbers, ReplaceNonNumbers };

enum class NoDataState : uint8_t { NoData, Alerting, Ok, KeepLast };
enum class ErrorState : uint8_t { Error, Alerting, Ok, KeepLast };

// A Grafana-style rule: a PromQL range query, reduced per series to one number and compared with
// a threshold (optionally with a recovery threshold), or a classic condition string.
struct GrafanaSpec {
  Scalar query;              // PromQL; rule.expr holds the parsed AST too
  int64_t range_ms = 0;      // query(A, <range>, now); 0 = instant query
  Pos range_pos;
  Reducer reduce = Reducer::Last;
  Pos reduce_pos;
  ReduceMode reduce_mode = ReduceMode::DropNonNumbers;  // provisioning default: Strict
  double replace_with = 0;                              // for ReplaceNonNumbers
  std::optional<Threshold> threshold;
  std::optional<Threshold> recover;  // hysteresis: while firing, stay firing until this breaks
  Scalar condition;                  // "WHEN avg() OF query(A, 5m, now) IS ABOVE 200"
  NoDataState no_data = NoDataState::NoData;
  ErrorState on_error = ErrorState::Error;
  std::string uid;         // provisioning only
  std::string folder;      // provisioning only
  bool from_provisioning = false;
  // Provisioning/export files: the whole `data` DAG, evaluated as Grafana does (when set, the
  // fields above only describe the first query for lint and URLs).
  std::shared_ptr<const GrafanaDag> dag;
  int missing_series_evals_to_resolve = 2;
  bool paused = false;        // isPaused: not evaluated
  std::string record_metric;  // record.metric of a Grafana recording rule (kind Recording)
  std::string receiver;       // notification_settings.receiver (routes the rule's alerts)
  // Every Prometheus query of the DAG with its source, for the PromQL lint checks (the first one
  // is also `query` / rule.expr).
  struct Query {
    std::string ref_id;
    Scalar expr;
    std::shared_ptr<const promql::Expr> ast;
  };
  std::vector<Query> queries;
};

struct Rule {
  RuleKind kind = RuleKind::Alerting;
  std::string name;  // record or alert (or Grafana title)
  Pos name_pos;      // of the record:/alert: value
  Pos pos;           // of the rule mapping itself
  Scalar expr;       // the PromQL source as written
  std::shared_ptr<const promql::Expr> ast;  // null when expr is missing or did not parse
  DurationField for_;
  DurationField keep_firing_for;
  std::vector<KeyValue> labels;
  std::vector<KeyValue> annotations;
  std::optional<GrafanaSpec> grafana;
  // Checks disabled for this rule by `# ruleeval disable <check>` comments.
  std::vector<std::string> disabled_checks;
  uint32_t last_line = 0;  // last source line of this rule (for comment lookup)

  bool is_alert() const { return kind == RuleKind::Alerting; }
  bool check_disabled(std::string_view check) const;
};

struct RuleGroup {
  std::string name;
  std::string grafana_folder;  // Grafana groups are unique per (folder, name)
  Pos pos;       // of the group mapping
  Pos name_pos;  // of the name value
  DurationField interval;
  DurationField query_offset;
  int64_t limit = 0;
  std::vector<KeyValue> labels;
  std::vector<Rule> rules;
};

struct RuleFile {
  std::string path;
  std::string text;  // the file contents, for carets under diagnostics
  std::vector<uint32_t> line_starts;  // byte offset of each line of text (index 0 = line 1)
  std::vector<RuleGroup> groups;
  bool metricsql = false;  // read from a VictoriaMetrics VMRule object: MetricsQL is named
  size_t rule_count() const;
  // Text of 1-based line `line` without its newline ("" when out of range).
  std::string_view line_text(uint32_t line) const;
  void index_lines();  // fills line_starts from text
};

std::optional<Reducer> parse_reducer(std::string_view s);  // "avg", "mean", "last", ...
std::string_view to_string(Reducer r);
std::optional<NoDataState> parse_no_data_state(std::string_view s);  // ok|alerting|nodata|keep_last
std::optional<ErrorState> parse_error_state(std::string_view s);     // error|alerting|ok|keep_last
std::string_view to_string(ThresholdOp op);  // "above", "within_range", ...

// Maps a 1-based line:col inside a scalar's value to the position in the file (best effort for
// folded and multi-line plain scalars, exact for single-line and literal block scalars).
Pos map_into_scalar(const Scalar& s, std::string_view file_text, uint32_t line, uint32_t col);
// The same, using the file's line index (constant time per call).
Pos map_into_scalar(const Scalar& s, const RuleFile& file, uint32_t line, uint32_t col);

}  // namespace ruleeval::rules
