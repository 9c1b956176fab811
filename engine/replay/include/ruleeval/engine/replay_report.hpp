// `ruleeval replay` as an alert-fatigue report: what each alerting rule would have paged over a
// past range, how often it flapped, how long it fired, and what other `for` / `keep_firing_for`
// (and, for Grafana-like rules, threshold / recover) values would have done.
//
// One query pass, many state machines: each rule's expression is fetched once with query_range
// (step = the group interval, points at exactly the group's slot times, chunked under the
// backend's points-per-series limit, rules fetched in parallel), then the group is evaluated at
// every slot by the engine's own GroupRuntime (the real state machine, templates, Grafana-like
// logic) reading those results, and every what-if variant is a further GroupRuntime over a copy
// of the group with the one knob changed, reading the same results. Queries a prefetch cannot
// answer (Grafana range windows, `@` modifiers, off-grid points) go to the backend once per slot
// and are shared by the variants.
//
// Thread-safety: run_replay() is called from one thread and uses `concurrency` workers inside;
// the callbacks in ReplayOptions are called under a mutex, one at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/alert_state.hpp"
#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/manager.hpp"

namespace ruleeval::engine::replay {

// ---- --what-if -------------------------------------------------------------------------------

enum class WhatIfKey { kFor, kKeepFiringFor, kThreshold, kRecover };
std::string_view to_string(WhatIfKey k);  // "for", "keep_firing_for", "threshold", "recover"

struct WhatIfValue {
  std::string spelling;  // as given on the command line ("5m", "0s", "180")
  Millis ms = 0;         // for durations
  double number = 0;     // for thresholds
};

struct WhatIf {
  WhatIfKey key = WhatIfKey::kFor;
  std::vector<WhatIfValue> values;
};

// "for=0s,5m,15m", "keep_firing_for=0s,10m", "threshold=200,300", "recover=150".
Result<WhatIf> parse_what_if(std::string_view arg);

// ---- Results ---------------------------------------------------------------------------------

// One pending and/or firing episode of one alert instance.
struct Episode {
  Millis pending_at = kNoTime;   // went pending (== fired_at when it fired at once)
  Millis fired_at = kNoTime;     // kNoTime: resolved while pending (a pending-only episode)
  Millis resolved_at = kNoTime;  // kNoTime: still active when the range ended
  Millis end = 0;                // resolved_at, or the end of the range
  bool flap = false;             // fired within the flap window of the previous resolve
};

// A [start, end) time span (no-data and error periods).
struct Span {
  Millis start = 0, end = 0;
};

struct InstanceReport {
  Labels labels;
  size_t firing_starts = 0;  // pages
  size_t pending_only = 0;
  size_t flaps = 0;
  size_t refires = 0;  // fired again within repeat_interval of a resolve (flaps included)
  Millis firing_ms = 0;
  std::vector<Episode> episodes;
  // Grafana-like rules: periods the instance spent in NoData / Error.
  std::vector<Span> nodata, errors;
};

struct Distribution {
  size_t count = 0;
  Millis median = 0, p90 = 0, max = 0;  // nearest-rank percentiles
};
Distribution distribution(std::vector<Millis> values);

struct VariantReport {
  WhatIfKey key = WhatIfKey::kFor;
  std::string value;  // the command line's spelling
  size_t firing_starts = 0, pending_only = 0;
  Millis firing_ms = 0;
  Distribution detection_delay;  // pending -> firing
};

struct RuleReport {
  std::string file, group, rule;
  bool grafana = false;
  Millis interval = 0, for_ms = 0;
  Millis flap_window_ms = 0;  // the group_interval used for flaps (of the first instance's route)
  size_t evaluations = 0, failed_evaluations = 0;
  std::vector<Span> error_periods;  // consecutive failed evaluations (query errors)
  size_t firing_starts = 0, pending_only = 0, flaps = 0;
  size_t refires = 0;  // fired again within the route's repeat_interval of a resolve
  Millis firing_ms = 0;
  Distribution episode_firing;   // firing time per episode
  Distribution detection_delay;  // time to first fire after pending
  Millis nodata_ms = 0, error_ms = 0;
  size_t nodata_periods = 0, error_state_periods = 0;
  size_t peak_firing = 0;  // most alerts of the rule firing at one evaluation
  Millis peak_at = kNoTime;
  std::vector<InstanceReport> instances;  // sorted by labels
  std::vector<VariantReport> what_if;
};

struct ReplayReport {
  Millis from = 0, to = 0;
  std::vector<RuleReport> rules;  // alerting rules, in file/group/rule order
  uint64_t evaluations = 0;       // group evaluations (base only)
  uint64_t range_queries = 0;     // prefetch query_range calls
  uint64_t direct_queries = 0;    // queries the prefetch could not answer
  size_t peak_firing = 0;         // all rules together
  Millis peak_at = kNoTime;
};

// ---- Running ---------------------------------------------------------------------------------

struct Progress {
  std::atomic<uint64_t> total{0};  // rule-slots to fetch + rule-slots to evaluate
  std::atomic<uint64_t> done{0};
};

struct ReplayOptions {
  Millis from = 0, to = 0;
  // Which rules to replay (alerting and recording); unset = all. Recording rules of groups on the
  // embedded store are always kept (later rules may read their results).
  std::function<bool(const rules::Rule&)> rule_filter;
  std::vector<WhatIf> what_if;
  size_t concurrency = 4;
  size_t max_points = 11'000;  // per series per query_range (Prometheus's limit)
  // (group_interval, repeat_interval) of the route that would receive an alert with these
  // labels; unset = Alertmanager's defaults (5m, 4h).
  std::function<std::pair<Millis, Millis>(const Labels&)> flap_windows;
  // Called after each base evaluation of a group (e.g. to print the alerts); under a mutex.
  std::function<void(const GroupRuntime&, Millis)> after;
};

// Replays `sources` (RuleManager::replay_sources()) over [from, to]. Errors only for bad options
// (e.g. a what-if value that cannot apply); backend failures become rule errors in the report.
Result<ReplayReport> run_replay(const std::vector<RuleManager::ReplaySource>& sources,
                                const ReplayOptions& opts, Progress* progress = nullptr);

// ---- Output ----------------------------------------------------------------------------------

// The summary JSON of the shape: {"from", "to", "rules": [{"file", "group", "rule",
// "firing_starts", "pending_only", "flaps", "firing_seconds", "episodes", "instances",
// "what_if"}], ...}. Times RFC3339 (UTC), durations in seconds.
std::string summary_json(const ReplayReport& r);

// A plain-text table per rule with what-if variants: value -> pages, pending-only, median
// detection delay.
std::string what_if_table(const ReplayReport& r);

// Rules ranked noisiest first (pages, then flaps, then firing time).
std::vector<const RuleReport*> ranked(const ReplayReport& r);

// The self-contained HTML report: no script, no network; inline CSS and SVG.
std::string html_report(const ReplayReport& r);

// RFC3339 UTC ("2026-12-04T14:00:00Z", milliseconds when not whole seconds).
std::string rfc3339(Millis t);

}  // namespace ruleeval::engine::replay
