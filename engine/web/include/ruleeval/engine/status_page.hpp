// The HTML status page of `ruleeval run` (GET /): what is firing, since when, why, whether the
// page reached someone, silences, and the rules behind the alerts. Server-rendered from plain view
// structs (filled by the rule manager and the notifier wiring), no JavaScript framework and no
// external resources (air-gapped clusters): one inline stylesheet and one small inline script
// (auto-refresh toggle, the silence form posting JSON to /api/v2/silences, expire).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruleeval/engine/alert_state.hpp"

namespace ruleeval::engine::status {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// The page's HTML escaping: common/escape.hpp's html_escape (& < > " ' become entities).
std::string escape_html(std::string_view s);

struct AlertItem {
  std::string group, rule;
  std::string state;  // "firing" | "pending" | "resolved"
  LabelPairs labels;  // includes alertname
  LabelPairs external_labels;  // added when the alert is sent (silences see them); not shown
  LabelPairs annotations;
  double value = 0;
  Millis active_at = kNoTime, fired_at = kNoTime, resolved_at = kNoTime;
  Millis for_ms = 0;  // the rule's `for`
  std::string generator_url;
  std::vector<std::string> silenced_by;  // ids of active silences matching the alert
};

// One band of the rule's recent state strip.
struct StateBand {
  Millis from = 0, to = 0;
  std::string state;  // "pending" | "firing"
};

struct RuleItem {
  std::string name;
  bool alerting = true;
  std::string query;
  std::string health = "unknown";  // "ok" | "err" | "unknown"
  std::optional<std::string> last_error;
  Millis last_eval = kNoTime;
  double eval_seconds = 0;
  Millis for_ms = 0;
  size_t firing = 0, pending = 0;
  std::vector<StateBand> bands;
};

struct GroupItem {
  std::string name, file;
  Millis interval = 60'000;
  Millis last_eval = kNoTime;
  double eval_seconds = 0;
  uint64_t iterations = 0, missed = 0;
  std::vector<RuleItem> rules;
};

struct SilenceItem {
  std::string id;
  std::string matchers;  // `{a="b", c=~"d"}`
  Millis starts_at = 0, ends_at = 0;
  std::string created_by, comment;
  std::string state;  // "active" | "pending" | "expired"
};

// A notification of one alert group through one integration (the notification log), with the
// integration's current outcome.
struct DeliveryItem {
  std::string group_key;
  std::string receiver, integration;
  Millis at = kNoTime;
  size_t firing = 0, resolved = 0;
  std::string outcome;  // "queued" | "sent" | "retrying" | "failed"
  std::string error;     // the last attempt's (retrying) or the final one (failed)
  std::string fallback;  // failed: the fallback receiver paged about it ("" = none)
};

struct ReceiverItem {
  std::string receiver, integration;
  uint64_t sent = 0, failed = 0, retried = 0, queued = 0, consecutive_failures = 0;
  std::string last_error;
  bool failing() const { return consecutive_failures > 0; }
};

struct PageData {
  Millis now = 0;
  std::vector<GroupItem> groups;
  std::vector<AlertItem> alerts;
  bool notifier = false;  // false: no notifier configured, no delivery/silence sections
  std::vector<SilenceItem> silences;
  std::vector<DeliveryItem> deliveries;
  std::vector<ReceiverItem> receivers;
  // Alert state writes that failed (journal or snapshot): shown at the top while non-zero.
  uint64_t state_write_failures = 0;
  std::string state_write_error;
};

// The URL query of the page: ?state=firing&label=severity%3Dpage&q=text&refresh=0
struct PageFilter {
  std::string state;  // "", "firing", "pending", "resolved"
  LabelPairs labels;  // each must match exactly
  std::string q;      // case-insensitive substring of labels, annotations or rule name
  int refresh_seconds = 30;  // 0 = off
  // Parameters that could not be used, each with the reason: shown on the page above the
  // alerts (never silently ignored). `bad_labels`: the raw invalid `label` values, kept in the
  // form so they can be fixed.
  std::vector<std::string> errors;
  std::vector<std::string> bad_labels;
};
// `labels` holds the raw `label` parameters ("name=value"); invalid ones (and an unknown state
// or refresh) are left out of the filter and reported in `errors` (also appended to `*errors`).
PageFilter parse_filter(std::string_view state, const std::vector<std::string>& labels,
                        std::string_view q, std::string_view refresh,
                        std::vector<std::string>* errors = nullptr);

std::string render_status_page(const PageData& data, const PageFilter& filter = {});

// The page's forms (silence, expire) post to this server without JavaScript. A form posted from
// another site must not change anything (CSRF): the Origin header (or, without one, the
// Referer) must name this server, i.e. the request's Host. Returns "" when the request is
// same-origin, else the reason to refuse it (403).
std::string cross_site_reason(std::string_view origin, std::string_view referer,
                              std::string_view host);
// A small page answering a form post that failed (or a notice), with a link back to /.
std::string render_notice_page(std::string_view title, std::string_view message, bool error);

// PromQL as HTML with <span class="..."> for metric names, label matchers, functions,
// aggregations, numbers and strings (from the project's parser; unparsable text is escaped only).
std::string highlight_promql(std::string_view query);

// "12m ago"-style durations: "45s", "2m10s", "3h5m", "2d4h".
std::string format_age(Millis d);

// The label pairs of an Alertmanager group key (`{}/{}:{alertname="X", job="y"}`); an alert
// belongs to the group when it has all of them.
LabelPairs group_key_labels(std::string_view group_key);
}  // namespace ruleeval::engine::status
