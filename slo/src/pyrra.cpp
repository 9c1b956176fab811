// Pyrra (pyrra.dev/v1alpha1 ServiceLevelObjective) rules, as Pyrra's `generate` writes them
// (slo/rules.go, performanceOverAccuracy off): first the "<name>-increase" group
// (IncreaseRules(): increase/count/sum recordings over the SLO window and the absent alerts), then
// the "<name>" group (Burnrates(): one <metric>:burnrate<window> recording per window and four
// ErrorBudgetBurn alerts, factors 14, 7, 2, 1 with windows scaled to the SLO window, `for`,
// short/long/severity/exhaustion labels). Pyrra's optional generic rules are not generated.
#include <algorithm>
#include <cmath>
#include <set>

#include "goyaml.hpp"
#include "ruleeval/common/go_format.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/slo/slo.hpp"

namespace ruleeval::slo {

namespace {

// Go's time.Duration.String() for whole milliseconds: 2m0s, 1h0m0s, 1.5s.
std::string go_duration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  int64_t h = ms / 3'600'000, m = (ms / 60'000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
  if (h) out += std::to_string(h) + "h";
  if (h || m) out += std::to_string(m) + "m";
  out += std::to_string(s);
  if (frac) {
    std::string f = std::to_string(1000 + frac).substr(1);
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + "s";
}

int64_t round_minute(double ms) {
  // Go's Duration.Round(time.Minute): halves away from zero.
  return static_cast<int64_t>(std::floor(ms / 60'000.0 + 0.5)) * 60'000;
}

// A metric selector as Pyrra keeps it: the name and every matcher, the implicit
// __name__="<name>" one included (Prometheus's parser appends it last).
struct Sel {
  std::string name;
  std::vector<promql::LabelMatcher> matchers;
};

Result<Sel> selector(const std::string& s, const SourceLocation& where, const char* what) {
  auto e = promql::parse_series_selector(s);
  if (!e) return make_error(std::string(what) + ": invalid metric selector \"" + s + "\"", where);
  const auto* vs = (*e)->as<promql::VectorSelector>();
  if (vs == nullptr || vs->name.empty()) return make_error(std::string(what) + ": a metric name is required in \"" + s + "\"", where);
  return Sel{vs->name, vs->matchers};
}

// labels.Matcher.String(): name, operator, strconv.Quote(value).
std::string matcher_str(const promql::LabelMatcher& m) {
  return m.name + std::string(promql::to_string(m.op)) + go_quote(m.value);
}

// parser.VectorSelector.String(): the name, then the matchers sorted as strings, without the
// __name__ matcher that repeats the name.
std::string sel_str(const Sel& s) {
  std::vector<std::string> ms;
  for (const auto& m : s.matchers) {
    if (m.name == "__name__" && m.op == promql::MatchOp::Equal && m.value == s.name) continue;
    ms.push_back(matcher_str(m));
  }
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) return s.name;
  std::string out = s.name + "{";
  for (size_t i = 0; i < ms.size(); ++i) out += (i ? "," : "") + ms[i];
  return out + "}";
}

std::string trim_suffix(std::string s, std::string_view suf) {
  if (s.ends_with(suf)) s.resize(s.size() - suf.size());
  return s;
}

// BurnrateName's metric: _total, then _count, trimmed.
std::string burnrate_metric(const std::string& name) { return trim_suffix(trim_suffix(name, "_total"), "_count"); }
// increaseName: _total, _count, then _bucket, trimmed.
std::string increase_name(const std::string& name, int64_t window_ms) {
  return trim_suffix(burnrate_metric(name), "_bucket") + ":increase" + prom_duration(window_ms);
}

// increaseInterval(): the -increase group's evaluation interval grows with the SLO window.
int64_t increase_interval(int64_t window_ms) {
  const int64_t day = 86'400'000;
  const int64_t limits[] = {7, 14, 21, 28, 35, 42, 49};
  int64_t interval = 30'000;
  for (int64_t l : limits) {
    if (window_ms < l * day) return interval;
    interval += 30'000;
  }
  return interval;  // 240s for 8w and more
}

// `sum by (a, b) (` or `sum(`: AggregateExpr.String() drops an empty grouping.
std::string sum_open(const std::vector<std::string>& grouping) {
  if (grouping.empty()) return "sum(";
  std::string by = "sum by (";
  for (size_t i = 0; i < grouping.size(); ++i) by += (i ? ", " : "") + grouping[i];
  return by + ") (";
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

bool is_regex(const promql::LabelMatcher& m) {
  return m.op == promql::MatchOp::Regex || m.op == promql::MatchOp::NotRegex;
}

// groupingLabels(): labels the errors selector matches on that the total one does not, but `le`.
std::vector<std::string> extra_error_labels(const Sel& errors, const Sel& total) {
  std::vector<std::string> out;
  for (const auto& m : errors.matchers) {
    bool in_total = std::any_of(total.matchers.begin(), total.matchers.end(), [&](const auto& t) { return t.name == m.name; });
    if (!in_total && m.name != "le") out.push_back(m.name);
  }
  return out;
}

// The labels of the metric's equality matchers (not __name__) added to `base`.
StrMap with_equal_matchers(StrMap base, const Sel& s) {
  for (const auto& m : s.matchers)
    if (m.op == promql::MatchOp::Equal && m.name != "__name__") base[m.name] = m.value;
  return base;
}

struct W {
  std::string sev;
  int64_t short_ms, long_ms, for_ms;
  double factor;
};

// Windows(sloWindow): scaled from 28d.
std::vector<W> pyrra_windows(int64_t period_ms) {
  double w = static_cast<double>(period_ms);
  return {
      {"critical", round_minute(w / (28 * 24 * 12)), round_minute(w / (28 * 24)), round_minute(w / (28 * 24 * 30)), 14},
      {"critical", round_minute(w / (28 * 24 * 2)), round_minute(w / (28 * 4)), round_minute(w / (28 * 24 * 4)), 7},
      {"warning", round_minute(w / (28 * 12)), round_minute(w / 28), round_minute(w / (28 * 24)), 2},
      {"warning", round_minute(w / (28 * 4)), round_minute(w / 7), round_minute(w / (28 * 8)), 1},
  };
}

// AbsentDuration(): the time the fastest tier needs to fire when every request fails, plus its
// `for`, rounded to the minute.
int64_t absent_duration(const W& w, double target) {
  double threshold = w.factor * (1 - target);
  // NOLINTNEXTLINE(bugprone-integer-division): Pyrra's whole seconds, truncation intended
  auto secs = static_cast<int64_t>(threshold * static_cast<double>(w.long_ms / 1000));
  return round_minute(static_cast<double>(secs * 1000 + w.for_ms));
}

}  // namespace

Result<SloResult> generate_pyrra(const Slo& in, const GenerateOptions& opts) {
  SloResult res;
  res.slo = in;
  const Slo& s = res.slo;
  const PyrraIndicator& ind = s.pyrra;
  const std::string& slo_name = s.name;
  const double target = s.objective / 100;

  std::vector<W> ws = pyrra_windows(s.period_ms);
  for (const auto& x : ws)
    if (x.short_ms <= 0) return make_error("the SLO window " + prom_duration(s.period_ms) + " is too short for Pyrra's windows", s.where);
  std::set<int64_t> rates;
  for (const auto& x : ws) {
    rates.insert(x.short_ms);
    rates.insert(x.long_ms);
  }

  Sel total, errors;
  switch (ind.kind) {
    case PyrraIndicator::Ratio:
    case PyrraIndicator::Latency: {
      auto t = selector(ind.total, s.where, "total");
      if (!t) return std::unexpected(t.error());
      auto e = selector(ind.errors, s.where, ind.kind == PyrraIndicator::Ratio ? "errors" : "success");
      if (!e) return std::unexpected(e.error());
      total = *t;
      errors = *e;
      break;
    }
    case PyrraIndicator::LatencyNative:
    case PyrraIndicator::BoolGauge: {
      auto t = selector(ind.metric, s.where, "metric");
      if (!t) return std::unexpected(t.error());
      total = *t;
      break;
    }
    case PyrraIndicator::None:
      return make_error("the Pyrra indicator is missing", s.where);
  }
  double latency_secs = 0;
  if (ind.kind == PyrraIndicator::LatencyNative) {
    auto lat = parse_duration(ind.latency);
    if (!lat || *lat <= 0) return make_error("latencyNative.latency: a positive duration is required, got \"" + ind.latency + "\"", s.where);
    latency_secs = ms_to_seconds(*lat);
  }

  // commonRuleLabels / commonRuleAnnotations: the pyrra.dev/ labels and annotations of the object.
  StrMap common = {{"slo", slo_name}};
  for (const auto& [k, v] : s.labels)
    if (k.starts_with("pyrra.dev/")) common[k.substr(10)] = v;
  for (const auto& [k, v] : opts.extra_labels) common[k] = v;
  StrMap annotations;
  for (const auto& [k, v] : s.pyrra_annotations)
    if (k.starts_with("pyrra.dev/")) annotations[k.substr(10)] = v;

  const std::vector<std::string> grouping = sorted_unique(ind.grouping);
  auto grouped = [&](const std::string& l) { return std::find(grouping.begin(), grouping.end(), l) != grouping.end(); };
  const bool alerts = !opts.disable_alerts;

  // ---- the -increase group ---------------------------------------------------------------------
  Group inc{slo_name + "-increase", prom_duration(increase_interval(s.period_ms)), {}};
  const std::string W = "[" + prom_duration(s.period_ms) + "]";
  auto absent_alert = [&](const Sel& sel, StrMap labels) {
    labels["severity"] = "critical";
    return Rule{"", s.pyrra_absent_name, "absent(" + sel_str(sel) + ") == 1",
                prom_duration(absent_duration(ws[0], target)), std::move(labels), annotations};
  };
  const bool absent = s.pyrra_absent_alerts && alerts;
  switch (ind.kind) {
    case PyrraIndicator::Ratio:
    case PyrraIndicator::Latency: {
      std::vector<std::string> g = grouping;
      for (auto& l : extra_error_labels(errors, total)) g.push_back(l);
      for (const auto& m : total.matchers)
        if (is_regex(m)) g.push_back(m.name);
      g = sorted_unique(g);
      StrMap labels = with_equal_matchers(common, total);
      for (const auto& l : g) labels.erase(l);
      auto increase = [&](const Sel& sel) { return sum_open(g) + "increase(" + sel_str(sel) + W + "))"; };
      if (ind.kind == PyrraIndicator::Ratio) {
        inc.rules.push_back(Rule{increase_name(total.name, s.period_ms), "", increase(total), "", labels, {}});
        if (absent) inc.rules.push_back(absent_alert(total, labels));
        if (errors.name != total.name) {
          inc.rules.push_back(Rule{increase_name(errors.name, s.period_ms), "", increase(errors), "", labels, {}});
          if (absent) inc.rules.push_back(absent_alert(errors, labels));
        }
      } else {
        std::string le;
        for (const auto& m : errors.matchers)
          if (m.name == "le") {
            le = m.value;
            break;
          }
        StrMap labels_le = labels;
        labels_le["le"] = le;
        inc.rules.push_back(Rule{increase_name(total.name, s.period_ms), "", increase(total), "", labels, {}});
        inc.rules.push_back(Rule{increase_name(errors.name, s.period_ms), "", increase(errors), "", labels_le, {}});
        if (absent) {
          inc.rules.push_back(absent_alert(total, labels));
          inc.rules.push_back(absent_alert(errors, labels_le));
        }
      }
      break;
    }
    case PyrraIndicator::LatencyNative: {
      // Pyrra keeps this grouping as written (no sort) and no absent alert.
      StrMap labels = with_equal_matchers(common, total);
      const std::string sum = sum_open(ind.grouping) + "increase(" + sel_str(total) + W + "))";
      const std::string name = increase_name(total.name, s.period_ms);
      inc.rules.push_back(Rule{name, "", "histogram_count(" + sum + ")", "", labels, {}});
      StrMap labels_le = labels;
      labels_le["le"] = format_go_float(latency_secs, 6);  // fmt's %g
      inc.rules.push_back(Rule{name, "", "histogram_fraction(0, " + format_go_float_fixed(latency_secs) + ", " + sum +
                                             ") * histogram_count(" + sum + ")", "", labels_le, {}});
      break;
    }
    case PyrraIndicator::BoolGauge: {
      // Every label the metric selector names is grouped by, __name__ included (Pyrra's
      // increaseRuleBoolGauge over the matchers its parser returns).
      std::vector<std::string> g = grouping;
      for (const auto& m : total.matchers) g.push_back(m.name);
      g = sorted_unique(g);
      StrMap labels = with_equal_matchers(common, total);
      for (const auto& l : g) labels.erase(l);
      const std::string sel = sel_str(total) + W + "))";
      inc.rules.push_back(Rule{total.name + ":count" + prom_duration(s.period_ms), "", sum_open(g) + "count_over_time(" + sel, "", labels, {}});
      inc.rules.push_back(Rule{total.name + ":sum" + prom_duration(s.period_ms), "", sum_open(g) + "sum_over_time(" + sel, "", labels, {}});
      if (absent) inc.rules.push_back(absent_alert(total, labels));
      break;
    }
    case PyrraIndicator::None:
      break;
  }

  // ---- the burn-rate group ---------------------------------------------------------------------
  const std::string metric_for_name = burnrate_metric(total.name);
  const std::string sum = sum_open(grouping);
  StrMap rule_labels = common;
  for (const auto& m : total.matchers)
    if (m.op == promql::MatchOp::Equal && m.name != "__name__" && !grouped(m.name)) rule_labels[m.name] = m.value;

  auto burnrate = [&](int64_t win) -> std::string {
    const std::string r = "[" + prom_duration(win) + "]";
    auto agg = [&](const std::string& fn, const Sel& sel) { return sum + fn + "(" + sel_str(sel) + r + "))"; };
    switch (ind.kind) {
      case PyrraIndicator::Ratio:
        return agg("rate", errors) + " / " + agg("rate", total);
      case PyrraIndicator::Latency:
        return "(" + agg("rate", total) + " - " + agg("rate", errors) + ") / " + agg("rate", total);
      case PyrraIndicator::LatencyNative:
        return "1 - histogram_fraction(0, " + format_go_float_fixed(latency_secs) + ", " + agg("rate", total) + ")";
      case PyrraIndicator::BoolGauge:
        return "(" + agg("count_over_time", total) + " - " + agg("sum_over_time", total) + ") / " +
               agg("count_over_time", total);
      case PyrraIndicator::None:
        break;
    }
    return "";
  };
  auto name_of = [&](int64_t win) { return metric_for_name + ":burnrate" + prom_duration(win); };

  Group g{slo_name, "30s", {}};
  for (int64_t r : rates) g.rules.push_back(Rule{name_of(r), "", burnrate(r), "", rule_labels, {}});

  res.error_budget_ratio = 1 - target;
  if (s.pyrra_burnrate_alerts && alerts) {
    std::vector<std::string> am;
    for (const auto& m : total.matchers) {
      if (m.name == "__name__") continue;
      if (!grouped(m.name) && is_regex(m)) continue;
      am.push_back(matcher_str(m));
    }
    am.push_back("slo=\"" + slo_name + "\"");  // Pyrra's fmt.Sprintf(`slo="%s"`)
    std::sort(am.begin(), am.end());
    std::string ms;
    for (size_t i = 0; i < am.size(); ++i) ms += (i ? "," : "") + am[i];
    const std::string tgt = format_go_float_fixed(target);
    for (const auto& x : ws) {
      char f[32];
      std::snprintf(f, sizeof f, "%.0f", x.factor);
      Rule r;
      r.alert = s.pyrra_alert_name;
      r.expr = name_of(x.short_ms);
      r.expr.append("{").append(ms).append("} > (").append(f).append(" * (1-").append(tgt).append(")) and ")
          .append(name_of(x.long_ms)).append("{").append(ms).append("} > (").append(f).append(" * (1-")
          .append(tgt).append("))");
      // The ratio alerts print `for` with time.Duration (2m0s), the others with model.Duration.
      r.for_ = ind.kind == PyrraIndicator::Ratio ? go_duration(x.for_ms) : prom_duration(x.for_ms);
      r.labels = rule_labels;
      r.labels["short"] = prom_duration(x.short_ms);
      r.labels["long"] = prom_duration(x.long_ms);
      r.labels["severity"] = x.sev;
      // NOLINTNEXTLINE(bugprone-integer-division): Pyrra's whole seconds, truncation intended
      r.labels["exhaustion"] = prom_duration(static_cast<int64_t>(static_cast<double>(s.period_ms / 1000) / x.factor) * 1000);
      r.annotations = annotations;
      g.rules.push_back(std::move(r));
      Tier t;
      t.id = prom_duration(x.short_ms) + "/" + prom_duration(x.long_ms);
      t.severity = x.sev;
      t.short_ms = x.short_ms;
      t.long_ms = x.long_ms;
      t.for_ms = x.for_ms;
      t.factor = x.factor;
      res.tiers.push_back(t);
    }
  }
  for (Group* grp : {&inc, &g}) {
    if (opts.disable_recordings) std::erase_if(grp->rules, [](const Rule& r) { return !r.record.empty(); });
    if (!grp->rules.empty()) res.groups.push_back(std::move(*grp));
  }
  return res;
}

}  // namespace ruleeval::slo
