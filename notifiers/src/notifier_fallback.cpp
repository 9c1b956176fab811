// The fallback receiver: when an integration keeps failing (failing_threshold) or a notification
// fails for good, it is paged with a ReceiverFailing alert, resolved when delivery recovers.
#include <string>
#include <vector>

#include "notifier_internal.hpp"

namespace ruleeval::notifiers {

using detail::integration_id;
using detail::integrations_of;
using detail::log_error;

std::string Notifier::fail_to_fallback(Worker& w) {
  if (opts_.fallback_receiver.empty() || opts_.fallback_receiver == w.receiver) return "";
  bool raise = false;
  {
    std::lock_guard lock(w.mu);
    if (!w.failing_raised) w.failing_raised = raise = true;
  }
  if (raise) on_failure_threshold(w, true);
  return opts_.fallback_receiver;
}

void Notifier::on_failure_threshold(Worker& w, bool failing) {
  if (opts_.fallback_receiver.empty()) return;
  const ReceiverConfig* rc = config_.find_receiver(opts_.fallback_receiver);
  if (!rc) return;
  Millis now = opts_.env->now_ms();
  rules::Alert a;
  a.labels = Labels{{"alertname", "ReceiverFailing"},
                    {"receiver", w.receiver},
                    {"integration", std::string(kind_name(w.kind))},
                    {"severity", "critical"}};
  std::string last_error;
  {
    std::lock_guard lock(w.mu);
    last_error = w.m.last_error;
  }
  a.annotations =
      Labels{{"summary", "Notifications to " + w.id + " are failing"},
             {"description", failing ? "Last error: " + last_error : "Delivery has recovered."}};
  a.starts_at = now;
  a.ends_at = failing ? 0 : now;
  std::string key = "{}/ruleeval:" + a.labels.to_string();
  std::vector<rules::Alert> alerts{a};
  auto data = make_notification_data(rc->name, key, a.labels, alerts, opts_.external_url, now);
  for (const auto& ref : integrations_of(*rc)) {
    std::string id = integration_id(rc->name, ref.kind, ref.index);
    if (id == w.id) continue;
    if (!failing && !ref.send_resolved) continue;
    auto body = render(*rc, ref.kind, ref.index, data, alerts, now);
    if (!body) {
      log_error(id + ": " + body.error().to_string());
      continue;
    }
    OutboxEntry e;
    e.integration = id;
    e.receiver = rc->name;
    e.kind = ref.kind;
    e.group_key = key;
    e.body = std::move(*body);
    e.created_at = now;
    enqueue(std::move(e), true);
  }
}

}  // namespace ruleeval::notifiers
