// Prometheus-shaped JSON for GET /api/v1/rules and GET /api/v1/alerts (web/api/v1/api.go), from
// plain views of the rule groups, so the HTTP server and `ruleeval run` wiring stay thin.
// Pure functions; thread-safe as long as the views are not mutated meanwhile.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/engine/alert_state.hpp"

namespace ruleeval::engine {

struct RuleView {
  enum class Type { kAlerting, kRecording };
  Type type = Type::kAlerting;
  std::string name;
  std::string query;
  Millis duration = 0;         // `for` (alerting)
  Millis keep_firing_for = 0;  // alerting
  Labels labels;
  Labels annotations;                // alerting
  const AlertMap* alerts = nullptr;  // alerting; may be null
  std::string health = "unknown";    // "ok" | "err" | "unknown"
  std::optional<std::string> last_error;
  double eval_seconds = 0;
  Millis last_eval = kNoTime;
};

struct GroupView {
  std::string name;
  std::string file;
  Millis interval = 60'000;
  size_t limit = 0;
  double eval_seconds = 0;
  Millis last_eval = kNoTime;
  std::vector<RuleView> rules;
};

// The query parameters of /api/v1/rules that filter.
struct RulesFilter {
  std::optional<RuleView::Type> type;    // type=alert|record
  std::vector<std::string> rule_names;   // rule_name[]
  std::vector<std::string> rule_groups;  // rule_group[]
  std::vector<std::string> files;        // file[]
  bool exclude_alerts = false;
};
// Parses "alert" / "record"; anything else is Prometheus's bad_data error text.
Result<std::optional<RuleView::Type>> parse_rule_type(std::string_view s);

// {"status":"success","data":{"groups":[...]}}. Groups with no rule left after filtering are
// dropped when a rule-level filter is set (as Prometheus does).
std::string render_rules(std::span<const GroupView> groups, const RulesFilter& filter = {});
// {"status":"success","data":{"alerts":[...]}}: pending and firing alerts only.
std::string render_alerts(std::span<const GroupView> groups);
// {"status":"error","errorType":..,"error":..}
std::string render_error(std::string_view error_type, std::string_view message);

// Go's time.RFC3339Nano for Unix ms in UTC ("2026-11-24T01:00:40.858Z"); kNoTime gives Go's
// zero time "0001-01-01T00:00:00Z".
std::string format_rfc3339(Millis t);
// Go's strconv.FormatFloat(v, 'e', -1, 64): "1e+00", "2.5e-01", "NaN", "+Inf".
std::string format_go_float_e(double v);

}  // namespace ruleeval::engine
