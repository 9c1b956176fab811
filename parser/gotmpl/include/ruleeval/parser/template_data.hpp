// Alertmanager's notification template data model (template.Data, Alert, KV, Pairs) as
// template values with Go's methods. Pure functions; the values are immutable.
#pragma once

#include <string>
#include <vector>
#include "ruleeval/common/labels.hpp"
#include "ruleeval/parser/template_value.hpp"

namespace ruleeval::tmpl {

struct NotificationAlert {
  std::string status;  // "firing" or "resolved"
  Labels labels;
  Labels annotations;
  Time starts_at;
  Time ends_at;
  std::string generator_url;
  std::string fingerprint;
};

struct NotificationData {
  std::string receiver;
  std::string status;  // "firing" or "resolved"
  std::vector<NotificationAlert> alerts;
  Labels group_labels;
  Labels common_labels;
  Labels common_annotations;
  std::string external_url;
};

// Alertmanager's template.KV: a label map with .SortedPairs (alertname first, then by name),
// .Names, .Values and .Remove (a []string of names to drop).
Value kv_value(const Labels& kv);
// Alertmanager's template.Data: .Receiver .Status .Alerts (with .Firing/.Resolved) .GroupLabels
// .CommonLabels .CommonAnnotations .ExternalURL; each alert has .Status .Labels .Annotations
// .StartsAt .EndsAt .GeneratorURL .Fingerprint.
Value notification_template_data(const NotificationData& d);

}  // namespace ruleeval::tmpl
