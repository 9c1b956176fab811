// Pyrra (pyrra.dev/v1alpha1 ServiceLevelObjective) burn-rate rules, as Pyrra's
// Objective.Burnrates() builds them: one <metric>:burnrate<window> recording per window and four
// ErrorBudgetBurn alerts (factors 14, 7, 2, 1 with windows scaled to the SLO window, `for`,
// short/long/severity/exhaustion labels). Pyrra's "-increase" group (increase recordings and
// absent alerts) and its generic rules are not generated.
#include <algorithm>
#include <cmath>
#include <set>

#include "goyaml.hpp"
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

struct Sel {
  std::string name;
  std::vector<promql::LabelMatcher> matchers;  // without __name__, sorted by name
};

Result<Sel> selector(const std::string& s, const SourceLocation& where, const char* what) {
  auto e = promql::parse_series_selector(s);
  if (!e) return make_error(std::string(what) + ": invalid metric selector \"" + s + "\"", where);
  const auto* vs = (*e)->as<promql::VectorSelector>();
  if (vs == nullptr || vs->name.empty()) return make_error(std::string(what) + ": a metric name is required in \"" + s + "\"", where);
  Sel out{vs->name, {}};
  for (const auto& m : vs->matchers)
    if (m.name != "__name__") out.matchers.push_back(m);
  std::stable_sort(out.matchers.begin(), out.matchers.end(),
                   [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string quote(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string matcher_str(const promql::LabelMatcher& m) {
  return m.name + std::string(promql::to_string(m.op)) + quote(m.value);
}

std::string sel_str(const Sel& s) {
  std::string out = s.name;
  if (s.matchers.empty()) return out;
  out += "{";
  for (size_t i = 0; i < s.matchers.size(); ++i) out += (i ? "," : "") + matcher_str(s.matchers[i]);
  return out + "}";
}

std::string strip_suffix(std::string s) {
  for (std::string suf : {"_total", "_count"})
    if (s.size() > suf.size() && s.ends_with(suf)) s.resize(s.size() - suf.size());
  return s;
}

}  // namespace

Result<SloResult> generate_pyrra(const Slo& in, const GenerateOptions& opts) {
  SloResult res;
  res.slo = in;
  const Slo& s = res.slo;
  const PyrraIndicator& ind = s.pyrra;
  std::string slo_name = s.name;

  // Windows(sloWindow): scaled from 28d.
  double w = static_cast<double>(s.period_ms);
  struct W { std::string sev; int64_t short_ms, long_ms, for_ms; double factor; };
  std::vector<W> ws = {
      {"critical", round_minute(w / (28 * 24 * 12)), round_minute(w / (28 * 24)), round_minute(w / (28 * 24 * 30)), 14},
      {"critical", round_minute(w / (28 * 24 * 2)), round_minute(w / (28 * 4)), round_minute(w / (28 * 24 * 4)), 7},
      {"warning", round_minute(w / (28 * 12)), round_minute(w / 28), round_minute(w / (28 * 24)), 2},
      {"warning", round_minute(w / (28 * 4)), round_minute(w / 7), round_minute(w / (28 * 8)), 1},
  };
  for (const auto& x : ws)
    if (x.short_ms <= 0) return make_error("the SLO window " + prom_duration(s.period_ms) + " is too short for Pyrra's windows", s.where);
  std::set<int64_t> rates;
  for (const auto& x : ws) {
    rates.insert(x.short_ms);
    rates.insert(x.long_ms);
  }

  Sel total, errors;
  std::string metric_for_name;
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
  metric_for_name = strip_suffix(total.name);

  std::vector<std::string> grouping = ind.grouping;
  std::sort(grouping.begin(), grouping.end());
  grouping.erase(std::unique(grouping.begin(), grouping.end()), grouping.end());
  std::string by;
  if (!grouping.empty()) {
    by = " by (";
    for (size_t i = 0; i < grouping.size(); ++i) by += (i ? ", " : "") + grouping[i];
    by += ")";
  }
  const std::string sum_open = by.empty() ? std::string("sum(") : "sum" + by + " (";
  auto grouped = [&](const std::string& l) {
    return std::find(grouping.begin(), grouping.end(), l) != grouping.end();
  };

  StrMap common = {{"slo", slo_name}};
  for (const auto& [k, v] : s.labels)
    if (k.starts_with("pyrra.dev/")) common[k.substr(10)] = v;
  common = [&] {
    StrMap m = common;
    for (const auto& [k, v] : opts.extra_labels) m[k] = v;
    return m;
  }();

  StrMap rule_labels = common;
  for (const auto& m : total.matchers)
    if (m.op == promql::MatchOp::Equal && !grouped(m.name)) rule_labels[m.name] = m.value;

  auto burnrate = [&](int64_t win) -> std::string {
    const std::string r = "[" + prom_duration(win) + "]";
    auto sum = [&](const std::string& fn, const Sel& sel) { return sum_open + fn + "(" + sel_str(sel) + r + "))"; };
    switch (ind.kind) {
      case PyrraIndicator::Ratio:
        return sum("rate", errors) + " / " + sum("rate", total);
      case PyrraIndicator::Latency:
        return "(" + sum("rate", total) + " - " + sum("rate", errors) + ") / " + sum("rate", total);
      case PyrraIndicator::LatencyNative: {
        auto lat = parse_duration(ind.latency);
        double secs = lat ? static_cast<double>(*lat) / 1000 : 0;
        return "1 - histogram_fraction(0, " + go_float_f(secs) + ", " + sum("rate", total) + ")";
      }
      case PyrraIndicator::BoolGauge:
        return "(" + sum("count_over_time", total) + " - " + sum("sum_over_time", total) + ") / " +
               sum("count_over_time", total);
      case PyrraIndicator::None:
        break;
    }
    return "";
  };
  if (ind.kind == PyrraIndicator::LatencyNative) {
    auto lat = parse_duration(ind.latency);
    if (!lat || *lat <= 0) return make_error("latencyNative.latency: a positive duration is required, got \"" + ind.latency + "\"", s.where);
  }
  auto name_of = [&](int64_t win) { return metric_for_name + ":burnrate" + prom_duration(win); };

  Group g{slo_name, "30s", {}};
  for (int64_t r : rates) g.rules.push_back(Rule{name_of(r), "", burnrate(r), "", rule_labels, {}});

  if (s.pyrra_burnrate_alerts && !opts.disable_alerts) {
    std::vector<std::string> am;
    for (const auto& m : total.matchers) {
      if (!grouped(m.name) && (m.op == promql::MatchOp::Regex || m.op == promql::MatchOp::NotRegex)) continue;
      am.push_back(matcher_str(m));
    }
    am.push_back("slo=" + quote(slo_name));
    std::sort(am.begin(), am.end());
    std::string ms;
    for (size_t i = 0; i < am.size(); ++i) ms += (i ? "," : "") + am[i];
    std::string target = go_float_f(s.objective / 100);
    double eb = 1 - s.objective / 100;
    res.error_budget_ratio = eb;
    for (const auto& x : ws) {
      char f[32];
      std::snprintf(f, sizeof f, "%.0f", x.factor);
      Rule r;
      r.alert = s.pyrra_alert_name;
      r.expr = name_of(x.short_ms) + "{" + ms + "} > (" + f + " * (1-" + target + ")) and " + name_of(x.long_ms) + "{" +
               ms + "} > (" + f + " * (1-" + target + "))";
      r.for_ = go_duration(x.for_ms);
      r.labels = common;
      for (const auto& m : total.matchers)
        if (m.op == promql::MatchOp::Equal && !grouped(m.name)) r.labels[m.name] = m.value;
      r.labels["short"] = prom_duration(x.short_ms);
      r.labels["long"] = prom_duration(x.long_ms);
      r.labels["severity"] = x.sev;
      r.labels["exhaustion"] = prom_duration(static_cast<int64_t>(static_cast<double>(s.period_ms / 1000) / x.factor) * 1000);
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
  if (opts.disable_recordings) {
    std::erase_if(g.rules, [](const Rule& r) { return !r.record.empty(); });
  }
  if (!g.rules.empty()) res.groups.push_back(std::move(g));
  return res;
}

}  // namespace ruleeval::slo
