#include "ruleeval/engine/manager.hpp"
#include "ruleeval/engine/status_page.hpp"

#include "manager_group.hpp"
#include "rule_files.hpp"
#include "series_file.hpp"

#include <fmt/format.h>

#include <malloc.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/engine/querier_rule.hpp"
#include "ruleeval/engine/remote_write.hpp"
#include "ruleeval/engine/state_journal.hpp"
#include "ruleeval/engine/state_store.hpp"
#include "ruleeval/engine/storage.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/rules/loader.hpp"

namespace ruleeval::engine {

// ---- Datasources ----------------------------------------------------------------------------

RuleManager::RuleManager(ManagerOptions opts, std::shared_ptr<rules::AlertSink> sink)
    : opts_(std::move(opts)), sink_(std::move(sink)) {
  if (opts_.env == nullptr) opts_.env = Env::Default();
  if (opts_.workers == 0) opts_.workers = 1;
  if (!opts_.state_dir.empty()) store_ = std::make_unique<StateStore>(opts_.state_dir, opts_.env);
}

RuleManager::~RuleManager() { stop(); }

Millis RuleManager::now() const { return opts_.env->now_ms(); }

size_t RuleManager::group_count() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

std::expected<void, std::vector<Error>> RuleManager::apply(const rules::RunConfig& cfg) {
  std::vector<Error> errs;
  EngineOptions eopts;
  eopts.default_subquery_step = cfg.evaluation_interval_ms;
  // As Prometheus 3: __name__ is dropped at each function unless promql-delayed-name-removal.
  eopts.delayed_name_removal =
      ((opts_.experimental_promql | cfg.experimental_promql) & promql::kFeatureDelayedNameRemoval) != 0;

  // Datasources: an embedded store with the same files is kept, so its data survives reloads.
  std::vector<std::shared_ptr<Datasource>> datasources;
  {
    std::lock_guard lock(mu_);
    for (const auto& dc : cfg.datasources) {
      std::shared_ptr<Datasource> ds;
      bool kept = false;
      if (dc.type == rules::DatasourceConfig::Type::kEmbedded) {
        for (const auto& old : datasources_) {
          const auto* files = old->series_files();
          if (files && old->name == dc.name && *files == dc.series_files) ds = old;
        }
        kept = ds != nullptr;
        if (!ds) {
          auto e = std::make_shared<EmbeddedDatasource>(eopts);
          e->files = dc.series_files;
          Millis t0 = now();
          for (const auto& f : dc.series_files) {
            auto r = load_series_file(e->store(), f, t0, *opts_.env);
            if (!r) errs.push_back(r.error());
          }
          ds = e;
        }
      } else {
        ds = std::make_shared<HttpDatasource>(http_client_config(dc.http));
      }
      // A kept datasource already has this name and Env, and worker threads may be reading
      // them in a running evaluation: only a new one is written to.
      if (!kept) {
        ds->name = dc.name;
        ds->env = opts_.env;
      }
      datasources.push_back(std::move(ds));
    }
  }
  auto find_ds = [&](const std::string& n) -> std::shared_ptr<Datasource> {
    for (const auto& d : datasources) {
      if (d->name == n) return d;
    }
    return nullptr;
  };

  // Rule files.
  std::vector<std::string> files = expand_rule_files(cfg.rule_files, cfg.path, errs, *opts_.env);
  std::vector<std::shared_ptr<Group>> groups;
  for (const auto& f : files) {
    rules::LoadOptions lo;
    lo.experimental_promql = opts_.experimental_promql | cfg.experimental_promql;
    auto lr = std::make_shared<rules::LoadResult>(rules::load_rules_file(f, lo));
    for (const auto& d : lr->diagnostics) {
      if (d.severity == rules::Severity::Error) errs.emplace_back(d.message, d.where);
    }
    // The file's text, its line index and the diagnostics only serve the reports above (carets
    // under lint findings); the runtime keeps the rule model alone (6 MB for 10,000 rules).
    std::string().swap(lr->file.text);
    std::vector<uint32_t>().swap(lr->file.line_starts);
    std::vector<rules::Diagnostic>().swap(lr->diagnostics);
    // The model was built between the YAML tree's and the parsers' temporaries: a copy made now
    // that they are freed packs it densely (exact capacities, no interleaved holes) and lets
    // malloc_trim return the pages the original spread over.
    lr->file.groups = std::vector<rules::RuleGroup>(lr->file.groups);
    for (const auto& rg : lr->file.groups) {
      if (!shard_owns(opts_.shard, f, rg.name)) continue;
      auto g = std::make_shared<Group>();
      g->source = lr;
      g->file = f;
      g->name = rg.name;
      g->interval = rg.interval.ms > 0 ? rg.interval.ms : cfg.evaluation_interval_ms;
      g->offset = group_offset(group_hash(f, rg.name), ms_to_ns(g->interval));
      g->resend_delay = cfg.resend_delay_ms;
      g->ds = find_ds(cfg.default_datasource);
      GroupEnv env;
      env.external_labels = cfg.external_labels;
      env.external_url = cfg.external_url;
      env.engine = eopts;
      env.interval = g->interval;
      env.clock = opts_.env;
      env.query_offset = rg.query_offset.ms > 0 ? rg.query_offset.ms : cfg.query_offset_ms;
      // ALERTS/ALERTS_FOR_STATE go to the embedded store or remote write; an HTTP backend
      // without remote write has nowhere to keep them, so they are not built at all.
      Storage* local = g->ds ? g->ds->local_store() : nullptr;
      env.write_alert_series = cfg.remote_write.enabled || local != nullptr;
      // Recording rules with native-histogram results keep them in the embedded store (called
      // inside with_querier, under the datasource's lock) and send them by remote write.
      if (local || cfg.remote_write.enabled) {
        env.append_histogram = [this, ds = local ? g->ds : nullptr](const Labels& l, Millis t,
                                                                     const HistogramPtr& h) {
          if (ds) ds->local_store()->append_histogram(l, t, h);
          if (auto rw = remote_write()) rw->push(WriteSample{l, t, 0, h});
        };
      }
      g->rt = std::make_unique<GroupRuntime>(rg, f, env);
      groups.push_back(std::move(g));
    }
  }
  if (!errs.empty()) return std::unexpected(std::move(errs));

  // Swap in, carrying the state of unchanged rules over.
  std::lock_guard lock(mu_);
  for (auto& g : groups) {
    for (const auto& old : groups_) {
      if (old->file != g->file || old->name != g->name) continue;
      std::lock_guard ol(old->mu);
      auto& new_rules = g->rt->rules();
      auto& old_rules = old->rt->rules();
      for (auto& nrr : new_rules) {
        const rules::Rule& nr = *nrr.rule;
        for (auto& orr : old_rules) {
          const rules::Rule& o = *orr.rule;
          if (o.name == nr.name && o.kind == nr.kind && o.expr.value == nr.expr.value) {
            nrr.alerts = orr.alerts;
            nrr.instances = orr.instances;
            nrr.health = orr.health;
            nrr.last_error = orr.last_error;
            nrr.last_eval = orr.last_eval;
            break;
          }
        }
      }
      g->next_slot = old->next_slot;
      g->iterations = old->iterations;
      g->missed = old->missed;
      g->failures = old->failures;
    }
  }
  // First configuration: bring back the alert state saved by the previous run; groups it has
  // nothing for restore their `for` progress from ALERTS_FOR_STATE after their first evaluation.
  if (!config_) {
    for (auto& g : groups) g->restore_for_state = opts_.restore_for_state;
    if (store_) restore_state(groups, cfg);
  }
  outage_tolerance_ = cfg.outage_tolerance_ms;
  groups_ = std::move(groups);
  state_complete_save_ = true;  // the next save writes every group and drops removed ones
  datasources_ = std::move(datasources);
  config_ = std::make_shared<const rules::RunConfig>(cfg);
  // Workers copy remote_write_ under remote_write_mu_ (run_eval holds a group lock, so it cannot
  // take mu_). The replaced queue is stopped (one last flush) outside that lock; an evaluation
  // still holding it keeps it alive until it finishes.
  std::shared_ptr<RemoteWriteQueue> old_rw;
  {
    std::lock_guard rl(remote_write_mu_);
    if (cfg.remote_write.enabled) {
      auto rwc = remote_write_config(cfg.remote_write);
      if (!remote_write_ || remote_write_url_ != rwc.http.url) {
        old_rw = std::exchange(remote_write_, std::make_shared<RemoteWriteQueue>(rwc));
        remote_write_url_ = rwc.http.url;
        remote_write_->start();
      }
    } else {
      old_rw = std::exchange(remote_write_, nullptr);
      remote_write_url_.clear();
    }
  }
  if (old_rw) old_rw->stop();
  return {};
}

size_t RuleManager::replay(Millis from, Millis to,
                           const std::function<void(const GroupRuntime&, Millis)>& after) {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  std::vector<std::pair<Millis, size_t>> events;
  for (size_t i = 0; i < groups.size(); ++i) {
    const Nanos iv = ms_to_ns(groups[i]->interval);
    Nanos t = eval_timestamp(ms_to_ns(from), iv, groups[i]->offset);
    if (t < ms_to_ns(from)) t += iv;
    for (; t <= ms_to_ns(to); t += iv) events.emplace_back(ns_to_ms(t), i);
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [ts, i] : events) {
    Group& g = *groups[i];
    std::lock_guard lock(g.mu);
    run_eval(g, ts, nullptr);
    ++g.iterations;
    g.last_eval = ts;
    if (after) after(*g.rt, ts);
  }
  if (auto rw = remote_write()) (void)rw->flush();
  return events.size();
}

std::shared_ptr<RemoteWriteQueue> RuleManager::remote_write() const {
  std::lock_guard lock(remote_write_mu_);
  return remote_write_;
}

std::vector<RuleManager::ReplaySource> RuleManager::replay_sources() const {
  std::lock_guard lock(mu_);
  std::vector<ReplaySource> out;
  for (const auto& g : groups_) {
    if (!g->ds) continue;
    ReplaySource s;
    s.keep_alive = g->source;
    s.group = &g->rt->group();
    s.file = g->file;
    s.env = g->rt->env();
    s.interval = g->interval;
    s.offset = g->offset;
    s.local = g->ds->local_store() != nullptr;
    // A replay writes far faster than the remote-write queue drains: it waits for room (half
    // the queue) instead of letting the queue drop the oldest samples.
    const size_t high_water =
        config_ ? std::max<size_t>(1, config_->remote_write.queue_capacity / 2) : 50'000;
    s.with_querier = [ds = g->ds, rw = remote_write(), high_water](
                         const std::function<void(RuleQuerier&, const AppendFn&)>& fn) {
      ds->with_querier([&](RuleQuerier& q, const AppendFn& append) {
        if (!rw) return fn(q, append);
        AppendFn both = [&](const Labels& l, Millis t, double v) {
          append(l, t, v);
          while (rw->queued() >= high_water) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          rw->push(WriteSample{l, t, v});
        };
        fn(q, both);
      });
    };
    out.push_back(std::move(s));
  }
  return out;
}

void RuleManager::flush_remote_write() {
  if (auto rw = remote_write()) (void)rw->flush();
}

void RuleManager::start() {
  stopping_ = false;
  // Restored alerts are handed to the notifier before the first evaluation: a firing alert
  // whose notification a crash cut off reaches the receiver even if that evaluation resolves it
  // (a resolve is only sent for alerts whose firing was). The notification log drops what was
  // delivered before the crash.
  if (sink_ && store_) {
    std::vector<std::shared_ptr<Group>> groups;
    {
      std::lock_guard lock(mu_);
      groups = groups_;
    }
    const Millis t = now();
    for (auto& g : groups) {
      std::vector<rules::Alert> to_send;
      {
        std::lock_guard lock(g->mu);
        to_send = g->rt->alerts_to_send(t, g->resend_delay);
      }
      if (!to_send.empty()) sink_->send(to_send, t);
    }
  }
  threads_.emplace_back([this] { scheduler_loop(); });
}

void RuleManager::stop() {
  stopping_ = true;
  bool was_running = !threads_.empty();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  if (was_running) (void)save_state();
  if (auto rw = remote_write()) rw->stop();  // one last flush
}

void RuleManager::scheduler_loop() {
  // The evaluation jobs: a group and the slot it is due for. Workers take them in order; the
  // queue's mutex also guards each group's next_slot, busy and missed.
  struct Job {
    std::shared_ptr<Group> group;
    Millis slot = 0;
  };
  struct WorkQueue {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Job> jobs;
  } q;
  Millis last_save = 0;
  Millis last_trim = now();
  std::vector<std::thread> workers;
  for (size_t i = 0; i < opts_.workers; ++i) {
    workers.emplace_back([&] {
      for (;;) {
        Job job;
        {
          std::unique_lock lock(q.mu);
          q.cv.wait(lock, [&] { return !q.jobs.empty() || stopping_.load(); });
          if (q.jobs.empty()) return;
          job = std::move(q.jobs.front());
          q.jobs.pop_front();
        }
        Group* g = job.group.get();
        eval_group(*g, job.slot);
        Millis done = now();
        std::lock_guard lock(q.mu);
        NextSlot ns = next_slot(ms_to_ns(job.slot), ms_to_ns(done), ms_to_ns(g->interval));
        g->missed += static_cast<uint64_t>(ns.missed);
        g->next_slot = ns_to_ms(ns.next);
        g->busy = false;
        q.cv.notify_all();  // the scheduler saves the state right after
      }
    });
  }
  while (!stopping_) {
    std::vector<std::shared_ptr<Group>> groups;
    {
      std::lock_guard lock(mu_);
      groups = groups_;
    }
    Millis t = now();
    Millis wake = t + 1000;
    {
      std::lock_guard lock(q.mu);
      for (auto& g : groups) {
        if (g->next_slot == 0) {
          g->next_slot =
              ns_to_ms(first_eval_timestamp(ms_to_ns(t), ms_to_ns(g->interval), g->offset));
        }
        if (!g->busy && g->next_slot <= t) {
          g->busy = true;
          q.jobs.push_back(Job{g, g->next_slot});
          q.cv.notify_one();
        } else if (!g->busy) {
          wake = std::min(wake, g->next_slot);
        }
      }
    }
    ready_ = true;
    // Transitions are journaled (durable) inside each evaluation; the snapshots that compact
    // the journal, and carry values and send times, are written at most every kStateSaveGap.
    // A failed journal write is retried here too, without waiting for the next transition.
    if (store_ && store_->journal().has_queued()) {
      note_state_write(store_->journal().retry(t), "journal retry");
    }
    if (state_dirty_.load() && t - last_save >= kStateSaveGap) {
      state_dirty_ = false;
      last_save = t;
      (void)save_state();
    }
    // Evaluations free their response buffers, label sets and JSON documents; glibc keeps the
    // freed pages of every arena resident until it is asked to give them back. Once per
    // kTrimGap (a few milliseconds of CPU) keeps RSS at what the rules and alerts hold.
    if (t - last_trim >= kTrimGap) {
      last_trim = t;
      ::malloc_trim(0);
    }
    std::unique_lock lock(q.mu);
    q.cv.wait_for(lock, std::chrono::milliseconds(std::clamp<Millis>(wake - t, 1, 1000)),
                  [&] { return stopping_.load(); });
  }
  q.cv.notify_all();
  for (auto& w : workers) w.join();
}

void RuleManager::note_reload(bool ok, Millis at) {
  reload_ok_ = ok;
  ++reloads_total_;
  if (ok) {
    reload_at_ = at;
  } else {
    ++reload_failures_total_;
  }
}

}  // namespace ruleeval::engine
