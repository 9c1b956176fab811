#include "ruleeval/engine/online_lint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "ruleeval/engine/querier_rule.hpp"
#include "ruleeval/engine/replay_report.hpp"
#include "ruleeval/engine/scheduler.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/parser/template_analyze.hpp"
#include "ruleeval/rules/label_analysis.hpp"

namespace ruleeval::engine {
namespace {

using rules::Diagnostic;
using rules::Pos;
using rules::Severity;

std::string dur(Millis ms) { return ms <= 0 ? "0s" : format_duration(ms); }

// Position of byte `off` of the rule's expression in the file.
Pos expr_pos(const rules::RuleFile& f, const rules::Rule& r, uint32_t off) {
  uint32_t line = 1, col = 1;
  const std::string& s = r.expr.value;
  for (uint32_t i = 0; i < off && i < s.size(); ++i) {
    if (s[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return rules::map_into_scalar(r.expr, f, line, col);
}

// The selector without offset/@, as PromQL text; `extra` adds one matcher.
std::string selector_text(const promql::VectorSelector& vs,
                          const promql::LabelMatcher* extra = nullptr) {
  promql::VectorSelector copy = vs;
  copy.offset = 0;
  copy.offset_expr.reset();
  copy.at = {};
  if (extra) copy.matchers.insert(copy.matchers.begin(), *extra);
  return promql::format(*promql::make_expr(std::move(copy)));
}

std::string name_selector(std::string_view metric) {
  std::string s = "{__name__=\"";
  for (char c : metric) {
    if (c == '"' || c == '\\') s += '\\';
    s += c;
  }
  return s + "\"}";
}

template <class Fn>
void parallel(size_t n, size_t workers, Fn&& fn) {
  workers = std::max<size_t>(1, std::min(workers, n));
  std::atomic<size_t> next{0};
  auto work = [&](size_t w) {
    for (size_t i = 0; (i = next.fetch_add(1)) < n;) fn(i, w);
  };
  std::vector<std::thread> ts;
  for (size_t i = 1; i < workers; ++i) ts.emplace_back(work, i);
  work(0);
  for (auto& t : ts) t.join();
}

// One rule's findings.
struct RuleJob {
  const rules::RuleFile* file;
  const rules::RuleGroup* group;
  const rules::Rule* rule;
  std::vector<Diagnostic> out;
};

class Checker {
 public:
  Checker(HttpQuerier& q, const OnlineLintOptions& o, const std::set<std::string, std::less<>>& recorded)
      : q_(q), o_(o), recorded_(recorded) {}

  // Number of series (-1 on a failed query, with the error in `err`).
  double count(const std::string& expr, std::string* err, Millis t) {
    auto r = q_.query(fmt::format("count({})", expr), t);
    if (!r) {
      if (err) *err = r.error().to_string();
      return -1;
    }
    if (auto* v = std::get_if<Vector>(&r->value); v && !v->empty()) return v->front().v;
    return 0;
  }

  // The scrape interval of a selector's series, measured from the data: the median gap between
  // the raw samples of one of its series over the last 5 minutes (0 when unknown).
  Millis scrape_interval(const promql::VectorSelector& vs) {
    auto one = q_.query(fmt::format("topk(1, {})", selector_text(vs)), o_.now);
    if (!one) return 0;
    auto* v = std::get_if<Vector>(&one->value);
    if (!v || v->empty()) return 0;
    std::string sel = "{";
    for (const auto& l : v->front().metric) {
      std::string val;
      for (char c : l.value) {
        if (c == '"' || c == '\\') val += '\\';
        if (c == '\n') {
          val += "\\n";
          continue;
        }
        val += c;
      }
      sel += fmt::format("{}{}=\"{}\"", sel.size() > 1 ? "," : "", l.name, val);
    }
    sel += "}[5m]";
    auto raw = q_.query(sel, o_.now);
    if (!raw) return 0;
    auto* m = std::get_if<Matrix>(&raw->value);
    if (!m || m->empty() || m->front().points.size() < 2) return 0;
    std::vector<Millis> gaps;
    const auto& pts = m->front().points;
    for (size_t i = 1; i < pts.size(); ++i) gaps.push_back(pts[i].t - pts[i - 1].t);
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<long>(gaps.size() / 2), gaps.end());
    const Millis g = gaps[gaps.size() / 2];
    return g >= 1000 ? (g + 500) / 1000 * 1000 : g;  // scrape timestamps jitter by a few ms
  }

  void check(RuleJob& j) {
    const rules::Rule& r = *j.rule;
    if (!r.ast) return;
    auto add = [&](std::string check, Severity sev, std::string msg, Pos p) {
      Diagnostic d;
      d.check = std::move(check);
      d.severity = sev;
      d.message = std::move(msg);
      d.where = SourceLocation{j.file->path, p.line, p.col};
      d.group = j.group->name;
      d.rule = r.name;
      j.out.push_back(std::move(d));
    };
    const std::string lb = dur(o_.lookback);
    std::vector<std::pair<const promql::VectorSelector*, uint32_t>> selectors;
    promql::walk(*r.ast, [&](const promql::Expr& e) {
      if (const auto* vs = e.as<promql::VectorSelector>()) selectors.emplace_back(vs, e.span.begin);
    });
    // Selectors with data (for the label check), by text.
    std::vector<const promql::VectorSelector*> live;
    for (const auto& [vs, off] : selectors) {
      if (vs->name.empty() || recorded_.contains(vs->name)) continue;
      const Pos p = expr_pos(*j.file, r, off);
      const std::string sel = selector_text(*vs);
      std::string err;
      double n = count(sel, &err, o_.now);
      if (n < 0) {
        add("promql/series", Severity::Warning, fmt::format("cannot check {}: {}", sel, err), p);
        continue;
      }
      if (n > 0) {
        live.push_back(vs);
        continue;
      }
      // Within the lookback?
      std::string within = fmt::format("last_over_time({}[{}])", sel, lb);
      if (count(within, nullptr, o_.now) > 0) live.push_back(vs);
      double metric_now = count(name_selector(vs->name), nullptr, o_.now);
      if (metric_now > 0) {
        // The metric exists; the matchers match nothing. Say which values exist.
        std::string detail;
        for (const auto& m : vs->matchers) {
          if (m.name == "__name__") continue;
          auto res = q_.query(fmt::format("count by ({}) ({})", m.name, name_selector(vs->name)),
                              o_.now);
          if (!res) continue;
          std::vector<std::string> values;
          bool without = false;
          if (auto* v = std::get_if<Vector>(&res->value)) {
            for (const auto& s : *v) {
              auto val = s.metric.get(m.name);
              if (val.empty()) {
                without = true;
              } else {
                values.emplace_back(val);
              }
            }
          }
          std::sort(values.begin(), values.end());
          std::string list;
          for (size_t i = 0; i < values.size() && i < 10; ++i) {
            list += fmt::format("{}{:?}", i ? ", " : "", values[i]);
          }
          if (values.size() > 10) list += fmt::format(", … ({} values)", values.size());
          if (values.empty()) {
            detail += fmt::format("; no {} series has a label {}", vs->name, m.name);
          } else {
            detail += fmt::format("; {} has {}{}", m.name, list,
                                  without ? " (and series without it)" : "");
          }
        }
        add("promql/series", Severity::Warning,
            fmt::format("{} matches no series now although {} exists: its label matchers match "
                        "nothing{}",
                        sel, vs->name, detail),
            p);
        continue;
      }
      // When was the metric last seen? A range query of its count, one point per step.
      const Millis step = std::max<Millis>(60'000, o_.lookback / 1000);
      auto rr = q_.query_range(
          fmt::format("count(last_over_time({}[{}]))", name_selector(vs->name), dur(step)),
          o_.now - o_.lookback, o_.now, step);
      Millis last = kNoTime;
      if (rr) {
        if (auto* m = std::get_if<Matrix>(&rr->value)) {
          for (const auto& s : *m) {
            if (!s.points.empty()) last = std::max(last, s.points.back().t);
          }
        }
      }
      if (is_set(last)) {
        add("promql/series", Severity::Warning,
            fmt::format("{} is not present now; {} was last seen around {} ({} ago)", sel,
                        vs->name, replay::rfc3339(last), dur(o_.now - last)),
            p);
      } else {
        add("promql/series", Severity::Error,
            fmt::format("{} has not been seen in the last {}: the metric {} does not exist on "
                        "the backend",
                        sel, lb, vs->name),
            p);
      }
    }

    // promql/rate_range: window vs the scrape interval measured from the data.
    promql::walk(*r.ast, [&](const promql::Expr& e) {
      const auto* call = e.as<promql::Call>();
      if (!call || call->args.empty()) return;
      std::string_view fn = call->func->name;
      if (fn != "rate" && fn != "irate" && fn != "increase" && fn != "deriv") return;
      const auto* m = call->args[0]->as<promql::MatrixSelector>();
      if (!m || m->range <= 0) return;
      const auto* vs = m->vector->as<promql::VectorSelector>();
      if (!vs || vs->name.empty() || recorded_.contains(vs->name)) return;
      const Millis scrape = scrape_interval(*vs);
      if (scrape <= 0) return;
      if (m->range < 4 * scrape) {
        add("promql/rate_range", Severity::Warning,
            fmt::format("{}() over [{}] is shorter than 4x the scrape interval of {} ({} measured "
                        "from the data); use at least [{}]",
                        fn, dur(m->range), vs->name, dur(scrape), dur(4 * scrape)),
            expr_pos(*j.file, r, e.span.begin));
      }
    });

    // alerts/template: $labels.x that the series never carry.
    if (!r.is_alert() || live.empty()) return;
    const rules::LabelSetInfo out = rules::output_labels(*r.ast);
    std::map<std::string, bool> carried;  // label -> carried by some live selector's series
    auto check_kvs = [&](const std::vector<rules::KeyValue>& kvs, std::string_view what) {
      for (const auto& kv : kvs) {
        if (!kv.tmpl) continue;
        for (const auto& ref : tmpl::analyze(*kv.tmpl).labels) {
          if (!out.can_have(ref.name)) continue;  // the offline check reports these
          if (!out.open || out.known.contains(ref.name)) continue;
          auto [it, fresh] = carried.try_emplace(ref.name, false);
          if (fresh) {
            for (const auto* vs : live) {
              promql::LabelMatcher nonempty;
              nonempty.op = promql::MatchOp::NotEqual;
              nonempty.name = ref.name;
              std::string sel = selector_text(*vs, &nonempty);
              if (count(fmt::format("last_over_time({}[{}])", sel, lb), nullptr, o_.now) != 0) {
                it->second = true;
                break;
              }
            }
          }
          if (it->second) continue;
          Pos p = ref.where.line != 0
                      ? rules::map_into_scalar(kv.value, *j.file, ref.where.line, ref.where.col)
                      : kv.value.pos;
          add("alerts/template", Severity::Warning,
              fmt::format("{} \"{}\" uses $labels.{} but none of the query's series carried that "
                          "label in the last {}",
                          what, kv.key, ref.name, lb),
              p);
        }
      }
    };
    check_kvs(r.labels, "label");
    check_kvs(r.annotations, "annotation");
  }

 private:
  HttpQuerier& q_;
  const OnlineLintOptions& o_;
  const std::set<std::string, std::less<>>& recorded_;
};

// Borrowed HttpRuleQueriers for the replay (one per concurrent caller).
class QuerierPool {
 public:
  explicit QuerierPool(HttpClientConfig c) : cfg_(std::move(c)) {}
  void with(const std::function<void(RuleQuerier&, const AppendFn&)>& fn) {
    std::unique_ptr<HttpRuleQuerier> q;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        q = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!q) q = std::make_unique<HttpRuleQuerier>(cfg_);
    fn(*q, [](const Labels&, Millis, double) {});
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(q));
  }

 private:
  HttpClientConfig cfg_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpRuleQuerier>> idle_;
};

}  // namespace

Result<std::vector<rules::Diagnostic>> online_lint(
    const std::vector<const rules::RuleFile*>& files, const OnlineLintOptions& opts) {
  {
    HttpQuerier probe(opts.backend);
    auto r = probe.query("vector(1)", opts.now);
    if (!r) {
      return make_error(fmt::format("cannot reach the datasource {}: {}", opts.backend.url,
                                    r.error().to_string()));
    }
  }
  std::set<std::string, std::less<>> recorded;
  std::vector<RuleJob> jobs;
  for (const auto* f : files) {
    for (const auto& g : f->groups) {
      for (const auto& r : g.rules) {
        if (!r.is_alert()) recorded.insert(r.name);
        jobs.push_back(RuleJob{f, &g, &r, {}});
      }
    }
  }
  const size_t workers = std::max<size_t>(1, opts.concurrency);
  std::vector<std::unique_ptr<HttpQuerier>> queriers(std::min(workers, std::max<size_t>(1, jobs.size())));
  parallel(jobs.size(), workers, [&](size_t i, size_t w) {
    if (!queriers[w]) queriers[w] = std::make_unique<HttpQuerier>(opts.backend);
    Checker c(*queriers[w], opts, recorded);
    c.check(jobs[i]);
  });
  std::vector<rules::Diagnostic> out;
  for (auto& j : jobs) std::move(j.out.begin(), j.out.end(), std::back_inserter(out));

  // alerts/count: the replay engine over the lookback.
  QuerierPool pool(opts.backend);
  std::vector<RuleManager::ReplaySource> sources;
  for (const auto* f : files) {
    for (const auto& g : f->groups) {
      RuleManager::ReplaySource s;
      s.group = &g;
      s.file = f->path;
      s.interval = g.interval.ms > 0 ? g.interval.ms : opts.default_interval;
      s.offset = group_offset(group_hash(f->path, g.name), ms_to_ns(s.interval));
      s.env.interval = s.interval;
      s.env.query_offset = g.query_offset.ms;
      s.env.write_alert_series = false;
      s.with_querier = [&pool](const std::function<void(RuleQuerier&, const AppendFn&)>& fn) {
        pool.with(fn);
      };
      sources.push_back(std::move(s));
    }
  }
  replay::ReplayOptions ro;
  ro.from = opts.now - opts.lookback;
  ro.to = opts.now;
  ro.concurrency = workers;
  ro.rule_filter = [](const rules::Rule& r) { return r.is_alert(); };
  auto rep = replay::run_replay(sources, ro);
  if (!rep) return make_error(rep.error().message);
  const double days = static_cast<double>(opts.lookback) / (24 * 3600'000.0);
  for (const auto& rr : rep->rules) {
    // Find the rule for its position.
    const rules::RuleFile* file = nullptr;
    const rules::Rule* rule = nullptr;
    for (const auto* f : files) {
      if (f->path != rr.file) continue;
      for (const auto& g : f->groups) {
        if (g.name != rr.group) continue;
        for (const auto& r : g.rules) {
          if (r.name == rr.rule && r.is_alert() && !rule) {
            rule = &r;
            file = f;
          }
        }
      }
    }
    if (!rule) continue;
    Diagnostic d;
    d.check = "alerts/count";
    const double per_day = days > 0 ? static_cast<double>(rr.firing_starts) / days : 0;
    d.severity = per_day > opts.pages_per_day_budget ? Severity::Warning : Severity::Info;
    d.message = fmt::format(
        "would have fired {} time(s) in the last {} ({:.1f} per day{}), {} pending-only, {} "
        "flap(s), firing {} in total{}",
        rr.firing_starts, dur(opts.lookback), per_day,
        d.severity == Severity::Warning
            ? fmt::format(", above the budget of {:g}", opts.pages_per_day_budget)
            : "",
        rr.pending_only, rr.flaps, dur(rr.firing_ms),
        rr.failed_evaluations ? fmt::format(" ({} evaluation(s) failed)", rr.failed_evaluations)
                              : "");
    d.where = SourceLocation{file->path, rule->name_pos.line, rule->name_pos.col};
    d.group = rr.group;
    d.rule = rr.rule;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace ruleeval::engine
