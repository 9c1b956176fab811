// promtool-format unit tests for generated SLO rules.
//
// The input series are the raw series the SLI query reads (errors and total counters, latency
// buckets, gauges), so every test evaluates the SLI recording rules and the alert rules end to
// end. sli_model finds which series the query reads and how to mix them into a given error ratio;
// a burn profile over time then sets the error ratio of each window at the evaluation time. Per
// tier: both windows just above the factor, just below, only the long window above and only the
// short one above; plus a recovery case, and for Pyrra the absent alerts with no input at all.
// What each case expects is simulated here from the profile (window averages, every tier of every
// alert, `for` at each evaluation step), not taken from the case's intent.
//
// When the SLI query cannot be turned into raw series (unsupported PromQL, native histograms,
// recordings disabled, windows not in whole minutes, {{$value}} in an annotation), the tests of
// that SLO feed the SLI recordings instead, and the file says so in a comment.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <regex>
#include <set>

#include "goyaml.hpp"
#include "ruleeval/common/go_format.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/slo/slo.hpp"
#include "sli_model.hpp"

namespace ruleeval::slo {

namespace {

constexpr int64_t kMin = 60'000;
// evaluation_interval, minutes: the tests hold days of 1m samples; the alerts are checked at
// these steps only, so a coarse step keeps promtool fast without changing what is tested.
constexpr int64_t kEvalMs = 3'600'000;
constexpr double kPerStep = 6000;         // counter increments per input sample
constexpr double kBase = 100000;          // counters start here (no extrapolation to zero)

std::string num(double v) { return format_go_float_fixed(v); }

std::string series_str(const std::string& name, const StrMap& labels) {
  std::string s = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (k == "__name__") continue;
    s += (first ? "" : ",") + k + "=" + go_quote(v);
    first = false;
  }
  return s + "}";
}

Result<std::string> expand(const std::string& tpl, const StrMap& labels, double value, const std::string& what) {
  static const std::regex re(R"(\{\{-?\s*(\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\.Labels\.([A-Za-z_][A-Za-z0-9_]*)|\$value|\.Value)\s*-?\}\})");
  if (tpl.size() > 4096) return make_error("cannot generate tests: " + what + " is longer than 4096 bytes");
  std::string out;
  auto begin = std::sregex_iterator(tpl.begin(), tpl.end(), re);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out += tpl.substr(last, static_cast<size_t>(m.position(0)) - last);
    std::string name = m[2].matched ? m[2].str() : m[3].str();
    if (!name.empty()) {
      auto l = labels.find(name);
      out += l == labels.end() ? "<no value>" : l->second;
    } else {
      out += format_go_float(value, 6);
    }
    last = static_cast<size_t>(m.position(0) + m.length(0));
  }
  out += tpl.substr(last);
  if (out.find("{{") != std::string::npos)
    return make_error("cannot generate tests: " + what + " uses template syntax other than {{$labels.x}} and {{$value}}");
  return out;
}

bool uses_value(const Rule& r) {
  for (const auto& [_, v] : r.annotations)
    if (std::regex_search(v, std::regex(R"(\{\{-?\s*(\$value|\.Value)\s*-?\}\})"))) return true;
  return false;
}

// One burn alert rule and the tiers its expression ORs together.
struct SimAlert {
  const Rule* rule = nullptr;
  std::vector<const Tier*> tiers;
  int64_t for_ms = 0;
};

// An expected firing alert: its rule, labels, and the labels/value its templates see.
struct Expect {
  const Rule* rule = nullptr;
  StrMap labels, expr_labels;
  double value = 0;
};

struct Check {
  int64_t at_ms = 0;
  std::vector<Expect> firing;
};

struct Case {
  std::string name;
  int64_t unit = kMin;  // input sample interval
  std::vector<std::pair<std::string, std::string>> series;  // selector, values
  std::vector<Check> checks;
};

// The error-ratio profile of one case, minute by minute, and the window ratios the SLI query gives.
struct Profile {
  bool gauge = false;
  std::vector<double> p;   // p[k]: counters, the ratio of the increments into minute k; gauges, at sample k
  std::vector<double> sum;  // prefix sums

  void finish() {
    sum.assign(p.size() + 1, 0);
    for (size_t i = 0; i < p.size(); ++i) sum[i + 1] = sum[i] + p[i];
  }
  // Ratio over the window of `w` minutes ending at minute t (Prometheus 2's closed range [t-w, t]:
  // counters see the increments after t-w, gauges the samples from t-w).
  double ratio(int64_t t, int64_t w) const {
    int64_t lo = gauge ? std::max<int64_t>(0, t - w) : std::max<int64_t>(1, t - w + 1);
    int64_t hi = std::min<int64_t>(t, static_cast<int64_t>(p.size()) - 1);
    if (hi < lo) return NAN;
    return (sum[static_cast<size_t>(hi + 1)] - sum[static_cast<size_t>(lo)]) / static_cast<double>(hi - lo + 1);
  }
};

// Times and windows in input samples (`unit` ms each).
struct Sim {
  const Profile* prof = nullptr;
  double eb = 0;
  int64_t unit = kMin;
  double closest = std::numeric_limits<double>::infinity();  // min |ratio/threshold - 1| seen

  bool above(int64_t t, int64_t w, double thr) {
    double r = prof->ratio(t, w);
    if (std::isnan(r)) return false;
    closest = std::min(closest, std::fabs(r / thr - 1));
    return r > thr;
  }
  bool cond(const SimAlert& a, int64_t t) {
    bool any = false;
    for (const Tier* tier : a.tiers) {
      double thr = tier->factor * eb;
      bool s = above(t, tier->short_ms / unit, thr);
      bool l = above(t, tier->long_ms / unit, thr);
      any = any || (s && l);
    }
    return any;
  }
  // Firing at minute T: the condition held at every evaluation step of the last `for`.
  bool firing(const SimAlert& a, int64_t T) {
    const int64_t step = kEvalMs / unit;
    int64_t k = (a.for_ms + kEvalMs - 1) / kEvalMs;
    bool all = true;
    for (int64_t j = 0; j <= k; ++j) {
      int64_t t = T - j * step;
      if (t < 0) return false;
      all = cond(a, t) && all;
    }
    return all;
  }
};

int64_t round_up(int64_t v, int64_t step) { return (v + step - 1) / step * step; }

// The values of one input series over the profile: counters accumulate kPerMinute × mix per
// minute from kBase; gauges hold the mix.
std::string values_for(const Profile& prof, double bad, double good) {
  auto mix = [&](double p) { return p * bad + (1 - p) * good; };
  std::string out;
  double v = prof.gauge ? mix(prof.p[0]) : kBase;
  out = num(v);
  size_t k = 1;
  while (k < prof.p.size()) {
    size_t j = k;
    while (j + 1 < prof.p.size() && prof.p[j + 1] == prof.p[k]) ++j;
    const size_t m = j - k + 1;
    if (prof.gauge) {
      out += " " + num(mix(prof.p[k])) + "+0x" + std::to_string(m - 1);
    } else {
      // Multiples of 1/1024: every sum is exact, so a counter never steps back by a rounding error
      // (which Prometheus would read as a reset).
      double d = std::round(kPerStep * mix(prof.p[k]) * 1024) / 1024;
      out += " " + num(v + d) + "+" + num(d) + "x" + std::to_string(m - 1);
      v += d * static_cast<double>(m);
    }
    k = j + 1;
  }
  return out;
}

// Labels of an absent() result: its equality matchers but __name__ (a name matched twice is dropped).
StrMap absent_labels(const std::string& expr) {
  StrMap out;
  auto e = promql::parse(expr);
  if (!e) return out;
  std::set<std::string> twice;
  promql::walk(**e, [&](const promql::Expr& x) {
    if (const auto* vs = x.as<promql::VectorSelector>())
      for (const auto& m : vs->matchers) {
        if (m.op != promql::MatchOp::Equal || m.name == "__name__") continue;
        if (out.contains(m.name)) twice.insert(m.name);
        out[m.name] = m.value;
      }
  });
  for (const auto& n : twice) out.erase(n);
  return out;
}

StrMap overlay(StrMap a, const StrMap& b) {
  for (const auto& [k, v] : b) a[k] = v;
  return a;
}

struct SloTests {
  const SloResult* r = nullptr;
  bool pyrra = false;
  std::vector<SimAlert> alerts;
  std::vector<const Rule*> absents;
  const Rule* sli = nullptr;  // the SLI recording of the shortest window
  std::set<std::string> burn_names, absent_names;
  int64_t unit = kMin;  // the input series' sample interval
};

SloTests collect(const SloResult& r, bool pyrra) {
  SloTests st;
  st.r = &r;
  st.pyrra = pyrra;
  int64_t shortest = std::numeric_limits<int64_t>::max();
  for (const auto& t : r.tiers) shortest = std::min(shortest, t.short_ms);
  for (const auto& g : r.groups) {
    const bool increase = pyrra && g.name.ends_with("-increase");
    const bool alerts = pyrra ? !increase : g.name.starts_with("sloth-slo-alerts-");
    size_t tier = 0;
    for (const auto& rule : g.rules) {
      if (!rule.record.empty()) {
        const bool sli = pyrra ? !increase && rule.record.ends_with(":burnrate" + prom_duration(shortest))
                               : rule.record == "slo:sli_error:ratio_rate" + prom_duration(shortest);
        if (sli && st.sli == nullptr) st.sli = &rule;
        continue;
      }
      if (increase) {
        st.absents.push_back(&rule);
        st.absent_names.insert(rule.alert);
        continue;
      }
      if (!alerts) continue;
      SimAlert a;
      a.rule = &rule;
      if (pyrra) {
        if (tier < r.tiers.size()) {
          a.tiers.push_back(&r.tiers[tier]);
          a.for_ms = r.tiers[tier].for_ms;
        }
        ++tier;
      } else {
        auto sev = rule.labels.find("sloth_severity");
        for (const auto& t : r.tiers)
          if (sev != rule.labels.end() && t.severity == sev->second) a.tiers.push_back(&t);
      }
      if (a.tiers.empty()) continue;
      st.burn_names.insert(rule.alert);
      st.alerts.push_back(a);
    }
  }
  return st;
}

// ---- raw-series cases ------------------------------------------------------------------------

// Also picks the sample interval: the largest of 5m, 2m, 1m, 30s, 15s that divides every window,
// leaves at least 4 samples in the shortest (a range needs two with Prometheus 3's left-open
// windows too) and at most 9000 in the longest (promtool's test engine refuses queries that load
// more than 10000 samples).
std::optional<std::string> raw_unsupported(SloTests& st) {
  if (st.sli == nullptr) return "the SLI recordings are not generated (--disable-recordings)";
  int64_t shortest = std::numeric_limits<int64_t>::max(), longest = 0;
  std::vector<int64_t> wins;
  for (const auto& a : st.alerts) {
    if (uses_value(*a.rule)) return "an annotation of " + a.rule->alert + " uses {{$value}}";
    for (const Tier* t : a.tiers) {
      shortest = std::min(shortest, t->short_ms);
      longest = std::max(longest, t->long_ms);
      wins.push_back(t->short_ms);
      wins.push_back(t->long_ms);
    }
  }
  for (const auto& t : st.r->tiers) longest = std::max(longest, t.long_ms);
  for (int64_t u : std::initializer_list<int64_t>{5 * kMin, 2 * kMin, kMin, 30'000, 15'000}) {
    bool divides = std::all_of(wins.begin(), wins.end(), [&](int64_t w) { return w % u == 0; });
    if (divides && shortest >= 4 * u && longest / u <= 9000) {
      st.unit = u;
      return std::nullopt;
    }
  }
  return "its windows need more than 9000 or fewer than 4 input samples at every sample interval from 15s to 5m";
}

// The labels the alert expression gives (what its templates see) and the alert's labels.
std::pair<StrMap, StrMap> alert_labels(const SloTests& st, const SliModel& m, const Rule& alert) {
  StrMap expr = overlay(m.out_labels, st.sli->labels);
  expr.erase("sloth_window");
  return {expr, overlay(expr, alert.labels)};
}

std::vector<Case> raw_cases(const SloTests& st, const SliModel& m) {
  const SloResult& r = *st.r;
  std::vector<Case> out;
  const double eb = r.error_budget_ratio;
  // Every window of every tier lies in the input at the evaluation times: before the burn, the
  // error ratio is 0 (a window longer than the input would average only what it covers).
  int64_t longest = 0;
  const int64_t U = st.unit, step = kEvalMs / U;
  for (const auto& t : r.tiers) longest = std::max(longest, t.long_ms / U);
  for (const auto& alert : st.alerts) {
    for (const Tier* tier : alert.tiers) {
      const int64_t S = tier->short_ms / U, L = tier->long_ms / U;
      const double thr = tier->factor * eb;
      const int64_t C = round_up(longest + 1, step);
      const int64_t T = C + round_up((alert.for_ms + U - 1) / U, step);
      const std::string w = prom_duration(tier->short_ms) + "/" + prom_duration(tier->long_ms);
      const std::string f = format_go_float(tier->factor, 6) + "x";
      struct Want {
        std::string what;
        double a, b;  // short and long window ratios at C
        bool recovery;
      };
      std::vector<Want> wants = {
          {std::string(w).append(" error ratio just above ").append(f), thr * 1.01, thr * 1.01, false},
          {std::string(w).append(" error ratio just below ").append(f), thr * 0.99, thr * 0.99, false},
          {"only the long window " + prom_duration(tier->long_ms) + " above " + f, thr * 0.99, thr * 1.01, false},
          {"only the short window " + prom_duration(tier->short_ms) + " above " + f, thr * 1.01, thr * 0.99, false},
      };
      if (&alert == &st.alerts.front() && tier == alert.tiers.front())
        wants.push_back({std::string(w).append(" burn above ").append(f).append(" stops"), thr * 1.01, thr * 1.01, true});
      for (const auto& want : wants) {
        Profile prof;
        prof.gauge = m.gauge;
        // At C the short window covers [ws, C], the long one [wl, C] (indices of p).
        const int64_t ws = m.gauge ? C - S : C - S + 1, wl = m.gauge ? C - L : C - L + 1;
        const double ns = static_cast<double>(C - ws + 1), nl = static_cast<double>(C - wl + 1);
        const double x = (want.b * nl - want.a * ns) / (nl - ns);
        if (!(x >= 0 && x <= 1 && want.a <= 1 && want.b <= 1)) continue;  // not a ratio
        int64_t end = T;
        prof.p.assign(static_cast<size_t>(T + 1), 0);
        for (int64_t k = wl; k <= T; ++k) prof.p[static_cast<size_t>(k)] = k < ws ? x : want.a;
        // Without `for`, the short window is not flat: its newest half at half the ratio, the rest
        // higher, so that a shorter window (a mutated rule) sees a different ratio. Its oldest
        // sample keeps the average, so Prometheus 2 and 3 windows (with or without it) agree.
        const int64_t n = C - ws + 1, lo_n = (n - 1) / 2, hi_n = n - 1 - lo_n;
        if (alert.for_ms == 0 && lo_n > 0 && hi_n > 0) {
          const double lo = want.a / 2, hi = (want.a * static_cast<double>(n - 1) - lo * static_cast<double>(lo_n)) / static_cast<double>(hi_n);
          if (hi <= 1)
            for (int64_t k = ws + 1; k <= C; ++k) prof.p[static_cast<size_t>(k)] = k <= ws + hi_n ? hi : lo;
        }
        prof.finish();
        Sim sim{&prof, eb, U};
        Case c;
        c.name = r.slo.id + " " + tier->id + ": " + want.what;
        Check at_t{T * U, {}};
        for (const auto& a : st.alerts)
          if (sim.firing(a, T)) {
            auto [el, l] = alert_labels(st, m, *a.rule);
            at_t.firing.push_back({a.rule, l, el, want.a});
          }
        const bool mine = std::any_of(at_t.firing.begin(), at_t.firing.end(), [&](const Expect& e) { return e.rule == alert.rule; });
        std::vector<Check> checks = {at_t};
        if (want.recovery) {
          if (!mine) continue;
          // The burn stops at T: the first evaluation at which no alert fires any more.
          std::optional<int64_t> T2;
          for (int64_t t = T + step; t <= T + L + step * 10 && !T2; t += step) {
            prof.p.resize(static_cast<size_t>(t + 1), 0);
            prof.finish();
            bool any = std::any_of(st.alerts.begin(), st.alerts.end(), [&](const SimAlert& a) { return sim.firing(a, t); });
            if (!any) T2 = t;
          }
          if (!T2) continue;
          end = *T2;
          checks.push_back({*T2 * U, {}});
          c.name += mine ? ": fires, then resolves" : "";
        } else {
          c.name += mine ? ": fires" : ": is silent";
        }
        prof.p.resize(static_cast<size_t>(end + 1), 0);
        prof.finish();
        // Too close to a threshold for a stable test (Prometheus 3 drops the window's first sample).
        if (sim.closest < 3e-3) continue;
        for (size_t i = 0; i < m.series.size(); ++i)
          c.series.emplace_back(series_str(m.series[i].at("__name__"), m.series[i]), values_for(prof, m.bad[i], m.good[i]));
        c.checks = std::move(checks);
        c.unit = U;
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

// Pyrra's absent alerts: no input at all, every absent alert fires after its `for`.
std::optional<Case> absent_case(const SloTests& st) {
  if (st.absents.empty()) return std::nullopt;
  int64_t for_max = 0;
  for (const Rule* a : st.absents) {
    auto d = parse_duration(a->for_);
    for_max = std::max<int64_t>(for_max, d ? *d : 0);
  }
  Case c;
  c.name = st.r->slo.id + ": the SLI metrics are absent";
  Check chk{round_up(for_max, kEvalMs) + kEvalMs, {}};
  for (const Rule* a : st.absents) {
    StrMap el = absent_labels(a->expr);
    chk.firing.push_back({a, overlay(el, a->labels), el, 1});
  }
  c.checks.push_back(chk);
  return c;
}

// ---- recording-fed cases (the fallback) -------------------------------------------------------

std::vector<Case> recording_cases(const SloTests& st) {
  const SloResult& r = *st.r;
  std::vector<Case> out;
  StrMap base;
  std::string metric = "slo:sli_error:ratio_rate";
  if (st.pyrra) {
    const Rule* rec = nullptr;
    for (const auto& g : r.groups)
      for (const auto& rule : g.rules)
        if (!rule.record.empty() && rec == nullptr && !g.name.ends_with("-increase")) rec = &rule;
    if (rec == nullptr) return out;
    metric = rec->record.substr(0, rec->record.rfind(":burnrate") + 9);
    base = rec->labels;
  } else {
    base = {{"sloth_id", r.slo.id}, {"sloth_service", r.slo.service}, {"sloth_slo", r.slo.name}};
    for (const auto& [k, v] : r.slo.labels) base[k] = v;
  }
  int64_t max_for = 0;
  for (const auto& t : r.tiers) max_for = std::max(max_for, t.for_ms);
  const int64_t eval_step = kEvalMs / kMin;
  const int64_t eval_min = round_up(10 + max_for / kMin, eval_step), hold_min = eval_min + 2 * eval_step;
  const double eb = r.error_budget_ratio;
  auto name_of = [&](int64_t win) {
    StrMap l = base;
    if (!st.pyrra) l["sloth_window"] = prom_duration(win);
    return series_str(metric + prom_duration(win), l);
  };
  auto fired = [&](const std::map<int64_t, double>& values) {
    std::vector<Expect> f;
    for (const auto& a : st.alerts) {
      for (const Tier* t : a.tiers) {
        auto above = [&](int64_t w) { return values.contains(w) && values.at(w) > t->factor * eb; };
        if (above(t->short_ms) && above(t->long_ms)) {
          f.push_back({a.rule, overlay(base, a.rule->labels), base, values.at(t->short_ms)});
          break;
        }
      }
    }
    return f;
  };
  for (const auto& t : r.tiers) {
    const double thr = t.factor * eb;
    const std::string w = prom_duration(t.short_ms) + "/" + prom_duration(t.long_ms);
    const std::string f = format_go_float(t.factor, 6) + "x";
    struct Want {
      std::string what;
      double a, b;
    };
    std::vector<Want> wants = {{std::string(w).append(" just above ").append(f).append(" fires"), thr * 1.01, thr * 1.01},
                               {std::string(w).append(" just below ").append(f).append(" is silent"), thr * 0.99, thr * 0.99},
                               {"only the long window " + prom_duration(t.long_ms) + " above " + f + " is silent", thr * 0.99, thr * 1.01},
                               {"only the short window " + prom_duration(t.short_ms) + " above " + f + " is silent", thr * 1.01, thr * 0.99}};
    const bool first = &t == &r.tiers.front();
    if (first) wants.push_back({"recovers when the burn stops", thr * 1.01, thr * 1.01});
    for (size_t i = 0; i < wants.size(); ++i) {
      const bool recovery = first && i == 4;
      std::map<int64_t, double> values = {{t.short_ms, wants[i].a}, {t.long_ms, wants[i].b}};
      Case c;
      c.name = r.slo.id + " " + t.id + ": " + wants[i].what;
      for (const auto& [win, v] : values)
        c.series.emplace_back(name_of(win), recovery ? format_go_float(v, 6) + "x" + std::to_string(eval_min) + " 0x" + std::to_string(hold_min)
                                                     : format_go_float(v, 6) + "x" + std::to_string(hold_min));
      c.checks.push_back({eval_min * kMin, fired(values)});
      if (recovery) c.checks.push_back({(eval_min + eval_step) * kMin, {}});
      out.push_back(std::move(c));
    }
  }
  return out;
}

Result<void> emit(std::string& out, const Case& c, const std::set<std::string>& names) {
  out += "  - name: ";
  yaml::scalar(out, c.name, 6, 10);
  out += "    interval: " + prom_duration(c.unit) + "\n";
  if (c.series.empty()) {
    out += "    input_series: []\n";
  } else {
    out += "    input_series:\n";
    for (const auto& [sel, vals] : c.series) {
      out += "      - series: ";
      yaml::scalar(out, sel, 10, 16);
      out += "        values: ";
      yaml::scalar(out, vals, 10, 16);
    }
  }
  out += "    alert_rule_test:\n";
  for (const auto& chk : c.checks) {
    for (const auto& name : names) {
      out += "      - eval_time: " + prom_duration(chk.at_ms) + "\n";
      out += "        alertname: ";
      yaml::scalar(out, name, 10, 19);
      std::vector<const Expect*> mine;
      for (const auto& x : chk.firing)
        if (x.rule->alert == name) mine.push_back(&x);
      if (mine.empty()) {
        out += "        exp_alerts: []\n";
        continue;
      }
      out += "        exp_alerts:\n";
      for (const Expect* x : mine) {
        out += "          - exp_labels:\n";
        for (const auto& [k, v] : x->labels) yaml::key_value(out, 14, k, v);
        if (!x->rule->annotations.empty()) {
          out += "            exp_annotations:\n";
          for (const auto& [k, v] : x->rule->annotations) {
            auto e = expand(v, x->expr_labels, x->value, std::string("annotation \"").append(k).append("\" of alert ").append(name));
            if (!e) return std::unexpected(e.error());
            yaml::key_value(out, 14, k, *e);
          }
        }
      }
    }
  }
  return {};
}

}  // namespace

Result<std::string> generate_tests(const DocResult& res, const std::string& rule_file,
                                   const GenerateOptions&) {
  std::string out;
  out += "# Generated by ruleeval slo: unit tests of the SLO alerts (promtool test rules). The input\n";
  out += "# series are the raw series the SLI queries read, so the recording rules are tested too.\n";
  out += "rule_files:\n";
  out += "  - ";
  yaml::scalar(out, rule_file, 4, 4);
  out += "evaluation_interval: " + prom_duration(kEvalMs) + "\n";
  // promtool evaluates groups in a random order unless told: recordings before the alerts.
  out += "group_eval_order:\n";
  for (const auto& r : res.slos)
    for (const auto& g : r.groups) {
      out += "  - ";
      yaml::scalar(out, g.name, 4, 4);
    }
  out += "tests:\n";
  int n = 0;
  const bool pyrra = res.doc != nullptr && res.doc->kind == SpecKind::Pyrra;
  for (const auto& r : res.slos) {
    SloTests st = collect(r, pyrra);
    std::vector<Case> cases;
    std::set<std::string> names = st.burn_names;
    std::optional<std::string> why = raw_unsupported(st);
    std::optional<SliModel> model;
    if (!why) {
      auto m = derive_sli_model(st.sli->expr);
      if (m) model = std::move(*m);
      else why = m.error().message;
    }
    if (model) {
      cases = raw_cases(st, *model);
      names.insert(st.absent_names.begin(), st.absent_names.end());  // present series: silent
    } else if (!st.alerts.empty()) {
      out += "  # " + r.slo.id + ": these tests feed the SLI recordings, not the raw series: " + *why + ".\n";
      cases = recording_cases(st);
    }
    if (auto a = absent_case(st)) {
      cases.push_back(std::move(*a));
      names.insert(st.absent_names.begin(), st.absent_names.end());
    }
    for (const auto& c : cases) {
      ++n;
      if (auto ok = emit(out, c, names); !ok) {
        Error e = ok.error();
        e.where = r.slo.where;
        return std::unexpected(e);
      }
    }
  }
  if (n == 0) return make_error("no burn-rate alerts to test (alerts disabled)");
  return out;
}

}  // namespace ruleeval::slo
