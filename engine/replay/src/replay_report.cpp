// The replay driver and the per-rule episode analysis behind `ruleeval replay`'s report
// (replay_report.hpp). Output formats are in replay_output.cpp.
#include "ruleeval/engine/replay_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "ruleeval/engine/scheduler.hpp"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::engine::replay {

std::string_view to_string(WhatIfKey k) {
  switch (k) {
    case WhatIfKey::kFor:
      return "for";
    case WhatIfKey::kKeepFiringFor:
      return "keep_firing_for";
    case WhatIfKey::kThreshold:
      return "threshold";
    case WhatIfKey::kRecover:
      return "recover";
  }
  return "for";
}

Result<WhatIf> parse_what_if(std::string_view arg) {
  auto eq = arg.find('=');
  if (eq == std::string_view::npos) {
    return make_error(fmt::format("--what-if {:?}: expected KEY=V1,V2,... with KEY one of for, "
                                  "keep_firing_for, threshold, recover",
                                  arg));
  }
  std::string_view key = arg.substr(0, eq);
  WhatIf w;
  if (key == "for") {
    w.key = WhatIfKey::kFor;
  } else if (key == "keep_firing_for") {
    w.key = WhatIfKey::kKeepFiringFor;
  } else if (key == "threshold") {
    w.key = WhatIfKey::kThreshold;
  } else if (key == "recover") {
    w.key = WhatIfKey::kRecover;
  } else {
    return make_error(fmt::format("--what-if: unknown key {:?} (for, keep_firing_for, threshold, "
                                  "recover)",
                                  key));
  }
  std::string_view rest = arg.substr(eq + 1);
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    if (item.empty()) return make_error(fmt::format("--what-if {:?}: empty value", arg));
    WhatIfValue v;
    v.spelling = std::string(item);
    if (w.key == WhatIfKey::kFor || w.key == WhatIfKey::kKeepFiringFor) {
      auto d = parse_duration(item);
      if (!d || *d < 0) {
        return make_error(fmt::format("--what-if {:?}: {:?} is not a duration (e.g. 5m)", arg, item));
      }
      v.ms = *d;
    } else {
      auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v.number);
      if (ec != std::errc{} || p != item.data() + item.size() || !std::isfinite(v.number)) {
        return make_error(fmt::format("--what-if {:?}: {:?} is not a number", arg, item));
      }
    }
    w.values.push_back(std::move(v));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return w;
}

Distribution distribution(std::vector<Millis> values) {
  Distribution d;
  d.count = values.size();
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  auto rank = [&](double q) {  // nearest rank
    size_t r = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
    return values[std::clamp<size_t>(r, 1, values.size()) - 1];
  };
  d.median = rank(0.5);
  d.p90 = rank(0.9);
  d.max = values.back();
  return d;
}

namespace {

constexpr Millis kDefaultGroupInterval = 5 * Millis{60'000};
constexpr Millis kDefaultRepeatInterval = 4 * Millis{3600'000};

// Follows one rule's alerts from evaluation to evaluation and cuts them into episodes.
class RuleTracker {
 public:
  RuleTracker(const ReplayOptions* opts, bool with_flaps) : opts_(opts), with_flaps_(with_flaps) {}

  void observe(const RuleRuntime& rt, Millis ts) {
    ++evaluations_;
    if (rt.last_error) {
      ++failed_;
      if (!in_error_) error_periods_.push_back({ts, ts});
      in_error_ = true;
    } else if (in_error_) {
      error_periods_.back().end = ts;
      in_error_ = false;
    }
    size_t firing = 0;
    seen_.clear();
    for (const auto& [h, a] : rt.alerts) {
      if (a.state == AlertState::kInactive) continue;
      if (a.state == AlertState::kFiring) ++firing;
      seen_.insert(h);
      auto [it, inserted] = inst_.try_emplace(h);
      if (inserted) {
        it->second.index = reports_.size();
        reports_.emplace_back();
        reports_.back().labels = a.labels.to_labels();
        if (with_flaps_) {
          auto w = opts_->flap_windows
                       ? opts_->flap_windows(reports_.back().labels)
                       : std::pair<Millis, Millis>{kDefaultGroupInterval, kDefaultRepeatInterval};
          it->second.flap_window = w.first;
          it->second.repeat_window = w.second;
          if (flap_window_ == 0) flap_window_ = w.first;
        }
      }
      transition(it->second, a.state, ts);
      active_.insert(h);
    }
    for (auto it = active_.begin(); it != active_.end();) {
      if (seen_.contains(*it)) {
        ++it;
        continue;
      }
      transition(inst_.at(*it), AlertState::kInactive, ts);
      it = active_.erase(it);
    }
    if (firing > peak_) {
      peak_ = firing;
      peak_at_ = ts;
    }
    last_firing_ = firing;
    // Grafana-like NoData / Error periods per instance.
    for (const auto& [lbs, in] : rt.instances) {
      const bool nodata = in.state == GrafanaState::kNoData;
      const bool err = in.state == GrafanaState::kError;
      auto& g = gstate_[lbs];
      if (nodata != g.nodata) {
        if (nodata) {
          gspans(lbs).nodata.push_back({ts, ts});
        } else {
          gspans(lbs).nodata.back().end = ts;
        }
        g.nodata = nodata;
      }
      if (err != g.err) {
        if (err) {
          gspans(lbs).errors.push_back({ts, ts});
        } else {
          gspans(lbs).errors.back().end = ts;
        }
        g.err = err;
      }
    }
    for (auto& [lbs, g] : gstate_) {
      if (rt.instances.contains(lbs)) continue;
      if (g.nodata) gspans(lbs).nodata.back().end = ts;
      if (g.err) gspans(lbs).errors.back().end = ts;
      g.nodata = g.err = false;
    }
  }

  size_t last_firing() const { return last_firing_; }

  // Closes what is still open at `end` and fills `r`.
  void finish(Millis end, RuleReport& r) {
    for (auto h : active_) {
      Inst& in = inst_.at(h);
      InstanceReport& rep = reports_[in.index];
      in.cur.end = end;
      if (is_set(in.cur.fired_at)) rep.firing_ms += end - in.cur.fired_at;
      rep.episodes.push_back(in.cur);
    }
    active_.clear();
    if (in_error_) error_periods_.back().end = end;
    for (auto& [lbs, g] : gstate_) {
      if (g.nodata) gspans(lbs).nodata.back().end = end;
      if (g.err) gspans(lbs).errors.back().end = end;
    }
    // NoData / Error spans go to the instance with the same labels (or a new one).
    std::unordered_map<Labels, size_t> by_labels;
    for (size_t i = 0; i < reports_.size(); ++i) by_labels.emplace(reports_[i].labels, i);
    for (auto& [lbs, sp] : gspan_) {
      auto it = by_labels.find(lbs);
      if (it == by_labels.end()) {
        it = by_labels.emplace(lbs, reports_.size()).first;
        reports_.emplace_back();
        reports_.back().labels = lbs;
      }
      auto& rep = reports_[it->second];
      rep.nodata = std::move(sp.nodata);
      rep.errors = std::move(sp.errors);
    }
    std::vector<Millis> firing, delays;
    for (auto& rep : reports_) {
      r.firing_starts += rep.firing_starts;
      r.pending_only += rep.pending_only;
      r.flaps += rep.flaps;
      r.refires += rep.refires;
      r.firing_ms += rep.firing_ms;
      for (const auto& e : rep.episodes) {
        if (!is_set(e.fired_at)) continue;
        firing.push_back(e.end - e.fired_at);
        delays.push_back(e.fired_at - e.pending_at);
      }
      for (const auto& s : rep.nodata) r.nodata_ms += s.end - s.start;
      for (const auto& s : rep.errors) r.error_ms += s.end - s.start;
      r.nodata_periods += rep.nodata.size();
      r.error_state_periods += rep.errors.size();
    }
    r.episode_firing = distribution(std::move(firing));
    r.detection_delay = distribution(std::move(delays));
    r.evaluations = evaluations_;
    r.failed_evaluations = failed_;
    r.error_periods = std::move(error_periods_);
    r.peak_firing = peak_;
    r.peak_at = peak_at_;
    r.flap_window_ms = flap_window_ != 0 ? flap_window_ : kDefaultGroupInterval;
    std::sort(reports_.begin(), reports_.end(),
              [](const InstanceReport& a, const InstanceReport& b) { return a.labels < b.labels; });
    r.instances = std::move(reports_);
  }

 private:
  struct Inst {
    size_t index = 0;
    AlertState prev = AlertState::kInactive;
    Episode cur;
    Millis last_resolve = kNoTime;
    Millis flap_window = kDefaultGroupInterval;
    Millis repeat_window = kDefaultRepeatInterval;
  };
  struct GState {
    bool nodata = false, err = false;
  };
  struct GSpans {
    std::vector<Span> nodata, errors;
  };
  GSpans& gspans(const Labels& l) { return gspan_[l]; }

  void fire(Inst& in, InstanceReport& rep, Millis ts) {
    in.cur.fired_at = ts;
    ++rep.firing_starts;
    if (with_flaps_ && is_set(in.last_resolve) && ts - in.last_resolve <= in.flap_window) {
      ++rep.flaps;
      in.cur.flap = true;
    }
    if (with_flaps_ && is_set(in.last_resolve) && ts - in.last_resolve <= in.repeat_window) {
      ++rep.refires;
    }
  }

  void transition(Inst& in, AlertState to, Millis ts) {
    InstanceReport& rep = reports_[in.index];
    const AlertState from = in.prev;
    in.prev = to;
    if (from == to) return;
    if (from == AlertState::kInactive) {
      in.cur = Episode{};
      in.cur.pending_at = ts;
      if (to == AlertState::kFiring) fire(in, rep, ts);
      return;
    }
    if (from == AlertState::kPending && to == AlertState::kFiring) {
      fire(in, rep, ts);
      return;
    }
    // The episode ends: resolved (inactive), or firing went back to pending.
    in.cur.end = ts;
    if (from == AlertState::kPending) {
      ++rep.pending_only;
    } else {
      in.cur.resolved_at = ts;
      rep.firing_ms += ts - in.cur.fired_at;
      in.last_resolve = ts;
    }
    rep.episodes.push_back(in.cur);
    in.cur = Episode{};
    if (to == AlertState::kPending) in.cur.pending_at = ts;
  }

  const ReplayOptions* opts_;
  bool with_flaps_;
  std::unordered_map<uint64_t, Inst> inst_;
  std::vector<InstanceReport> reports_;
  std::unordered_set<uint64_t> active_, seen_;
  std::unordered_map<Labels, GState> gstate_;
  std::map<Labels, GSpans> gspan_;
  size_t evaluations_ = 0, failed_ = 0;
  bool in_error_ = false;
  std::vector<Span> error_periods_;
  size_t peak_ = 0, last_firing_ = 0;
  Millis peak_at_ = kNoTime;
  Millis flap_window_ = 0;
};

// The prefetched instant results of one expression at a group's slot times. Series labels are
// kept once; each slot holds (series, value) pairs.
struct InstantCache {
  struct SeriesMeta {
    Labels metric;
    bool drop_name = false;
  };
  Millis start = 0, step = 0;
  std::vector<SeriesMeta> series;
  std::vector<std::vector<std::pair<uint32_t, double>>> slots;
  std::vector<int> error;  // per slot: -1, or an index into errors
  std::vector<bool> usable;  // per slot: answered by the prefetch
  std::vector<std::string> errors;

  Vector vector_at(size_t k, Millis t) const {
    Vector v;
    v.reserve(slots[k].size());
    for (const auto& [si, val] : slots[k]) {
      v.push_back(Sample{series[si].metric, val, t, series[si].drop_name, nullptr});
    }
    return v;
  }
};

// Answers a group's instant queries from the prefetch; anything else goes to the backend once
// per evaluation time and is shared by the what-if variants evaluated at the same time.
class PrefetchedQuerier final : public RuleQuerier {
 public:
  PrefetchedQuerier(RuleQuerier& inner, const std::unordered_map<std::string, InstantCache>& cache,
                    std::atomic<uint64_t>& direct)
      : inner_(inner), cache_(cache), direct_(direct) {}

  // Drops the per-time memo (call before each new evaluation time).
  void next_time() { memo_.clear(); }

  Result<QueryResult> instant(const promql::Expr& expr, std::string_view text, Millis t) override {
    auto it = cache_.find(std::string(text));
    if (it != cache_.end()) {
      const InstantCache& c = it->second;
      if (t >= c.start && (t - c.start) % c.step == 0) {
        size_t k = static_cast<size_t>((t - c.start) / c.step);
        if (k < c.slots.size() && c.usable[k]) {
          if (c.error[k] >= 0) return make_error(c.errors[static_cast<size_t>(c.error[k])]);
          return QueryResult{Value{c.vector_at(k, t)}, {}, {}};
        }
      }
    }
    return memoized(fmt::format("i\x1f{}\x1f{}", text, t), [&] { return inner_.instant(expr, text, t); });
  }

  Result<QueryResult> range(const promql::Expr& expr, std::string_view text, Millis start,
                            Millis end, Millis step) override {
    return memoized(fmt::format("r\x1f{}\x1f{}\x1f{}\x1f{}", text, start, end, step),
                    [&] { return inner_.range(expr, text, start, end, step); });
  }

 private:
  template <class Fn>
  Result<QueryResult> memoized(std::string key, Fn&& fn) {
    auto it = memo_.find(key);
    if (it != memo_.end()) return it->second;
    direct_.fetch_add(1, std::memory_order_relaxed);
    auto r = fn();
    memo_.emplace(std::move(key), r);
    return r;
  }

  RuleQuerier& inner_;
  const std::unordered_map<std::string, InstantCache>& cache_;
  std::atomic<uint64_t>& direct_;
  std::unordered_map<std::string, Result<QueryResult>> memo_;
};

bool applies(WhatIfKey k, const rules::Rule& r) {
  if (!r.is_alert()) return false;
  switch (k) {
    case WhatIfKey::kFor:
    case WhatIfKey::kKeepFiringFor:
      return true;
    case WhatIfKey::kThreshold:
    case WhatIfKey::kRecover:
      return r.grafana && r.grafana->threshold.has_value();
  }
  return false;
}

// Sets the knob on a copy of the rule; an error when the value cannot apply to it.
Result<void> apply_knob(rules::Rule& r, WhatIfKey k, const WhatIfValue& v) {
  switch (k) {
    case WhatIfKey::kFor:
      r.for_.ms = v.ms;
      return {};
    case WhatIfKey::kKeepFiringFor:
      r.keep_firing_for.ms = v.ms;
      return {};
    case WhatIfKey::kThreshold: {
      auto& t = *r.grafana->threshold;
      using Op = rules::ThresholdOp;
      if (t.op != Op::Above && t.op != Op::Below && t.op != Op::AboveOrEqual &&
          t.op != Op::BelowOrEqual) {
        return make_error(fmt::format("rule {:?}: --what-if threshold= needs a one-bound threshold "
                                      "(above/below), not {}",
                                      r.name, rules::to_string(t.op)));
      }
      t.a = v.number;
      return {};
    }
    case WhatIfKey::kRecover: {
      auto& g = *r.grafana;
      using Op = rules::ThresholdOp;
      if (!g.recover) {
        // No recover threshold yet: the opposite direction of the firing one.
        rules::Threshold rec;
        switch (g.threshold->op) {
          case Op::Above:
          case Op::AboveOrEqual:
            rec.op = Op::Below;
            break;
          case Op::Below:
          case Op::BelowOrEqual:
            rec.op = Op::Above;
            break;
          default:
            return make_error(fmt::format("rule {:?}: --what-if recover= needs a one-bound "
                                          "threshold (above/below)",
                                          r.name));
        }
        g.recover = rec;
      }
      if (g.recover->op != Op::Above && g.recover->op != Op::Below &&
          g.recover->op != Op::AboveOrEqual && g.recover->op != Op::BelowOrEqual) {
        return make_error(fmt::format("rule {:?}: --what-if recover= needs a one-bound recover "
                                      "threshold (above/below)",
                                      r.name));
      }
      g.recover->a = v.number;
      return {};
    }
  }
  return {};
}

struct Variant {
  WhatIfKey key{};
  std::string value;
  std::unique_ptr<rules::RuleGroup> group;  // the copy with the knob set
  std::unique_ptr<GroupRuntime> rt;
  std::vector<size_t> report_of;  // per rule of the copy: index into the job's reports
  std::vector<RuleTracker> trackers;
};

struct Job {
  const RuleManager::ReplaySource* src = nullptr;
  std::unique_ptr<rules::RuleGroup> group;  // filtered copy
  std::unique_ptr<GroupRuntime> rt;
  std::vector<Millis> slots;
  std::vector<int> report_of;  // per rule: index into reports, -1 for recording rules
  std::vector<RuleReport> reports;
  std::vector<RuleTracker> trackers;
  std::vector<Variant> variants;
  std::unordered_map<std::string, InstantCache> cache;
  std::vector<size_t> firing_now;  // per slot: firing alerts of the group (for the overall peak)
};

bool prefetchable(const rules::Rule& r) {
  if (!r.ast) return false;
  if (r.grafana && (r.grafana->range_ms > 0 || !r.grafana->condition.value.empty())) return false;
  // `@ start()` / `@ end()` mean something else in a range query.
  return r.expr.value.find('@') == std::string::npos;
}

template <class Fn>
void parallel(size_t n, size_t workers, Fn&& fn) {
  workers = std::max<size_t>(1, std::min(workers, n));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = 0; (i = next.fetch_add(1)) < n;) fn(i);
  };
  if (workers == 1) return work();
  std::vector<std::thread> ts;
  for (size_t i = 0; i < workers; ++i) ts.emplace_back(work);
  for (auto& t : ts) t.join();
}

}  // namespace

Result<ReplayReport> run_replay(const std::vector<RuleManager::ReplaySource>& sources,
                                const ReplayOptions& opts, Progress* progress) {
  ReplayReport out;
  out.from = opts.from;
  out.to = opts.to;
  Progress dummy;
  Progress& prog = progress ? *progress : dummy;

  // Build the jobs: a filtered copy of each group, its slots, trackers and variants.
  std::vector<Job> jobs;
  for (const auto& src : sources) {
    Job j;
    j.src = &src;
    j.group = std::make_unique<rules::RuleGroup>(*src.group);
    std::erase_if(j.group->rules, [&](const rules::Rule& r) {
      if (!opts.rule_filter || opts.rule_filter(r)) return false;
      return !(src.local && !r.is_alert());
    });
    bool has_alert = std::any_of(j.group->rules.begin(), j.group->rules.end(),
                                 [](const rules::Rule& r) { return r.is_alert(); });
    if (j.group->rules.empty() || (!has_alert && !src.local)) continue;
    const Nanos iv = ms_to_ns(src.interval);
    Nanos t = eval_timestamp(ms_to_ns(opts.from), iv, src.offset);
    if (t < ms_to_ns(opts.from)) t += iv;
    for (; t <= ms_to_ns(opts.to); t += iv) j.slots.push_back(ns_to_ms(t));
    GroupEnv env = src.env;
    env.expand_annotations = false;  // never sent; the report does not show them
    j.rt = std::make_unique<GroupRuntime>(*j.group, src.file, env);
    for (const auto& r : j.group->rules) {
      if (!r.is_alert()) {
        j.report_of.push_back(-1);
        continue;
      }
      j.report_of.push_back(static_cast<int>(j.reports.size()));
      RuleReport rep;
      rep.file = src.file;
      rep.group = j.group->name;
      rep.rule = r.name;
      rep.grafana = r.grafana.has_value();
      rep.interval = src.interval;
      rep.for_ms = r.for_.ms;
      j.reports.push_back(std::move(rep));
      j.trackers.emplace_back(&opts, true);
    }
    for (const auto& w : opts.what_if) {
      for (const auto& v : w.values) {
        Variant var;
        var.key = w.key;
        var.value = v.spelling;
        var.group = std::make_unique<rules::RuleGroup>(*j.group);
        var.group->rules.clear();
        for (size_t i = 0; i < j.group->rules.size(); ++i) {
          const rules::Rule& r = j.group->rules[i];
          if (!applies(w.key, r)) continue;
          rules::Rule copy = r;
          if (auto ok = apply_knob(copy, w.key, v); !ok) return std::unexpected(ok.error());
          var.group->rules.push_back(std::move(copy));
          var.report_of.push_back(static_cast<size_t>(j.report_of[i]));
          var.trackers.emplace_back(&opts, false);
        }
        if (var.group->rules.empty()) continue;
        GroupEnv venv = src.env;
        venv.write_alert_series = false;
        venv.expand_annotations = false;
        venv.append_histogram = nullptr;
        var.rt = std::make_unique<GroupRuntime>(*var.group, src.file, venv);
        j.variants.push_back(std::move(var));
      }
    }
    j.firing_now.assign(j.slots.size(), 0);
    uint64_t n = j.slots.size();
    uint64_t fetch = 0;
    if (!src.local) {
      std::unordered_set<std::string> texts;
      for (const auto& r : j.group->rules) {
        if (prefetchable(r)) texts.insert(r.expr.value);
      }
      fetch = texts.size() * n;
    }
    prog.total += fetch + j.group->rules.size() * n;
    jobs.push_back(std::move(j));
  }

  std::atomic<uint64_t> range_queries{0}, direct{0};
  std::mutex cb_mu;
  const AppendFn discard = [](const Labels&, Millis, double) {};

  // Evaluates one slot of a job (base + variants) through `q`.
  auto eval_slot = [&](Job& j, size_t k, PrefetchedQuerier& q, const AppendFn& append) {
    const Millis ts = j.slots[k];
    q.next_time();
    j.rt->eval(ts, q, append);
    size_t firing = 0;
    for (size_t i = 0; i < j.rt->rules().size(); ++i) {
      int ri = j.report_of[i];
      if (ri < 0) continue;
      auto& tr = j.trackers[static_cast<size_t>(ri)];
      tr.observe(j.rt->rules()[i], ts);
      firing += tr.last_firing();
    }
    j.firing_now[k] = firing;
    for (auto& v : j.variants) {
      v.rt->eval(ts, q, discard);
      for (size_t i = 0; i < v.rt->rules().size(); ++i) v.trackers[i].observe(v.rt->rules()[i], ts);
    }
    if (opts.after) {
      std::lock_guard lock(cb_mu);
      opts.after(*j.rt, ts);
    }
    prog.done += j.group->rules.size();
  };

  auto finish_job = [&](Job& j) {
    for (size_t i = 0; i < j.reports.size(); ++i) j.trackers[i].finish(opts.to, j.reports[i]);
    for (auto& v : j.variants) {
      for (size_t i = 0; i < v.trackers.size(); ++i) {
        RuleReport tmp;
        v.trackers[i].finish(opts.to, tmp);
        VariantReport vr;
        vr.key = v.key;
        vr.value = v.value;
        vr.firing_starts = tmp.firing_starts;
        vr.pending_only = tmp.pending_only;
        vr.firing_ms = tmp.firing_ms;
        vr.detection_delay = tmp.detection_delay;
        j.reports[v.report_of[i]].what_if.push_back(std::move(vr));
      }
    }
    j.cache.clear();
    j.variants.clear();
  };

  // Groups on the embedded store: evaluated in-process, in time order across groups (recording
  // results of one group are visible to the next), no prefetch.
  {
    std::vector<std::pair<Millis, size_t>> events;  // (ts, job) ordered by time
    std::vector<size_t> next_slot(jobs.size(), 0);
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!jobs[i].src->local) continue;
      for (Millis ts : jobs[i].slots) events.emplace_back(ts, i);
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [ts, i] : events) {
      Job& j = jobs[i];
      j.src->with_querier([&](RuleQuerier& inner, const AppendFn& append) {
        PrefetchedQuerier q(inner, j.cache, direct);
        eval_slot(j, next_slot[i]++, q, append);
      });
    }
  }

  // Backend groups, in batches (about one group per worker): fetch every rule's results with
  // query_range in parallel, then evaluate the batch's groups in parallel (while the next batch
  // is fetched).
  const size_t workers = std::max<size_t>(1, opts.concurrency);
  auto next_batch = [&](size_t& b) {
    std::vector<size_t> batch;
    size_t rules_in = 0;
    // At least 4 rules per worker for the fetch, and (up to a memory bound) one group per worker
    // for the evaluation, which is sequential inside a group.
    for (; b < jobs.size() && (batch.empty() || rules_in < 4 * workers ||
                               (batch.size() < workers && rules_in < 64 * workers));
         ++b) {
      if (jobs[b].src->local) continue;
      batch.push_back(b);
      rules_in += jobs[b].group->rules.size();
    }
    return batch;
  };
  auto fetch_batch = [&](const std::vector<size_t>& batch) {
    struct Fetch {
      Job* job;
      const rules::Rule* rule;
      size_t first, count;  // slot range
    };
    std::vector<Fetch> fetches;
    for (size_t ji : batch) {
      Job& j = jobs[ji];
      if (j.slots.empty()) continue;
      for (const auto& r : j.group->rules) {
        if (!prefetchable(r) || j.cache.contains(r.expr.value)) continue;
        InstantCache& c = j.cache[r.expr.value];
        c.start = j.slots.front() - j.src->env.query_offset;
        c.step = j.src->interval;
        c.slots.resize(j.slots.size());
        c.error.assign(j.slots.size(), -1);
        c.usable.assign(j.slots.size(), false);
        const size_t per = std::max<size_t>(1, opts.max_points);
        for (size_t f = 0; f < j.slots.size(); f += per) {
          fetches.push_back({&j, &r, f, std::min(per, j.slots.size() - f)});
        }
      }
    }
    std::vector<std::string> errors_of(fetches.size());
    std::vector<std::optional<QueryResult>> results(fetches.size());
    parallel(fetches.size(), workers, [&](size_t i) {
      const Fetch& f = fetches[i];
      const InstantCache& c = f.job->cache.at(f.rule->expr.value);
      Millis start = c.start + static_cast<Millis>(f.first) * c.step;
      Millis end = start + static_cast<Millis>(f.count - 1) * c.step;
      f.job->src->with_querier([&](RuleQuerier& q, const AppendFn&) {
        auto r = q.range(*f.rule->ast, f.rule->expr.value, start, end, c.step);
        range_queries.fetch_add(1, std::memory_order_relaxed);
        if (r) {
          results[i] = std::move(*r);
        } else {
          errors_of[i] = r.error().message;
        }
      });
      prog.done += f.count;
    });
    // Spread the matrices over the slots (single-threaded: caches are per job, chunks may share).
    for (size_t i = 0; i < fetches.size(); ++i) {
      const Fetch& f = fetches[i];
      InstantCache& c = f.job->cache.at(f.rule->expr.value);
      if (!results[i]) {
        c.errors.push_back(std::move(errors_of[i]));
        for (size_t k = f.first; k < f.first + f.count; ++k) {
          c.error[k] = static_cast<int>(c.errors.size() - 1);
          c.usable[k] = true;
        }
        continue;
      }
      bool aligned = true;
      const size_t first_series = c.series.size();
      auto place = [&](uint32_t si, Millis t, double v) {
        if (t < c.start || (t - c.start) % c.step != 0) {
          aligned = false;
          return;
        }
        size_t k = static_cast<size_t>((t - c.start) / c.step);
        if (k < f.first || k >= f.first + f.count) {
          aligned = false;
          return;
        }
        c.slots[k].emplace_back(si, v);
      };
      if (auto* m = std::get_if<Matrix>(&results[i]->value)) {
        for (auto& s : *m) {
          const auto si = static_cast<uint32_t>(c.series.size());
          c.series.push_back({std::move(s.metric), s.drop_name});
          for (const auto& p : s.points) place(si, p.t, p.v);
        }
      } else if (auto* v = std::get_if<Vector>(&results[i]->value)) {
        for (auto& s : *v) {
          const auto si = static_cast<uint32_t>(c.series.size());
          c.series.push_back({std::move(s.metric), s.drop_name});
          place(si, s.t, s.v);
        }
      } else {
        aligned = false;
      }
      if (!aligned) {
        // Not on the slot grid (e.g. a backend that aligns steps itself): leave these slots to
        // instant queries rather than guess.
        for (size_t k = f.first; k < f.first + f.count; ++k) c.slots[k].clear();
        c.series.resize(first_series);
        continue;
      }
      for (size_t k = f.first; k < f.first + f.count; ++k) c.usable[k] = true;
      results[i].reset();
    }
  };
  auto eval_batch = [&](const std::vector<size_t>& batch) {
    parallel(batch.size(), workers, [&](size_t bi) {
      Job& j = jobs[batch[bi]];
      j.src->with_querier([&](RuleQuerier& inner, const AppendFn& append) {
        PrefetchedQuerier q(inner, j.cache, direct);
        for (size_t k = 0; k < j.slots.size(); ++k) eval_slot(j, k, q, append);
      });
      finish_job(j);
    });
  };
  // The next batch is fetched while the current one is evaluated.
  size_t b = 0;
  std::vector<size_t> batch = next_batch(b);
  if (!batch.empty()) fetch_batch(batch);
  while (!batch.empty()) {
    std::vector<size_t> nxt = next_batch(b);
    std::thread prefetch;
    if (!nxt.empty()) prefetch = std::thread([&] { fetch_batch(nxt); });
    eval_batch(batch);
    if (prefetch.joinable()) prefetch.join();
    batch = std::move(nxt);
  }
  for (auto& j : jobs) {
    if (j.src->local) finish_job(j);
  }

  // The overall peak: firing alerts of all rules at the same moment (each group's count holds
  // until its next slot).
  std::vector<std::tuple<Millis, size_t, size_t>> ev;  // (ts, job, count)
  for (size_t i = 0; i < jobs.size(); ++i) {
    for (size_t k = 0; k < jobs[i].slots.size(); ++k) ev.emplace_back(jobs[i].slots[k], i, jobs[i].firing_now[k]);
  }
  std::sort(ev.begin(), ev.end());
  std::vector<size_t> cur(jobs.size(), 0);
  size_t total = 0;
  for (size_t e = 0; e < ev.size(); ++e) {
    auto [ts, i, n] = ev[e];
    total = total - cur[i] + n;
    cur[i] = n;
    if (e + 1 < ev.size() && std::get<0>(ev[e + 1]) == ts) continue;
    if (total > out.peak_firing) {
      out.peak_firing = total;
      out.peak_at = ts;
    }
  }
  for (auto& j : jobs) {
    out.evaluations += j.slots.size();
    for (auto& r : j.reports) out.rules.push_back(std::move(r));
  }
  out.range_queries = range_queries.load();
  out.direct_queries = direct.load();
  return out;
}

}  // namespace ruleeval::engine::replay
