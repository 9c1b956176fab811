// The notification pipeline: an AlertSink that routes, groups, inhibits, silences, deduplicates
// (Alertmanager's notification log), renders the receiver payloads, writes them to the durable
// outbox and delivers them with one worker per integration (retry with exponential backoff and
// jitter; Alertmanager's retry codes: 5xx always, PagerDuty v2 also 429, v1 also 403, nothing
// else; a Retry-After header on a retried answer is honoured; per-integration rate limit).
//
// Thread-safety: send(), tick(), wait_idle(), metrics() and silences() may be called from any
// thread (rule-manager workers, the HTTP API, the notifier's own loop); stop() once, from one
// thread. Threads: one loop thread (tick() every second unless start_threads is false) and one
// delivery worker per integration. Lock order: tick_mu_ -> nflog_mu_ -> Worker::mu, and
// workers_mu_ -> Worker::mu; the Dispatcher, Silences and Outbox locks are leaves.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <string_view>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/notifiers/dispatch.hpp"
#include "ruleeval/notifiers/inhibit.hpp"
#include "ruleeval/notifiers/notification.hpp"
#include "ruleeval/notifiers/outbox.hpp"
#include "ruleeval/notifiers/silences.hpp"

namespace ruleeval::notifiers {

struct SendResult {
  bool ok = false;
  bool retryable = false;
  Millis retry_after_ms = -1;  // from a Retry-After header, -1 = none
  long status = 0;             // HTTP status, 0 = none (network error, SMTP, file)
  std::string error;
};

// Does the actual I/O for one outbox entry. The default sends HTTP through common/http's client,
// email through libcurl's SMTP, and appends files; tests inject fakes.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendResult send(const OutboxEntry& e, const ReceiverConfig& receiver, size_t index) = 0;
};
// HTTP, SMTP and files; every HTTP request (receivers, oauth2 tokens, STS) goes through
// env->http_client() of the delivering thread. `env` must outlive the transport.
std::unique_ptr<Transport> make_default_transport(Env* env = Env::Default());

struct IntegrationMetrics {
  std::string receiver;
  std::string integration;  // slack, pagerduty, email, webhook, alertmanager, file
  uint64_t sent = 0, failed = 0, retried = 0, queued = 0;
  uint64_t consecutive_failures = 0;
  std::string last_error;
};

struct NotifierOptions {
  std::string state_dir;  // outbox, nflog.json and silences.json live here; empty = memory only
  std::string external_url = "http://localhost:9093";
  // Wall clock for group timers, nflog ages and give-up times, and the files of the state
  // (ruleeval/common/env.hpp); tests pass a FakeEnv. Default: Env::Default().
  std::shared_ptr<Env> env;
  std::shared_ptr<Transport> transport;  // default: make_default_transport(env)
  // Retry: exponential backoff from initial, x multiplier, +-jitter, capped at max.
  Millis backoff_initial_ms = 500, backoff_max_ms = 60'000;
  double backoff_multiplier = 1.5, backoff_jitter = 0.5;
  Millis retry_after_max_ms = Millis{5} * 60'000;
  Millis give_up_after_ms = Millis{24} * 3600'000;  // a pending entry older than this fails
  Millis slack_min_interval_ms = 1000;      // Slack's ~1 message/s per webhook
  Millis min_interval_ms = 0;               // other integrations
  // After this many consecutive failed attempts an integration raises ReceiverFailing through
  // fallback_receiver (when set and different from the failing receiver).
  uint32_t failing_threshold = 5;
  std::string fallback_receiver;
  bool start_threads = true;  // false: call tick() yourself; deliveries still use workers
};

// Where the notifier's log lines go (the process's logger, so they follow --log-format); by
// default stderr. `error` is always true today: the notifier logs problems only.
void set_notifier_log(std::function<void(std::string_view message, bool error)> fn);

// One entry of the notification log: the last notification of an alert group through one
// integration ("<receiver>/<kind>/<index>"), for the status page.
struct NotificationLogEntry {
  std::string group_key, integration;
  Millis at = 0;
  size_t firing = 0, resolved = 0;
  // The last notification's outcome: "queued", "sent", "retrying" (error: the last attempt's),
  // "failed" (given up: a permanent error, too old, or it could not be rendered; it is kept in
  // outbox/failed). `fallback`: the fallback receiver paged about the failure, if any.
  std::string outcome = "sent";
  std::string error, fallback;
};

class Notifier : public rules::AlertSink {
 public:
  static Result<std::unique_ptr<Notifier>> create(NotifyConfig config, NotifierOptions opts);
  ~Notifier() override;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void send(std::span<const rules::Alert> alerts, Millis now) override;
  // Flushes the groups that are due at `now` (the background thread calls this).
  void tick(Millis now);
  // Blocks until no delivery is queued or in flight, or the timeout passes. True when idle.
  bool wait_idle(Millis timeout_ms);
  void stop();  // stops the threads; pending entries stay in the outbox

  Silences& silences() { return *silences_; }
  std::vector<IntegrationMetrics> metrics() const;
  // Prometheus text exposition of metrics().
  std::string metrics_text() const;
  size_t group_count() const { return dispatcher_->group_count(); }
  // Read-only copy of the notification log (status page).
  std::vector<NotificationLogEntry> notification_log();

 private:
  Notifier() = default;
  struct Worker;
  struct LogEntry {
    std::vector<uint64_t> firing, resolved;  // sorted fingerprints
    Millis at = 0;
  };
  void run_loop();
  void enqueue(OutboxEntry e, bool persist);
  Worker& worker_for(const OutboxEntry& e);
  void worker_loop(Worker& w);
  void on_failure_threshold(Worker& w, bool failing);
  // A notification through `w` failed for good: pages the fallback receiver (ReceiverFailing,
  // once until the integration recovers). Returns the fallback's name, "" when there is none.
  std::string fail_to_fallback(Worker& w);
  void set_outcome(const std::string& group_key, const std::string& integration,
                   std::string outcome, std::string error, std::string fallback, Millis at);
  void notify_group(const GroupFlush& g, Millis now, const Inhibitor& inh,
                    std::vector<OutboxEntry>& batch);
  Result<void> load_nflog();  // from state_dir at create()
  void save_nflog_locked();
  bool sleep_unless_stopping(Worker& w, Millis ms);
  Result<std::string> render(const ReceiverConfig& rc, IntegrationKind kind, size_t index,
                             const NotificationData& d, const std::vector<rules::Alert>& raw,
                             Millis now) const;

  NotifyConfig config_;
  // Renders config fields with Alertmanager's default templates plus config_.template_defs.
  std::function<Result<std::string>(std::string_view, const NotificationData&)> expander_;
  // The same with html/template's escaping (pushover html, telegram parse_mode HTML).
  std::function<Result<std::string>(std::string_view, const NotificationData&)> html_expander_;
  // email html: html/template's contextual escaping over the whole document.
  std::function<Result<std::string>(std::string_view, const NotificationData&)> html_doc_expander_;
  NotifierOptions opts_;
  std::shared_ptr<const RouteTree> tree_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Silences> silences_;
  std::unique_ptr<Outbox> outbox_;

  std::mutex tick_mu_;  // one flush at a time
  std::mutex nflog_mu_;
  std::map<std::string, LogEntry> nflog_;  // "<group key>\x1f<integration>"
  struct Outcome {
    std::string outcome, error, fallback;
    Millis at = 0;
    size_t firing = 0, resolved = 0;
  };
  std::map<std::string, Outcome> outcomes_;  // same keys; under nflog_mu_
  bool nflog_dirty_ = false;
  Millis nflog_saved_at_ = 0;  // clock time of the last save (tick's `now`)

  mutable std::mutex workers_mu_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;
  std::condition_variable idle_cv_;
  std::atomic<bool> stopping_{false};
  std::thread loop_;
  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
};

}  // namespace ruleeval::notifiers
