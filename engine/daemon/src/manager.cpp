#include "ruleeval/engine/manager.hpp"
#include "ruleeval/engine/status_page.hpp"

#include <fmt/format.h>
#include <glob.h>

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
#include "ruleeval/engine/state_store.hpp"
#include "ruleeval/engine/storage.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/rules/loader.hpp"

namespace ruleeval::engine {

// ---- Datasources ----------------------------------------------------------------------------

class Datasource {
 public:
  virtual ~Datasource() = default;
  // Runs `fn` with a querier and an appender for rule results. Implementations serialise access
  // as they need to.
  virtual void with_querier(const std::function<void(RuleQuerier&, const AppendFn&)>& fn) = 0;
  virtual std::string describe() const = 0;
  std::string name;
  // Backend latency (seconds), for /metrics.
  std::mutex stats_mu;
  uint64_t requests = 0;
  double request_seconds = 0;
  uint64_t response_bytes = 0;  // HTTP backends: bodies received and the time to decode them
  double decode_seconds = 0;
};

namespace {

constexpr double kDurationBuckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                       0.25,  0.5,   1,    2.5,   5,    10};

// Loads a series file: `load <interval> [from -<duration>]` lines followed by series in the
// expanding notation (the PromQL test format). Timestamps start at `t0`, the moment ruleeval
// started, or the given duration before it.
Result<void> load_series_file(Storage& store, const std::string& path, Millis t0) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read series file", SourceLocation{path, 0, 0});
  std::string line;
  uint32_t lineno = 0;
  Millis interval = 0;
  Millis start = t0;
  while (std::getline(in, line)) {
    ++lineno;
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::string_view body(line);
    body.remove_prefix(first);
    if (body.substr(0, 5) == "load ") {
      // load <interval> [from -<duration>]: samples start <duration> before start-up.
      std::string rest(body.substr(5));
      start = t0;
      if (auto from = rest.find(" from "); from != std::string::npos) {
        std::string when = rest.substr(from + 6);
        rest.resize(from);
        bool neg = !when.empty() && when[0] == '-';
        auto off = parse_duration(neg ? when.substr(1) : when);
        if (!off) {
          return make_error("invalid `from` offset: " + off.error(),
                            SourceLocation{path, lineno, static_cast<uint32_t>(first + 12 + from)});
        }
        start = t0 + (neg ? -*off : *off);
      }
      auto d = parse_duration(rest);
      if (!d || *d <= 0) {
        return make_error("invalid load interval", SourceLocation{path, lineno, 6});
      }
      interval = *d;
      continue;
    }
    if (interval == 0) {
      return make_error("series before the first `load <interval>` line",
                        SourceLocation{path, lineno, static_cast<uint32_t>(first + 1)});
    }
    auto spec = parse_series_line(body);
    if (!spec) {
      return make_error(spec.error().message,
                        SourceLocation{path, lineno, static_cast<uint32_t>(first + 1)});
    }
    load_series(store, *spec, start, interval);
  }
  return {};
}

// Times every query and counts it, for the datasource metrics.
class TimedQuerier final : public RuleQuerier {
 public:
  TimedQuerier(RuleQuerier& inner, Datasource& ds) : inner_(inner), ds_(ds) {}
  Result<QueryResult> instant(const promql::Expr& e, std::string_view text, Millis t) override {
    auto start = std::chrono::steady_clock::now();
    auto r = inner_.instant(e, text, t);
    note(start);
    return r;
  }
  Result<QueryResult> range(const promql::Expr& e, std::string_view text, Millis a, Millis b,
                            Millis step) override {
    auto start = std::chrono::steady_clock::now();
    auto r = inner_.range(e, text, a, b, step);
    note(start);
    return r;
  }

 private:
  void note(std::chrono::steady_clock::time_point start) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::lock_guard lock(ds_.stats_mu);
    ++ds_.requests;
    ds_.request_seconds += secs;
  }
  RuleQuerier& inner_;
  Datasource& ds_;
};

class EmbeddedDatasource final : public Datasource {
 public:
  explicit EmbeddedDatasource(EngineOptions opts) : opts_(opts) {}
  void with_querier(const std::function<void(RuleQuerier&, const AppendFn&)>& fn) override {
    std::lock_guard lock(mu_);
    LocalRuleQuerier local(store_, opts_);
    TimedQuerier q(local, *this);
    AppendFn append = [this](const Labels& l, Millis t, double v) { store_.append(l, t, v); };
    fn(q, append);
  }
  std::string describe() const override { return "embedded"; }
  Storage& store() { return store_; }
  std::vector<std::string> files;

 private:
  std::mutex mu_;
  Storage store_;
  EngineOptions opts_;
};

// A Prometheus-compatible backend. Each evaluation borrows one HttpRuleQuerier (one curl handle,
// reused connection) from a small pool, so concurrent groups never share a handle. Rule results
// cannot be written back to the backend here; they go to remote_write when configured.
class HttpDatasource final : public Datasource {
 public:
  explicit HttpDatasource(HttpClientConfig cfg) : cfg_(std::move(cfg)) {}
  void with_querier(const std::function<void(RuleQuerier&, const AppendFn&)>& fn) override {
    std::unique_ptr<HttpRuleQuerier> q;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        q = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!q) q = std::make_unique<HttpRuleQuerier>(cfg_);
    TimedQuerier timed(*q, *this);
    static const AppendFn kDiscard = [](const Labels&, Millis, double) {};
    const HttpQuerier::Traffic before = q->querier().traffic();
    fn(timed, kDiscard);
    const HttpQuerier::Traffic& after = q->querier().traffic();
    {
      std::lock_guard lock(stats_mu);
      response_bytes += after.response_bytes - before.response_bytes;
      decode_seconds += after.decode_seconds - before.decode_seconds;
    }
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(q));
  }
  std::string describe() const override { return cfg_.url; }
  const HttpClientConfig& config() const { return cfg_; }

 private:
  HttpClientConfig cfg_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpRuleQuerier>> idle_;
};


std::string metric_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '\\' || c == '"') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}

}  // namespace

// ---- Groups ---------------------------------------------------------------------------------

struct RuleManager::Group {
  std::shared_ptr<const rules::LoadResult> source;  // owns the RuleGroup the runtime points into
  std::unique_ptr<GroupRuntime> rt;
  std::shared_ptr<Datasource> ds;
  std::string file, name;
  Millis interval = 60'000;
  Nanos offset = 0;
  Millis resend_delay = 60'000;
  std::mutex mu;         // guards rt and the stats below
  Millis next_slot = 0;  // next evaluation (ms)
  bool busy = false;     // queued or running (guarded by the manager's queue mutex)
  uint64_t iterations = 0, missed = 0, failures = 0;
  double last_duration = 0;
  Millis last_eval = kNoTime;
  bool restore_for_state = false;  // after the first evaluation (no saved state for the group)
  uint64_t state_signature = 0;    // of the alert states after the last evaluation
  // Evaluated (or restored) since its state file was last written.
  bool state_stale = true;
  uint64_t buckets[std::size(kDurationBuckets)] = {};
  double duration_sum = 0;
};

namespace {
struct WorkQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<std::shared_ptr<void>, Millis>> jobs;
};
}  // namespace

RuleManager::RuleManager(ManagerOptions opts, std::shared_ptr<rules::AlertSink> sink)
    : opts_(std::move(opts)), sink_(std::move(sink)) {
  if (!opts_.now) {
    opts_.now = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  if (opts_.workers == 0) opts_.workers = 1;
  if (!opts_.state_dir.empty()) store_ = std::make_unique<StateStore>(opts_.state_dir);
}

RuleManager::~RuleManager() { stop(); }

Millis RuleManager::now() const { return opts_.now(); }

size_t RuleManager::group_count() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

std::expected<void, std::vector<Error>> RuleManager::apply(const rules::RunConfig& cfg) {
  std::vector<Error> errs;
  EngineOptions eopts;
  eopts.default_subquery_step = cfg.evaluation_interval_ms;

  // Datasources: an embedded store with the same files is kept, so its data survives reloads.
  std::vector<std::shared_ptr<Datasource>> datasources;
  {
    std::lock_guard lock(mu_);
    for (const auto& dc : cfg.datasources) {
      std::shared_ptr<Datasource> ds;
      if (dc.type == rules::DatasourceConfig::Type::kEmbedded) {
        for (const auto& old : datasources_) {
          auto* e = dynamic_cast<EmbeddedDatasource*>(old.get());
          if (e && old->name == dc.name && e->files == dc.series_files) ds = old;
        }
        if (!ds) {
          auto e = std::make_shared<EmbeddedDatasource>(eopts);
          e->files = dc.series_files;
          Millis t0 = now();
          for (const auto& f : dc.series_files) {
            auto r = load_series_file(e->store(), f, t0);
            if (!r) errs.push_back(r.error());
          }
          ds = e;
        }
      } else {
        ds = std::make_shared<HttpDatasource>(http_client_config(dc.http));
      }
      ds->name = dc.name;
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
  std::vector<std::string> files;
  for (const auto& pattern : cfg.rule_files) {
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    } else {
      errs.emplace_back("rule_files: no file matches " + pattern, SourceLocation{cfg.path, 0, 0});
    }
    globfree(&g);
  }
  std::vector<std::shared_ptr<Group>> groups;
  for (const auto& f : files) {
    auto lr = std::make_shared<rules::LoadResult>(rules::load_rules_file(f));
    for (const auto& d : lr->diagnostics) {
      if (d.severity == rules::Severity::Error) errs.emplace_back(d.message, d.where);
    }
    for (const auto& rg : lr->file.groups) {
      if (!shard_owns(opts_.shard, f, rg.name)) continue;
      auto g = std::make_shared<Group>();
      g->source = lr;
      g->file = f;
      g->name = rg.name;
      g->interval = rg.interval.ms > 0 ? rg.interval.ms : cfg.evaluation_interval_ms;
      g->offset = group_offset(group_hash(f, rg.name), g->interval * 1'000'000);
      g->resend_delay = cfg.resend_delay_ms;
      g->ds = find_ds(cfg.default_datasource);
      GroupEnv env;
      env.external_labels = cfg.external_labels;
      env.external_url = cfg.external_url;
      env.engine = eopts;
      env.interval = g->interval;
      env.query_offset = rg.query_offset.ms > 0 ? rg.query_offset.ms : cfg.query_offset_ms;
      // ALERTS/ALERTS_FOR_STATE go to the embedded store or remote write; an HTTP backend
      // without remote write has nowhere to keep them, so they are not built at all.
      env.write_alert_series = cfg.remote_write.enabled ||
                               std::dynamic_pointer_cast<EmbeddedDatasource>(g->ds) != nullptr;
      // Recording rules with native-histogram results keep them in the embedded store (called
      // inside with_querier, under the datasource's lock); remote write carries floats only.
      if (auto emb = std::dynamic_pointer_cast<EmbeddedDatasource>(g->ds)) {
        env.append_histogram = [emb](const Labels& l, Millis t, const HistogramPtr& h) {
          emb->store().append_histogram(l, t, h);
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
      for (size_t i = 0; i < new_rules.size(); ++i) {
        const rules::Rule& nr = *new_rules[i].rule;
        for (auto& orr : old_rules) {
          const rules::Rule& o = *orr.rule;
          if (o.name == nr.name && o.kind == nr.kind && o.expr.value == nr.expr.value) {
            new_rules[i].alerts = orr.alerts;
            new_rules[i].instances = orr.instances;
            new_rules[i].health = orr.health;
            new_rules[i].last_error = orr.last_error;
            new_rules[i].last_eval = orr.last_eval;
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
  if (cfg.remote_write.enabled) {
    auto rwc = remote_write_config(cfg.remote_write);
    if (!remote_write_ || remote_write_url_ != rwc.http.url) {
      if (remote_write_) remote_write_->stop();
      remote_write_ = std::make_shared<RemoteWriteQueue>(rwc);
      remote_write_url_ = rwc.http.url;
      remote_write_->start();
    }
  } else if (remote_write_) {
    remote_write_->stop();
    remote_write_.reset();
  }
  return {};
}

namespace {
AlertingRuleParams restore_params(const rules::Rule& r) {
  AlertingRuleParams p;
  p.name = r.name;
  p.for_ms = r.for_.ms;
  p.keep_firing_for_ms = r.keep_firing_for.ms;
  return p;
}
}  // namespace

void RuleManager::restore_state(std::vector<std::shared_ptr<Group>>& groups,
                                const rules::RunConfig& cfg) {
  auto loaded = store_->load(now());
  std::string log;
  for (const auto& e : loaded.errors) {
    if (!log.empty()) log += "; ";
    log += e;
  }
  if (!log.empty()) {
    state_log_ = "alert state was unusable: " + log + "; the groups in it start with empty state";
  }
  if (!loaded.snapshot) return;
  const StateSnapshot& snap = *loaded.snapshot;
  RestoreOptions ro;
  ro.outage_tolerance = cfg.outage_tolerance_ms;
  size_t firing = 0, pending = 0;
  for (auto& g : groups) {
    for (auto& rt : g->rt->rules()) {
      const RuleStateSnapshot* saved = snap.find(g->file, g->name, rt.rule->name);
      if (!saved) continue;
      const bool in_tolerance = now() - saved->saved_at <= ro.outage_tolerance;
      if (in_tolerance) g->restore_for_state = false;  // the saved state has this group
      if (rt.rule->grafana) {
        restore_instances(rt.instances, saved->instances, saved->saved_at, now(), ro);
        if (in_tolerance) {
          for (const auto& a : saved->alerts) put_alert(rt.alerts, a);
        }
      } else if (rt.rule->is_alert()) {
        auto sum = restore_alerts(rt.alerts, saved->alerts, restore_params(*rt.rule),
                                  saved->saved_at, now(), ro);
        firing += sum.firing;
        pending += sum.pending;
      }
    }
  }
  std::string restored = fmt::format("restored alert state from {}: {} firing, {} pending",
                                     store_->dir(), firing, pending);
  state_log_ = state_log_.empty() ? restored : state_log_ + "; " + restored;
}

Result<void> RuleManager::save_state() {
  if (!store_) return {};
  std::lock_guard run(save_run_mu_);
  const Millis saved_at = now();
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  // After a (re)configuration every group is written, and files of groups that are gone are
  // removed; otherwise only the groups evaluated since the last save.
  const bool complete = state_complete_save_.exchange(false);
  std::vector<StateStore::GroupData> writes;
  std::vector<Group*> written;
  for (const auto& g : groups) {
    std::lock_guard lock(g->mu);
    if (!g->state_stale && !complete) continue;
    std::vector<std::string> pieces;
    for (const auto& rt : g->rt->rules()) {
      if (!rt.rule->is_alert() || (rt.alerts.empty() && rt.instances.empty())) continue;
      RuleStateSnapshot r;
      r.file = g->file;
      r.group = g->name;
      r.rule = rt.rule->name;
      r.alerts.reserve(rt.alerts.size());
      for (const auto& [_, a] : rt.alerts) r.alerts.push_back(a);
      for (const auto& [_, in] : rt.instances) r.instances.push_back(in);
      pieces.push_back(serialize_rule_state(r));
    }
    std::vector<const std::string*> ptrs;
    ptrs.reserve(pieces.size());
    for (const auto& p : pieces) ptrs.push_back(&p);
    writes.push_back({g->file, g->name, pieces.empty() ? "" : assemble_state(saved_at, ptrs)});
    written.push_back(g.get());
    g->state_stale = false;
  }
  std::lock_guard lock(save_mu_);
  auto r = store_->save_groups(saved_at, writes, complete);
  if (!r) {
    // Written again next time (a group evaluated meanwhile is stale anyway).
    for (Group* g : written) {
      std::lock_guard gl(g->mu);
      g->state_stale = true;
    }
    if (complete) state_complete_save_ = true;
  }
  return r;
}

namespace {
constexpr Millis kStateSaveGap = 5'000;
constexpr Millis kUrgentSaveGap = 1'000;

// Order-independent digest of which alerts exist and in what state since when: it changes with
// every transition, not with values or send times.
uint64_t state_signature(const GroupRuntime& rt) {
  auto mix = [](uint64_t x) {  // splitmix64 finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  uint64_t sig = 0;
  for (const auto& r : rt.rules()) {
    for (const auto& [h, a] : r.alerts) {
      sig ^= mix(h ^ mix(static_cast<uint64_t>(a.state) ^ mix(static_cast<uint64_t>(a.active_at)) ^
                         mix(static_cast<uint64_t>(a.fired_at) + 1) ^
                         mix(static_cast<uint64_t>(a.resolved_at) + 2)));
    }
    for (const auto& [lbs, in] : r.instances) {
      sig ^= mix(lbs.hash() ^
                 mix(static_cast<uint64_t>(in.state) ^ mix(static_cast<uint64_t>(in.starts_at))));
    }
  }
  return sig;
}
}  // namespace

void RuleManager::eval_group(Group& g, Millis ts) {
  auto start = std::chrono::steady_clock::now();
  std::vector<rules::Alert> to_send;
  {
    std::lock_guard lock(g.mu);
    // States before the evaluation, by identity hash (cheap even with a million alerts); the
    // alerts the evaluation dropped come back in RuleRuntime::removed with their labels.
    std::vector<std::unordered_map<uint64_t, AlertState>> before;
    if (opts_.on_transition) {
      for (const auto& rt : g.rt->rules()) {
        auto& m = before.emplace_back();
        m.reserve(rt.alerts.size());
        for (const auto& [h, a] : rt.alerts) m.emplace(h, a.state);
      }
    }
    if (g.restore_for_state) g.rt->hold_alert_series(true);
    run_eval(g, ts);
    if (g.restore_for_state) {
      g.restore_for_state = false;
      restore_group_for_state(g, ts);
      g.rt->hold_alert_series(false);
    }
    if (opts_.on_transition) {
      const auto& rules_rt = g.rt->rules();
      for (size_t i = 0; i < rules_rt.size() && i < before.size(); ++i) {
        const auto& prev = before[i];
        for (const auto& [h, a] : rules_rt[i].alerts) {
          auto it = prev.find(h);
          AlertState from = it == prev.end() ? AlertState::kInactive : it->second;
          if (from != a.state) opts_.on_transition(a, from, a.state);
        }
        for (const auto& gone : rules_rt[i].removed) {  // e.g. a pending alert that vanished
          auto it = prev.find(gone.labels.hash());
          if (it != prev.end() && it->second != AlertState::kInactive &&
              !rules_rt[i].alerts.contains(it->first)) {
            opts_.on_transition(gone, it->second, AlertState::kInactive);
          }
        }
      }
    }
    // A state change (new, pending -> firing, resolved, ...) is saved at the scheduler's next
    // turn; other changes (values, last sent) may wait for the next periodic save.
    uint64_t sig = state_signature(*g.rt);
    if (sig != g.state_signature) state_urgent_ = true;
    g.state_signature = sig;
    g.state_stale = true;
    to_send = g.rt->alerts_to_send(ts, g.resend_delay);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++g.iterations;
    g.last_duration = secs;
    g.last_eval = ts;
    g.duration_sum += secs;
    for (size_t i = 0; i < std::size(kDurationBuckets); ++i) {
      if (secs <= kDurationBuckets[i]) ++g.buckets[i];
    }
    for (const auto& r : g.rt->rules()) {
      if (r.last_error) ++g.failures;
    }
  }
  if (sink_ && !to_send.empty()) sink_->send(to_send, now());
  state_dirty_ = true;
}

namespace {
// The restore code speaks Querier (text in, QueryOutcome out); the group's datasource speaks
// RuleQuerier. Errors keep their message.
class RuleQuerierAdapter final : public Querier {
 public:
  explicit RuleQuerierAdapter(RuleQuerier& q) : q_(q) {}
  QueryOutcome query(std::string_view text, Millis t) override {
    return run(text, [&](const promql::Expr& e) { return q_.instant(e, text, t); });
  }
  QueryOutcome query_range(std::string_view text, Millis start, Millis end, Millis step) override {
    return run(text, [&](const promql::Expr& e) { return q_.range(e, text, start, end, step); });
  }

 private:
  template <class Fn>
  static QueryOutcome run(std::string_view text, Fn&& fn) {
    auto expr = promql::parse(text);
    if (!expr) {
      return std::unexpected(
          QueryError{QueryError::Kind::kConfig, 0, "", expr.error().to_string()});
    }
    auto r = fn(**expr);
    if (!r) return std::unexpected(QueryError{QueryError::Kind::kApi, 0, "", r.error().message});
    return std::move(*r);
  }
  RuleQuerier& q_;
};
}  // namespace

void RuleManager::restore_group_for_state(Group& g, Millis ts) {
  if (!g.ds) return;
  RestoreOptions ro;
  ro.outage_tolerance = outage_tolerance_;
  std::vector<std::string> errors;
  size_t restored = 0, rules_done = 0;
  g.ds->with_querier([&](RuleQuerier& rq, const AppendFn&) {
    RuleQuerierAdapter q(rq);
    for (auto& rt : g.rt->rules()) {
      const rules::Rule& r = *rt.rule;
      if (!r.is_alert() || r.grafana || r.for_.ms <= 0 || rt.alerts.empty()) continue;
      AlertingRuleParams p = restore_params(r);
      LabelsBuilder b;
      for (const auto& kv : g.rt->group().labels) b.set(kv.key, kv.value.value);
      for (const auto& kv : r.labels) b.set(kv.key, kv.value.value);
      p.labels = b.build();
      auto sum = restore_from_alerts_for_state(q, rt.alerts, p, ts, ro);
      if (!sum) {
        errors.push_back(sum.error().message);
        continue;
      }
      ++rules_done;
      restored += sum->pending;
    }
  });
  if (!opts_.log) return;
  for (const auto& e : errors) opts_.log(fmt::format("group {:?}: {}", g.name, e), true);
  if (restored > 0) {
    opts_.log(fmt::format("group {:?}: restored the `for` progress of {} alert(s) in {} rule(s) "
                          "from ALERTS_FOR_STATE",
                          g.name, restored, rules_done),
              false);
  }
}

void RuleManager::eval_all(Millis ts) {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  for (auto& g : groups) eval_group(*g, ts);
  if (state_dirty_.exchange(false)) (void)save_state();
  ready_ = true;
}

void RuleManager::run_eval(Group& g, Millis ts) {
  if (!g.ds) return;
  auto rw = remote_write_;
  g.ds->with_querier([&](RuleQuerier& q, const AppendFn& append) {
    if (!rw) {
      g.rt->eval(ts, q, append);
      return;
    }
    AppendFn both = [&](const Labels& l, Millis t, double v) {
      append(l, t, v);
      rw->push(WriteSample{l, t, v});
    };
    g.rt->eval(ts, q, both);
  });
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
    const Nanos iv = groups[i]->interval * 1'000'000;
    Nanos t = eval_timestamp(from * 1'000'000, iv, groups[i]->offset);
    if (t < from * 1'000'000) t += iv;
    for (; t <= to * 1'000'000; t += iv) events.emplace_back(t / 1'000'000, i);
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [ts, i] : events) {
    Group& g = *groups[i];
    std::lock_guard lock(g.mu);
    run_eval(g, ts);
    ++g.iterations;
    g.last_eval = ts;
    if (after) after(*g.rt, ts);
  }
  if (remote_write_) (void)remote_write_->flush();
  return events.size();
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
    s.local = std::dynamic_pointer_cast<EmbeddedDatasource>(g->ds) != nullptr;
    // A replay writes far faster than the remote-write queue drains: it waits for room (half
    // the queue) instead of letting the queue drop the oldest samples.
    const size_t high_water =
        config_ ? std::max<size_t>(1, config_->remote_write.queue_capacity / 2) : 50'000;
    s.with_querier = [ds = g->ds, rw = remote_write_, high_water](
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
  if (remote_write_) (void)remote_write_->flush();
}

void RuleManager::start() {
  stopping_ = false;
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
  if (remote_write_) remote_write_->stop();  // one last flush
}

void RuleManager::scheduler_loop() {
  WorkQueue q;
  Millis last_save = 0;
  std::vector<std::thread> workers;
  for (size_t i = 0; i < opts_.workers; ++i) {
    workers.emplace_back([&] {
      for (;;) {
        std::pair<std::shared_ptr<void>, Millis> job;
        {
          std::unique_lock lock(q.mu);
          q.cv.wait(lock, [&] { return !q.jobs.empty() || stopping_.load(); });
          if (q.jobs.empty()) return;
          job = std::move(q.jobs.front());
          q.jobs.pop_front();
        }
        auto g = std::static_pointer_cast<Group>(job.first);
        eval_group(*g, job.second);
        Millis done = now();
        std::lock_guard lock(q.mu);
        NextSlot ns = next_slot(job.second * 1'000'000, done * 1'000'000, g->interval * 1'000'000);
        g->missed += static_cast<uint64_t>(ns.missed);
        g->next_slot = ns.next / 1'000'000;
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
              first_eval_timestamp(t * 1'000'000, g->interval * 1'000'000, g->offset) / 1'000'000;
        }
        if (!g->busy && g->next_slot <= t) {
          g->busy = true;
          q.jobs.emplace_back(g, g->next_slot);
          q.cv.notify_one();
        } else if (!g->busy) {
          wake = std::min(wake, g->next_slot);
        }
      }
    }
    ready_ = true;
    // Saving serialises every rule's alerts: with many groups finishing at different moments,
    // saving after each would cost more than evaluating. Transitions are saved within a second;
    // other changes at most every kStateSaveGap.
    const Millis since = t - last_save;
    if (state_dirty_.load() &&
        ((state_urgent_.load() && since >= kUrgentSaveGap) || since >= kStateSaveGap)) {
      state_dirty_ = false;
      state_urgent_ = false;
      last_save = t;
      if (auto r = save_state(); !r) {
        std::lock_guard sl(save_mu_);
        state_log_ = "cannot save alert state: " + r.error().message;
      }
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

std::string RuleManager::rules_json(const RulesFilter& f) const {
  return with_views([&](std::span<const GroupView> v) { return render_rules(v, f); });
}

std::string RuleManager::alerts_json() const {
  return with_views([&](std::span<const GroupView> v) { return render_alerts(v); });
}

std::string RuleManager::with_views(
    const std::function<std::string(std::span<const GroupView>)>& fn) const {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(groups.size());
  std::vector<GroupView> views;
  views.reserve(groups.size());
  for (const auto& g : groups) {
    locks.emplace_back(g->mu);
    GroupView v;
    v.name = g->name;
    v.file = g->file;
    v.interval = g->interval;
    v.limit = static_cast<size_t>(std::max<int64_t>(0, g->rt->group().limit));
    v.eval_seconds = g->last_duration;
    v.last_eval = g->last_eval;
    for (const auto& rt : g->rt->rules()) {
      const rules::Rule& r = *rt.rule;
      RuleView rv;
      rv.type = r.is_alert() ? RuleView::Type::kAlerting : RuleView::Type::kRecording;
      rv.name = r.name;
      rv.query = r.grafana ? r.grafana->query.value : r.expr.value;
      rv.duration = r.for_.ms;
      rv.keep_firing_for = r.keep_firing_for.ms;
      LabelsBuilder lb, ab;
      for (const auto& kv : r.labels) lb.set(kv.key, kv.value.value);
      for (const auto& kv : r.annotations) ab.set(kv.key, kv.value.value);
      rv.labels = lb.build();
      rv.annotations = ab.build();
      rv.alerts = r.is_alert() ? &rt.alerts : nullptr;
      rv.health = std::string(to_string(rt.health));
      rv.last_error = rt.last_error;
      rv.eval_seconds = rt.eval_seconds;
      rv.last_eval = rt.last_eval;
      v.rules.push_back(std::move(rv));
    }
    views.push_back(std::move(v));
  }
  return fn(views);
}

std::string RuleManager::metrics_text() const {
  std::vector<std::shared_ptr<Group>> groups;
  std::vector<std::shared_ptr<Datasource>> dss;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
    dss = datasources_;
  }
  std::string o;
  std::string dur, iters, missed, fails, last, inter;
  size_t firing = 0, pending = 0;
  for (const auto& g : groups) {
    std::lock_guard lock(g->mu);
    std::string lbl =
        fmt::format("rule_group=\"{};{}\"", metric_escape(g->file), metric_escape(g->name));
    uint64_t cum = 0;
    for (size_t i = 0; i < std::size(kDurationBuckets); ++i) {
      cum = g->buckets[i];
      dur += fmt::format("ruleeval_rule_group_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", lbl,
                         kDurationBuckets[i], cum);
    }
    dur += fmt::format("ruleeval_rule_group_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", lbl,
                       g->iterations);
    dur += fmt::format("ruleeval_rule_group_duration_seconds_sum{{{}}} {}\n", lbl, g->duration_sum);
    dur += fmt::format("ruleeval_rule_group_duration_seconds_count{{{}}} {}\n", lbl, g->iterations);
    iters += fmt::format("ruleeval_rule_group_iterations_total{{{}}} {}\n", lbl, g->iterations);
    missed += fmt::format("ruleeval_rule_group_iterations_missed_total{{{}}} {}\n", lbl, g->missed);
    fails += fmt::format("ruleeval_rule_evaluation_failures_total{{{}}} {}\n", lbl, g->failures);
    last +=
        fmt::format("ruleeval_rule_group_last_duration_seconds{{{}}} {}\n", lbl, g->last_duration);
    inter += fmt::format("ruleeval_rule_group_interval_seconds{{{}}} {}\n", lbl,
                         static_cast<double>(g->interval) / 1000.0);
    for (const auto& rt : g->rt->rules()) {
      for (const auto& [_, a] : rt.alerts) {
        if (a.state == AlertState::kFiring) ++firing;
        if (a.state == AlertState::kPending) ++pending;
      }
    }
  }
  o += "# HELP ruleeval_rule_group_duration_seconds Duration of rule group evaluations.\n"
       "# TYPE ruleeval_rule_group_duration_seconds histogram\n" +
       dur;
  o += "# HELP ruleeval_rule_group_iterations_total Rule group evaluations.\n"
       "# TYPE ruleeval_rule_group_iterations_total counter\n" +
       iters;
  o += "# HELP ruleeval_rule_group_iterations_missed_total Evaluations skipped because one "
       "overran.\n"
       "# TYPE ruleeval_rule_group_iterations_missed_total counter\n" +
       missed;
  o += "# HELP ruleeval_rule_evaluation_failures_total Rule evaluations that failed.\n"
       "# TYPE ruleeval_rule_evaluation_failures_total counter\n" +
       fails;
  o += "# HELP ruleeval_rule_group_last_duration_seconds Duration of the last evaluation.\n"
       "# TYPE ruleeval_rule_group_last_duration_seconds gauge\n" +
       last;
  o += "# HELP ruleeval_rule_group_interval_seconds The group's evaluation interval.\n"
       "# TYPE ruleeval_rule_group_interval_seconds gauge\n" +
       inter;
  o += "# HELP ruleeval_alerts Active alerts by state.\n# TYPE ruleeval_alerts gauge\n";
  o += fmt::format(
      "ruleeval_alerts{{state=\"firing\"}} {}\nruleeval_alerts{{state=\"pending\"}} {}\n", firing,
      pending);
  o += "# HELP ruleeval_datasource_requests_total Queries sent to a datasource.\n"
       "# TYPE ruleeval_datasource_requests_total counter\n";
  std::string lat, bytes, decode;
  for (const auto& d : dss) {
    std::lock_guard lock(d->stats_mu);
    std::string name = metric_escape(d->name);
    o += fmt::format("ruleeval_datasource_requests_total{{datasource=\"{}\"}} {}\n", name,
                     d->requests);
    lat += fmt::format("ruleeval_datasource_request_seconds_total{{datasource=\"{}\"}} {}\n", name,
                       d->request_seconds);
    bytes += fmt::format("ruleeval_datasource_response_bytes_total{{datasource=\"{}\"}} {}\n", name,
                         d->response_bytes);
    decode += fmt::format("ruleeval_datasource_decode_seconds_total{{datasource=\"{}\"}} {}\n",
                          name, d->decode_seconds);
  }
  o += "# HELP ruleeval_datasource_request_seconds_total Time spent waiting for a datasource.\n"
       "# TYPE ruleeval_datasource_request_seconds_total counter\n" +
       lat;
  o += "# HELP ruleeval_datasource_response_bytes_total Response body bytes from a "
       "datasource, after gzip decompression.\n"
       "# TYPE ruleeval_datasource_response_bytes_total counter\n" +
       bytes;
  o += "# HELP ruleeval_datasource_decode_seconds_total Time spent decoding datasource "
       "responses.\n"
       "# TYPE ruleeval_datasource_decode_seconds_total counter\n" +
       decode;
  o += "# HELP ruleeval_config_last_reload_successful Whether the last reload succeeded.\n"
       "# TYPE ruleeval_config_last_reload_successful gauge\n";
  o += fmt::format("ruleeval_config_last_reload_successful {}\n", reload_ok_.load() ? 1 : 0);
  o +=
      "# HELP ruleeval_config_last_reload_success_timestamp_seconds Time of the last good reload.\n"
      "# TYPE ruleeval_config_last_reload_success_timestamp_seconds gauge\n";
  o += fmt::format("ruleeval_config_last_reload_success_timestamp_seconds {}\n",
                   static_cast<double>(reload_at_.load()) / 1000.0);
  o += fmt::format(
      "# TYPE ruleeval_config_reloads_total counter\nruleeval_config_reloads_total {}\n",
      reloads_total_.load());
  o += fmt::format(
      "# TYPE ruleeval_config_reload_failures_total counter\nruleeval_config_reload_failures_total "
      "{}\n",
      reload_failures_total_.load());
  return o;
}

status::PageData RuleManager::status_data() const {
  std::vector<std::shared_ptr<Group>> groups;
  {
    std::lock_guard lock(mu_);
    groups = groups_;
  }
  status::PageData d;
  d.now = now();
  auto pairs = [](const CompactLabels& l) {
    status::LabelPairs out;
    for (const auto& x : l.to_labels()) out.emplace_back(x.name, x.value);
    return out;
  };
  for (const auto& g : groups) {
    std::lock_guard lock(g->mu);
    status::GroupItem gi{g->name, g->file, g->interval, g->last_eval, g->last_duration,
                         g->iterations, g->missed, {}};
    for (const auto& rt : g->rt->rules()) {
      const rules::Rule& r = *rt.rule;
      status::RuleItem ri;
      ri.name = r.name;
      ri.alerting = r.is_alert();
      ri.query = r.expr.value;
      ri.health = std::string(to_string(rt.health));
      ri.last_error = rt.last_error;
      ri.last_eval = rt.last_eval;
      ri.eval_seconds = rt.eval_seconds;
      ri.for_ms = r.for_.ms;
      for (const auto& [_, a] : rt.alerts) {
        if (a.state == AlertState::kInactive && a.resolved_at == kNoTime) continue;
        status::AlertItem ai;
        ai.group = g->name;
        ai.rule = r.name;
        ai.state = a.state == AlertState::kFiring    ? "firing"
                   : a.state == AlertState::kPending ? "pending"
                                                     : "resolved";
        ai.labels = pairs(a.labels);
        for (const auto& l : g->rt->env().external_labels)
          if (!l.value.empty()) ai.external_labels.emplace_back(l.name, l.value);
        ai.annotations = pairs(a.annotations);
        ai.value = a.value;
        ai.active_at = a.active_at;
        ai.fired_at = a.fired_at;
        ai.resolved_at = a.resolved_at;
        ai.for_ms = r.for_.ms;
        ai.generator_url = rt.generator_url;
        ri.firing += a.state == AlertState::kFiring;
        ri.pending += a.state == AlertState::kPending;
        // The strip's bands from the state the alert keeps (active_at, fired_at, resolved_at).
        Millis end = a.resolved_at != kNoTime ? a.resolved_at : d.now;
        if (a.active_at != kNoTime) {
          Millis fired = a.fired_at != kNoTime ? a.fired_at : end;
          if (fired > a.active_at) ri.bands.push_back({a.active_at, fired, "pending"});
          if (a.fired_at != kNoTime) ri.bands.push_back({a.fired_at, end, "firing"});
        }
        d.alerts.push_back(std::move(ai));
      }
      gi.rules.push_back(std::move(ri));
    }
    d.groups.push_back(std::move(gi));
  }
  return d;
}

std::string RuleManager::status_html() const { return status::render_status_page(status_data()); }

}  // namespace ruleeval::engine
