// The alerting-rule state machine as pure functions (Prometheus rules/alerting.go semantics, and a
// Grafana-like variant). No clocks and no I/O: the evaluation time and the query result are
// parameters, the state is a value the caller owns. Not thread-safe; one RuleAlerts per rule.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ruleeval/common/compact_labels.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/value.hpp"
#include "ruleeval/rules/alert.hpp"

namespace ruleeval::engine {

// "Not set" for the optional times below (Go's zero time.Time).
inline constexpr Millis kNoTime = std::numeric_limits<Millis>::min();
inline bool is_set(Millis t) { return t != kNoTime; }

// Prometheus's 15 minutes (`resolvedRetention`): resolved alerts are kept (and re-sent) this long.
inline constexpr Millis kResolvedRetention = Millis{15} * 60 * 1000;

enum class AlertState { kInactive, kPending, kFiring };
std::string_view to_string(AlertState s);  // "inactive" | "pending" | "firing"
std::optional<AlertState> alert_state_from_string(std::string_view s);

// One alert instance of a rule (Prometheus's rules.Alert). Labels and annotations are packed
// (CompactLabels): a rule can hold a million of these.
struct ActiveAlert {
  CompactLabels labels;  // identity: sample labels - __name__, + rule labels, + alertname
  CompactLabels annotations;
  AlertState state = AlertState::kPending;
  double value = 0;
  Millis active_at = kNoTime;
  Millis fired_at = kNoTime;
  Millis resolved_at = kNoTime;
  Millis last_sent_at = kNoTime;
  Millis valid_until = kNoTime;
  Millis keep_firing_since = kNoTime;
  // Grafana rules: the instance is (or resolved from) NoData / Error, sent to the Alertmanager
  // as DatasourceNoData / DatasourceError with the title in `rulename`. Empty otherwise. Only
  // ever one of those two literals (a view: 16 bytes instead of a std::string's 32, per alert).
  std::string_view send_as;
  // Not part of the alert: transition_signature() of the version last appended to the state
  // journal (0: never), so that only alerts that changed state are journaled.
  uint64_t journal_sig = 0;
};

// All alerts of one rule, keyed by the identity hash (labels.hash()), as Prometheus keys them:
// the label set is stored once, in the alert.
using AlertMap = std::unordered_map<uint64_t, ActiveAlert>;
inline void put_alert(AlertMap& m, ActiveAlert a) {
  uint64_t h = a.labels.hash();
  m.insert_or_assign(h, std::move(a));
}

// One element of the rule's instant-query result.
struct RuleSample {
  Labels labels;
  double value = 0;
};

// Expands the rule's label and annotation templates for one sample. Gets the sample's labels
// (with __name__ removed) and value; returns (labels to set, annotations). Template errors are
// the expander's business (Prometheus inlines "<error expanding template: ...>").
struct Expanded {
  Labels labels;
  Labels annotations;
};
using TemplateExpander = std::function<Expanded(const Labels& sample_labels, double value)>;

struct AlertingRuleParams {
  std::string name;   // alertname
  Millis for_ms = 0;  // `for`
  Millis keep_firing_for_ms = 0;
  Labels labels;            // static rule labels (group labels already merged in)
  Labels annotations;       // static annotations
  size_t limit = 0;         // 0 = none
  TemplateExpander expand;  // optional; when set it replaces `labels`/`annotations`
};

// Step 1-7 of Prometheus's AlertingRule.Eval for a successful query at `ts` (the slot time, not
// ts - query_offset). On error (duplicate label set, limit exceeded) the returned Error has
// Prometheus's message; for duplicates the state is untouched, for the limit it is cleared.
// A failed query must NOT call this: Prometheus keeps the state as it is and sends nothing.
// Alerts dropped from the map (a pending alert that vanished, resolved ones past retention, all
// of them when the limit is exceeded) are moved to `removed` when it is given.
Result<void> eval_alerting_rule(AlertMap& alerts, const AlertingRuleParams& rule,
                                std::span<const RuleSample> samples, Millis ts,
                                std::vector<ActiveAlert>* removed = nullptr);

// The rule's state: the max over its alerts (inactive when there are none).
AlertState rule_state(const AlertMap& alerts);
// Number of pending + firing alerts.
size_t active_count(const AlertMap& alerts);

// Prometheus's needsSending: never pending; resolved since the last send; or
// last_sent_at + resend_delay < ts (strict).
bool needs_sending(const ActiveAlert& a, Millis ts, Millis resend_delay);

// sendAlerts: picks the alerts that need sending at `ts`, marks them sent (last_sent_at = ts,
// valid_until = ts + 4*max(interval, resend_delay)) and returns them in Alertmanager's shape:
// startsAt = fired_at, endsAt = resolved_at if resolved else valid_until. Sorted by labels.
std::vector<rules::Alert> collect_alerts_to_send(AlertMap& alerts, Millis ts, Millis resend_delay,
                                                 Millis interval, std::string_view generator_url);

// A sample the rule writes back (ALERTS / ALERTS_FOR_STATE / stale markers).
struct OutputSample {
  Labels labels;
  Millis t = 0;
  double value = 0;
  HistogramPtr h = nullptr;  // a recording rule's native-histogram result
};
// StaleNaN markers: stale_nan() / is_stale_nan() from value.hpp.

// Step 8: for every pending or firing alert, ALERTS{..., alertstate} = 1 and
// ALERTS_FOR_STATE{...} = active_at in Unix seconds, both at `t` (= ts - query_offset).
std::vector<OutputSample> alert_series(const AlertMap& alerts, Millis t);

// Remembers the series written in the previous evaluation and produces StaleNaN markers for the
// ones missing now (Group.Eval's seriesInPreviousEval). Call after each successful evaluation.
class StaleTracker {
 public:
  std::vector<OutputSample> update(std::span<const OutputSample> current, Millis t);

 private:
  std::vector<CompactLabels> previous_;  // packed: with many alerts this is 2 series each
};

// ---------------------------------------------------------------------------------------------
// Grafana-like rules (pkg/services/ngalert/state): per-instance states with NoData/Error mapping,
// keep_firing_for as "Recovering", a recovery threshold (hysteresis) and series that only count
// as gone after N missed evaluations.

enum class GrafanaState { kNormal, kPending, kAlerting, kRecovering, kNoData, kError };
std::string_view to_string(GrafanaState s);  // "Normal", "Pending", "Alerting", ...

enum class NoDataMapping { kNoData, kAlerting, kOk, kKeepLast };
enum class ExecErrMapping { kError, kAlerting, kOk, kKeepLast };
std::optional<NoDataMapping> no_data_mapping_from_string(std::string_view s);  // case-insensitive
std::optional<ExecErrMapping> exec_err_mapping_from_string(std::string_view s);

enum class ThresholdOp { kGt, kLt, kGte, kLte, kEq, kNe };
struct Threshold {
  ThresholdOp op = ThresholdOp::kGt;
  double value = 0;
  bool matches(double v) const;  // NaN never matches
};

struct GrafanaRuleParams {
  std::string title;  // alertname
  Millis for_ms = 0;
  Millis keep_firing_for_ms = 0;
  Labels labels;
  NoDataMapping no_data = NoDataMapping::kNoData;
  ExecErrMapping exec_err = ExecErrMapping::kAlerting;
  int missing_series_evals_to_resolve = 2;
  // When unset, a sample is "alerting" when its value is non-zero (Grafana's condition result).
  std::optional<Threshold> fire;
  // Hysteresis: once an instance is alerting (or pending/recovering), it stays so while the
  // recover threshold does NOT match; only a match clears it. Needs `fire`.
  std::optional<Threshold> recover;
};

struct GrafanaInstance {
  Labels labels;
  GrafanaState state = GrafanaState::kNormal;
  std::string state_reason;  // "", "NoData", "Error", "KeepLast", "MissingSeries"
  double value = 0;
  Millis starts_at = kNoTime;    // when the current state began
  Millis fired_at = kNoTime;     // when it became Alerting
  Millis resolved_at = kNoTime;  // when it went from Alerting/Recovering to Normal
  Millis recovering_since = kNoTime;
  Millis last_eval = kNoTime;  // last evaluation that returned this series
  int missed_evals = 0;
  // Rules with a refId DAG (Grafana provisioning files):
  Labels raw_labels;  // the condition's result labels (hysteresis identity)
  std::map<std::string, double> values;  // refId -> value ($values, __values__)
  Labels extra_annotations;              // Error, datasource_uid, ref_id
  // Not saved in state files (rebuilt at the next evaluation):
  std::map<std::string, Labels> value_labels;  // refId -> labels of $values.<refId>
  std::string value_string;                    // $value
  Labels template_labels;  // $labels: the rule's extra labels merged with the result's
};
using GrafanaInstances = std::unordered_map<Labels, GrafanaInstance>;

// What the evaluation produced: samples, or an error message (query/expression failure).
struct GrafanaEvalResult {
  std::vector<RuleSample> samples;
  std::optional<std::string> error;
};

// One evaluation at `ts`. Instances that were resolved by an earlier evaluation (Normal and not
// seen now) are dropped at the start of the next one.
void eval_grafana_rule(GrafanaInstances& instances, const GrafanaRuleParams& rule,
                       const GrafanaEvalResult& result, Millis ts);

}  // namespace ruleeval::engine
