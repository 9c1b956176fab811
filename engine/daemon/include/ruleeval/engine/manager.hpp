// The rule manager behind `ruleeval run`: owns the datasources and one GroupRuntime per rule group,
// schedules each group on its interval at Prometheus's hash-based offset (slot times, missed
// iterations counted), evaluates groups concurrently on a bounded worker pool (rules inside a
// group in order), hands alerts to an AlertSink, and renders the Prometheus-shaped API views.
//
// Thread-safety: every public method may be called from any thread (the HTTP API, signal
// handling and the scheduler run concurrently).
//
// Lock order (a thread holding one of these may take only those below it, never one above):
//   1. save_run_mu_        one save_state() at a time
//   2. mu_                 groups_, datasources_, config_ (apply() holds it while it swaps
//                          and takes the old groups' locks)
//   3. save_mu_            state_log_ and the state store (save_state() re-marks groups stale
//                          under it)
//   4. Group::mu           one group's runtime: evaluation, views, state pieces; several
//                          are held at once only in groups_ order (with_views(), which
//                          copies groups_ under mu_ first and releases it)
//   5. leaves              remote_write_mu_ (run_eval() copies the queue pointer with a group
//                          lock held), the datasources' mutexes, the scheduler's work queue
//                          (never held while another lock is taken)
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/http_api.hpp"
#include "ruleeval/engine/scheduler.hpp"
#include "ruleeval/engine/status_page.hpp"
#include "ruleeval/rules/alert.hpp"
#include "ruleeval/rules/run_config.hpp"

namespace ruleeval::engine {

struct ManagerOptions {
  Shard shard;
  size_t workers = 2;
  std::string state_dir;  // alert state persisted here; empty = none
  // The clocks (evaluation times, durations) and the state directory's files
  // (ruleeval/common/env.hpp); tests pass a FakeEnv. Must outlive the manager.
  Env* env = Env::Default();
  // Called (from worker threads) whenever an alert changes state, e.g. for logging. `from` is
  // kInactive for a new alert; a deleted pending alert is reported as going to kInactive.
  std::function<void(const ActiveAlert& alert, AlertState from, AlertState to)> on_transition;
  // Start-up messages that come after apply(): e.g. the outcome of restoring `for` progress
  // from the backend's ALERTS_FOR_STATE. `error` is set for failures.
  std::function<void(std::string_view message, bool error)> log;
  // Without a state file, restore the `for` progress of pending alerts from ALERTS_FOR_STATE on
  // the group's backend after its first evaluation (Prometheus's RestoreForState).
  bool restore_for_state = true;
  // --enable-feature=promql-experimental-functions (or enable_features: in ruleeval.yaml).
  unsigned experimental_promql = 0;  // promql::PromqlFeature bits
};

class Datasource;
class RemoteWriteQueue;
struct WriteSample;
class StateStore;

class RuleManager {
 public:
  RuleManager(ManagerOptions opts, std::shared_ptr<rules::AlertSink> sink);
  ~RuleManager();
  RuleManager(const RuleManager&) = delete;
  RuleManager& operator=(const RuleManager&) = delete;

  // Loads the config's rule files and datasources and swaps them in atomically; alert state of
  // rules that still exist (same group, file, name and labels) is kept. On error nothing changes
  // and every problem is returned.
  std::expected<void, std::vector<Error>> apply(const rules::RunConfig& cfg);

  // Starts the scheduler; groups get their first evaluation at their next slot.
  void start();
  // Lets running evaluations finish, persists state and stops the threads.
  void stop();

  // Evaluates every group once at `ts` (synchronously, in this thread).
  void eval_all(Millis ts);

  // Backtesting: evaluates every group at each of its own slot times in [from, to] (the slots
  // Prometheus would use: interval-aligned at the group's hash offset), in time order across
  // groups, without sending notifications. `after` sees each group right after each evaluation.
  // Returns the number of evaluations.
  size_t replay(Millis from, Millis to,
                const std::function<void(const GroupRuntime& group, Millis ts)>& after);

  // For replay drivers that evaluate groups on their own (replay_report.hpp): every group with
  // its environment, slot offset and a way to borrow its datasource's querier. Appends go to the
  // embedded store and, when configured, to remote write (call flush_remote_write() at the end).
  struct ReplaySource {
    std::shared_ptr<const void> keep_alive;  // owns *group
    const rules::RuleGroup* group = nullptr;
    std::string file;
    GroupEnv env;
    Millis interval = 60'000;
    Nanos offset = 0;
    bool local = false;  // embedded datasource: evaluated in-process
    std::function<void(const std::function<void(RuleQuerier&, const AppendFn&)>&)> with_querier;
  };
  std::vector<ReplaySource> replay_sources() const;
  void flush_remote_write();

  bool ready() const { return ready_.load(); }
  size_t group_count() const;

  // Prometheus-shaped JSON for /api/v1/rules and /api/v1/alerts.
  std::string rules_json(const RulesFilter& f) const;
  std::string alerts_json() const;
  // Self-metrics in Prometheus text exposition format.
  std::string metrics_text() const;
  // The status page's view of the rules and alerts (status_page.hpp); the notifier's part
  // (silences, delivery) is added by the caller that owns the notifier.
  status::PageData status_data() const;
  // The HTML status page without notifier data or filters.
  std::string status_html() const;

  // Reload bookkeeping, set by the caller that reloads.
  void note_reload(bool ok, Millis at);

  // Writes the alert state of the groups evaluated since the last save, one file per group under
  // <state_dir> (write, fsync, rename; see state_store.hpp): the compaction of the state journal,
  // whose segments it drops once they are covered. Transitions themselves are journaled (and
  // durable) inside each evaluation, before anything shows them. Called periodically and at
  // stop(); public for tests.
  Result<void> save_state();
  // What happened to the saved state at start-up (restored, or why not); empty if nothing.
  std::string state_log() const {
    std::lock_guard lock(save_mu_);
    return state_log_;
  }

 private:
  struct Group;
  void scheduler_loop();
  // Builds API views of every group, holding all group locks while `fn` renders them.
  std::string with_views(const std::function<std::string(std::span<const GroupView>)>& fn) const;
  void restore_state(std::vector<std::shared_ptr<Group>>& groups, const rules::RunConfig& cfg);
  void eval_group(Group& g, Millis ts);
  void restore_group_for_state(Group& g, Millis ts);  // g.mu held
  // g.mu held: evaluate, write results (store, remote write; remote write samples go to `held`
  // instead when given).
  void run_eval(Group& g, Millis ts, std::vector<WriteSample>* held);
  Millis now() const;

  ManagerOptions opts_;
  std::shared_ptr<rules::AlertSink> sink_;
  mutable std::mutex mu_;  // guards groups_, datasources_, config_
  std::vector<std::shared_ptr<Group>> groups_;
  std::vector<std::shared_ptr<Datasource>> datasources_;
  std::shared_ptr<const rules::RunConfig> config_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::atomic<bool> reload_ok_{true};
  std::atomic<Millis> reload_at_{0};
  std::atomic<uint64_t> reloads_total_{0}, reload_failures_total_{0};
  std::unique_ptr<StateStore> store_;
  mutable std::mutex save_mu_;
  std::atomic<bool> state_complete_save_{true};
  std::mutex save_run_mu_;  // one save_state() at a time (it owns the groups' state pieces)
  std::string state_log_;
  std::atomic<bool> state_dirty_{false};
  // The queue the groups' results go to; copied (remote_write()) rather than read in place.
  std::shared_ptr<RemoteWriteQueue> remote_write() const;
  mutable std::mutex remote_write_mu_;  // guards remote_write_ and remote_write_url_
  // State writes (journal commits, snapshot saves) that failed; the last error (under save_mu_)
  // for the status page, and when it was last logged (rate limit).
  std::atomic<uint64_t> state_write_failures_{0};
  std::string state_write_error_;
  Millis state_error_logged_at_ = 0;
  void note_state_write(const Result<void>& r, std::string_view what);
  std::shared_ptr<RemoteWriteQueue> remote_write_;
  std::string remote_write_url_;
  std::atomic<Millis> outage_tolerance_{Millis{60} * 60 * 1000};
};

}  // namespace ruleeval::engine
