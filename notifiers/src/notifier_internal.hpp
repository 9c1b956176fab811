// Private declarations shared by the Notifier's files: the delivery worker of one integration,
// the integrations of a receiver, the nflog's dedup rule, the config's template check, and the
// diagnostics log. The Notifier is split by concept:
//   notifier.cpp                create(), stop(), the flush loop (tick) and the default Env
//   notifier_integrations.cpp   the integrations of a receiver and their ids
//   notifier_check.cpp          template syntax of receiver fields, checked at config load
//   notifier_render.cpp         a group's flush: intervals, inhibition, silences, dedup, render
//   notifier_nflog.cpp          the notification log: dedup, load, save, outcomes
//   notifier_delivery.cpp       delivery workers: queues, rate limits, retries with backoff
//   notifier_fallback.cpp       the fallback receiver and its ReceiverFailing alert
//   notifier_metrics.cpp        per-integration counters and their Prometheus text
//   notifier_log.cpp            where the notifier's errors are logged
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers {

struct Notifier::Worker {
  Millis failure_logged_at = INT64_MIN / 2;  // rate limit of delivery failure logs
  std::string id;
  std::string receiver;
  IntegrationKind kind = IntegrationKind::kWebhook;
  size_t index = 0;
  Millis min_interval = 0;
  Millis last_send = INT64_MIN / 2;
  bool failing_raised = false;
  bool busy = false;
  std::deque<OutboxEntry> queue;
  IntegrationMetrics m;
  std::mutex mu;
  std::condition_variable cv;
  std::thread thread;
  std::mt19937_64 rng{std::random_device{}()};
};

namespace detail {

// Logs a notifier error (URLs redacted) to set_notifier_log()'s sink, else to stderr.
void log_error(const std::string& msg);

struct IntegrationRef {
  IntegrationKind kind;
  size_t index;
  bool send_resolved;
};

// The integrations of a receiver, in the order their ids are numbered.
std::vector<IntegrationRef> integrations_of(const ReceiverConfig& rc);
// "<receiver>/<kind>/<index>".
std::string integration_id(const std::string& receiver, IntegrationKind k, size_t i);

// Alertmanager's DedupStage.needsUpdate.
bool needs_update(const void* entry_ptr, const std::vector<uint64_t>& firing,
                  const std::vector<uint64_t>& resolved, bool send_resolved, Millis repeat,
                  Millis now, const std::vector<uint64_t>* log_firing,
                  const std::vector<uint64_t>* log_resolved, Millis log_at);

// Template syntax errors surface when the config loads, naming the receiver and the field.
Result<void> check_templates(const NotifyConfig& config);

}  // namespace detail
}  // namespace ruleeval::notifiers
