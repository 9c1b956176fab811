// The hand-off between the rule engine and the notifiers, in Alertmanager's API shape
// (POST /api/v2/alerts). The engine produces Alerts; notifiers/ consumes them through AlertSink.
// Neither side includes the other: tools/ wires an engine to a sink.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "ruleeval/common/labels.hpp"
#include "ruleeval/common/millis.hpp"

namespace ruleeval::rules {

struct Alert {
  Labels labels;       // identity: includes alertname and external labels
  Labels annotations;  // sorted name/value pairs
  Millis starts_at = 0;
  Millis ends_at = 0;  // 0 = unknown; an alert with ends_at <= now is resolved
  std::string generator_url;

  bool resolved_at(Millis now) const { return ends_at != 0 && ends_at <= now; }
};

// Receives batches of alerts, as Alertmanager's POST /api/v2/alerts does. Implementations must be
// thread-safe: rule groups evaluate concurrently.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void send(std::span<const Alert> alerts, Millis now) = 0;
};

}  // namespace ruleeval::rules
