// Evaluation of one rule group at a given time, as Prometheus's Group.Eval does it: rules run in
// file order, recording results are appended before the next rule runs (so later rules see them),
// alerting rules go through the state machine (alert_state.hpp) and write ALERTS /
// ALERTS_FOR_STATE, series that vanish get staleness markers. Grafana-like rules (query, reduce,
// threshold, recover, no_data, on_error) are evaluated here too.
//
// Shared by `ruleeval test` (promtool-style unit tests) and `ruleeval run`. No clocks: the
// evaluation time is a parameter. Not thread-safe: one GroupRuntime per group, one caller at a
// time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/alert_state.hpp"
#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/grafana_expr.hpp"
#include "ruleeval/engine/storage.hpp"
#include "ruleeval/parser/template_exec.hpp"
#include "ruleeval/rules/alert.hpp"
#include "ruleeval/rules/model.hpp"

namespace ruleeval::engine {

// Where rule results go (the embedded store, or a remote-write queue).
using AppendFn = std::function<void(const Labels& labels, Millis t, double v)>;

// How a group's rules are queried: evaluated in-process over a Queryable (the embedded TSDB), or
// sent as PromQL text to a Prometheus-compatible backend.
class RuleQuerier {
 public:
  virtual ~RuleQuerier() = default;
  // Instant query; `text` is the expression as written, `expr` its parsed form.
  virtual Result<QueryResult> instant(const promql::Expr& expr, std::string_view text,
                                      Millis t) = 0;
  virtual Result<QueryResult> range(const promql::Expr& expr, std::string_view text, Millis start,
                                    Millis end, Millis step) = 0;
};

// Evaluates in-process with the embedded engine.
class LocalRuleQuerier final : public RuleQuerier {
 public:
  LocalRuleQuerier(const Queryable& q, const EngineOptions& opts) : q_(q), opts_(opts) {}
  Result<QueryResult> instant(const promql::Expr& expr, std::string_view, Millis t) override {
    return instant_query(q_, expr, t, opts_);
  }
  Result<QueryResult> range(const promql::Expr& expr, std::string_view, Millis start, Millis end,
                            Millis step) override {
    return range_query(q_, expr, start, end, step, opts_);
  }

 private:
  const Queryable& q_;
  EngineOptions opts_;
};

struct GroupEnv {
  Labels external_labels;
  std::string external_url;
  EngineOptions engine;
  Millis interval = 60'000;  // group interval (for resends and Grafana's missing-series logic)
  Millis query_offset = 0;
  // Write ALERTS/ALERTS_FOR_STATE (Prometheus does once the for-state has been restored).
  bool write_alert_series = true;
  // Render the alerts' annotations (off for replays, which never send them; with static labels
  // the templates are then not run at all).
  bool expand_annotations = true;
  // Where recording rules' native-histogram results go; unset = not recorded (the AppendFn
  // sinks take floats only).
  std::function<void(const Labels&, Millis, const HistogramPtr&)> append_histogram;
  // The monotonic clock that times each rule (eval_seconds); ruleeval/common/env.hpp.
  Env* clock = Env::Default();
};

enum class RuleHealth { kUnknown, kOk, kErr };
std::string_view to_string(RuleHealth h);  // "unknown" | "ok" | "err"

// The live state of one rule.
struct RuleRuntime {
  const rules::Rule* rule = nullptr;  // points into the group the runtime was built from
  RuleHealth health = RuleHealth::kUnknown;
  std::optional<std::string> last_error;
  Millis last_eval = kNoTime;
  double eval_seconds = 0;
  size_t last_samples = 0;
  AlertMap alerts;                   // Prometheus alerting rules
  std::vector<ActiveAlert> removed;  // alerts the last evaluation dropped from `alerts`
  std::string generator_url;         // the alerts' generatorURL, built on first use
  GrafanaInstances instances;        // Grafana-like rules
  StaleTracker stale;                // series written in the previous evaluation
  uint64_t journal_sig = 0;          // instances_signature() last appended to the state journal
};

class GroupRuntime {
 public:
  // `group` must outlive the runtime.
  GroupRuntime(const rules::RuleGroup& group, std::string file, GroupEnv env);
  ~GroupRuntime();
  GroupRuntime(GroupRuntime&&) noexcept;
  GroupRuntime& operator=(GroupRuntime&&) noexcept;

  // Evaluates every rule at `ts` through `q`; results go to `append`. Errors are recorded per rule
  // (RuleRuntime::last_error), never thrown.
  void eval(Millis ts, RuleQuerier& q, const AppendFn& append);

  const rules::RuleGroup& group() const { return *group_; }
  const std::string& file() const { return file_; }
  const GroupEnv& env() const { return env_; }
  // While an alerting rule waits for its `for` state to be restored from the backend, it writes
  // no ALERTS/ALERTS_FOR_STATE (Prometheus's `restored` flag): the restore query must not find
  // the series of the evaluation that just created the alerts.
  void hold_alert_series(bool hold) { hold_alert_series_ = hold; }
  std::vector<RuleRuntime>& rules() { return rules_; }
  const std::vector<RuleRuntime>& rules() const { return rules_; }

  // Alerts that need (re)sending at `ts`, in Alertmanager's shape, with external labels added.
  std::vector<rules::Alert> alerts_to_send(Millis ts, Millis resend_delay);

 private:
  void eval_recording(RuleRuntime& rt, Millis ts, RuleQuerier& q, const AppendFn& append);
  void eval_alerting(RuleRuntime& rt, Millis ts, RuleQuerier& q, const AppendFn& append);
  void eval_grafana(RuleRuntime& rt, Millis ts, RuleQuerier& q, const AppendFn& append);
  // Rules from Grafana provisioning/export files: the refId DAG (grafana_rule.cpp).
  void eval_grafana_dag(RuleRuntime& rt, Millis ts, RuleQuerier& q);
  void eval_grafana_record(RuleRuntime& rt, Millis ts, RuleQuerier& q, const AppendFn& append);
  // Grafana instances -> Prometheus-shaped alerts (rt.alerts), ALERTS series.
  void mirror_grafana(RuleRuntime& rt, Millis ts, RuleQuerier& q, const AppendFn& append);
  // ALERTS / ALERTS_FOR_STATE of the rule's active alerts at `t`, plus stale markers.
  void write_alert_series(RuleRuntime& rt, Millis t, const AppendFn& append);
  struct TemplateEnv;
  const TemplateEnv& templates(RuleQuerier& q, Millis ts);
  const tmpl::FuncMap& template_funcs(RuleQuerier& q, Millis ts);

  const rules::RuleGroup* group_;
  std::string file_;
  GroupEnv env_;
  bool hold_alert_series_ = false;
  Labels group_labels_;
  std::vector<RuleRuntime> rules_;
  std::unique_ptr<TemplateEnv> tmpl_;  // template functions shared by the group's alerts
};

// The template functions of an alerting rule evaluated at `ts` (Prometheus's set; `query` runs
// through `q`). Build once per rule evaluation and reuse for every sample.
tmpl::FuncMap alert_template_functions(RuleQuerier* q, Millis ts, std::string_view external_url);

// Renders a Prometheus alert template (label or annotation value) for one sample. On a template
// error it returns Prometheus's visible "<error expanding template: ...>" text.
std::string expand_alert_template(const rules::KeyValue& kv, std::string_view rule_name,
                                  const tmpl::Value& data, const tmpl::FuncMap& funcs);

// The data of a Grafana alert template: .Labels, .Values (refId -> {Labels, Value}) and .Value
// (Grafana's "[ var='A' labels={...} value=1 ]" string), for the prefix
// {{$labels := .Labels}}{{$values := .Values}}{{$value := .Value}}.
tmpl::Value grafana_template_data(const GrafanaInstance& inst);

// Expands a Grafana rule's labels for one result; `template_labels` are what the templates see
// as $labels (the rule's extra labels merged with the result's).
using GrafanaLabelExpander =
    std::function<Labels(const Labels& template_labels, const gexpr::EvalItem& result)>;
// __alert_rule_uid__ and the notification_settings labels (__grafana_autogenerated__,
// __grafana_receiver__, __grafana_route_settings_hash__) of a Grafana rule's alerts.
Labels grafana_private_labels(const rules::GrafanaSpec& g);
// One evaluation's results into the rule's instances (Grafana's state manager).
void apply_grafana_results(GrafanaInstances& instances, const GrafanaRuleParams& p,
                           std::string_view folder, const Labels& private_labels,
                           const GrafanaLabelExpander& expand,
                           const std::vector<gexpr::EvalItem>& items, Millis ts, Millis interval);

// Reduces a series' values the Grafana way (reduce expression semantics with the rule's mode).
double grafana_reduce(rules::Reducer r, rules::ReduceMode mode, double replace_with,
                      std::span<const double> values);

}  // namespace ruleeval::engine
