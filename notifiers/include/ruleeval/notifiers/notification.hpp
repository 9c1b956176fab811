// The data a notification carries: Alertmanager's template.Data (tmpl::NotificationData, the one
// model, shared with parser/gotmpl) with what its webhook message adds. Templates see .Receiver,
// .Status, .Alerts (.Firing/.Resolved), .GroupLabels, .CommonLabels, .CommonAnnotations,
// .ExternalURL, .GroupKey and .TruncatedAlerts.
// Thread-safety: plain values, built per notification by the flushing thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ruleeval/common/labels.hpp"
#include "ruleeval/parser/template.hpp"
#include "ruleeval/rules/alert.hpp"

namespace ruleeval::notifiers {

// One alert of a notification (template.Alert): status "firing" | "resolved", times as Go times
// (go_time: an unset EndsAt is Go's zero time), fingerprint as 16 hex digits (Alertmanager's
// FNV-1a label fingerprint).
using AlertData = tmpl::NotificationAlert;

// Alertmanager's webhook message: template.Data (status "firing" if any alert fires, else
// "resolved") plus the group key and the number of alerts left out by max_alerts.
struct NotificationData : tmpl::NotificationData {
  std::string group_key;
  uint64_t truncated_alerts = 0;

  std::vector<const AlertData*> firing() const;
  std::vector<const AlertData*> resolved() const;
};

// Builds the template data for a group flush at `now` (alerts are firing unless resolved at now).
NotificationData make_notification_data(const std::string& receiver, std::string group_key,
                                        Labels group_labels, const std::vector<rules::Alert>& alerts,
                                        std::string external_url, Millis now);

// Alertmanager's model.LabelSet.Fingerprint(): FNV-1a 64 over sorted name\xffvalue\xff.
uint64_t fingerprint(const Labels& labels);
std::string fingerprint_hex(const Labels& labels);
// Go's RFC3339Nano in UTC ("2026-11-24T01:00:56.875Z"); 0 gives "0001-01-01T00:00:00Z".
std::string format_time(Millis ms);
// The same for an alert's time (made by go_time, so whole milliseconds); Go's zero time gives
// "0001-01-01T00:00:00Z".
std::string format_time(const tmpl::Time& t);
// Unix milliseconds as a Go time in UTC; 0 (an unset time) is Go's zero time, as in Alertmanager.
tmpl::Time go_time(Millis ms);
// Lowercase hex SHA-256 (PagerDuty dedup keys).
std::string sha256_hex(std::string_view data);
// Alertmanager's KV.SortedPairs order: alertname first, then the rest by name.
std::vector<Label> sorted_pairs(const Labels& labels);
// Alertmanager's default subject: "[FIRING:2] <group label values> (<other common values>)".
std::string default_subject(const NotificationData& d);
// Alertmanager's link to the receiver's alerts: <external_url>/#/alerts?receiver=<name>.
std::string alerts_url(const NotificationData& d);
// First n runes, the last replaced by "…" when the text is longer (Alertmanager's truncation).
std::string truncate_runes(std::string_view s, size_t n, bool* truncated = nullptr);

}  // namespace ruleeval::notifiers
