// Rule generation, Sloth's shape rule for rule (sli_rules, metadata_rules, alert_rules plugins of
// Sloth v0.16), and serialisation as go-yaml v2 writes it.
#include <algorithm>
#include <regex>
#include <set>
#include <tuple>

#include "goyaml.hpp"
#include "ruleeval/common/go_format.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/slo/slo.hpp"

namespace ruleeval::slo {

namespace {

StrMap merge(StrMap a, const StrMap& b) {
  for (const auto& [k, v] : b) a[k] = v;
  return a;
}

std::string window_str(int64_t ms) { return prom_duration(ms); }

std::string render_window(const std::string& tpl, const std::string& window) {
  std::string out;
  size_t last = 0;
  for (auto [pos, len] = find_window_var(tpl, 0); pos != std::string::npos; std::tie(pos, len) = find_window_var(tpl, last)) {
    out += tpl.substr(last, pos - last) + window;
    last = pos + len;
  }
  return out + tpl.substr(last);
}

StrMap id_labels(const Slo& s) {
  return {{"sloth_id", s.id}, {"sloth_service", s.service}, {"sloth_slo", s.name}};
}

std::string filter(const Slo& s) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : id_labels(s)) {
    if (!first) out += ", ";
    first = false;
    out += k + "=" + go_quote(v);
  }
  return out + "}";
}

std::string sli_metric(int64_t window_ms) { return "slo:sli_error:ratio_rate" + window_str(window_ms); }

std::vector<Tier> make_tiers(const Windows& w) {
  auto t = [&](const char* id, const char* sev, const Window& x) {
    Tier r;
    r.id = id;
    r.severity = sev;
    r.short_ms = x.short_ms;
    r.long_ms = x.long_ms;
    r.factor = burn_factor(w.period_ms, x.budget_percent, x.long_ms);
    return r;
  };
  return {t("page-quick", "page", w.page_quick), t("page-slow", "page", w.page_slow),
          t("ticket-quick", "ticket", w.ticket_quick), t("ticket-slow", "ticket", w.ticket_slow)};
}

Rule alert_rule(const Slo& s, const AlertMeta& meta, const Tier& quick, const Tier& slow,
                double budget_ratio) {
  std::string f = filter(s);
  std::string eb = format_go_float(budget_ratio, 6);
  auto line = [&](int64_t win, double factor) {
    return "    max(" + sli_metric(win) + f + " > (" + format_go_float(factor, 6) + " * " + eb +
           ")) without (sloth_window)\n";
  };
  Rule r;
  r.alert = meta.name;
  r.expr = "(\n" + line(quick.short_ms, quick.factor) + "    and\n" + line(quick.long_ms, quick.factor) +
           ")\nor\n(\n" + line(slow.short_ms, slow.factor) + "    and\n" + line(slow.long_ms, slow.factor) + ")\n";
  const std::string& sev = quick.severity;
  r.annotations = merge(
      {{"title", "(" + sev + ") {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is too fast."},
       {"summary", "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected."}},
      meta.annotations);
  r.labels = merge({{"sloth_severity", sev}}, meta.labels);
  return r;
}

Result<SloResult> generate_sloth(const Slo& in, const SpecDoc& doc, const GenerateOptions& opts) {
  SloResult res;
  res.slo = in;
  Slo& s = res.slo;
  s.labels = merge(s.labels, opts.extra_labels);
  const Windows* w = opts.windows->find(s.period_ms);
  if (!w) {
    std::string known;
    for (auto p : opts.windows->periods()) known += (known.empty() ? "" : ", ") + window_str(p);
    return make_error("the " + window_str(s.period_ms) + " SLO period time window is not supported (windows are defined for " + known + "; add an AlertWindows file with --slo-period-windows-path)", s.where);
  }
  auto tiers = make_tiers(*w);
  double error_budget = 100 - s.objective;
  res.error_budget_ratio = error_budget / 100;
  StrMap base = merge(id_labels(s), s.labels);

  // SLI recordings: the unique windows, sorted, then the period (optimised from the shortest).
  std::set<int64_t> wins;
  for (const auto& t : tiers) {
    wins.insert(t.short_ms);
    wins.insert(t.long_ms);
  }
  Group sli{"sloth-slo-sli-recordings-" + s.id, "", {}};
  for (int64_t win : wins) {
    if (win == s.period_ms) continue;
    Rule r;
    r.record = sli_metric(win);
    std::string ws = window_str(win);
    if (s.sli == SliKind::Events)
      r.expr = render_window("(" + s.error_query + ")\n/\n(" + s.total_query + ")\n", ws);
    else
      r.expr = render_window("(" + s.error_ratio_query + ")", ws);
    r.labels = merge(base, {{"sloth_window", ws}});
    sli.rules.push_back(std::move(r));
  }
  {
    std::string f = filter(s), ws = window_str(s.period_ms), m = sli_metric(tiers[0].short_ms);
    if (s.period_ms == tiers[0].short_ms)
      return make_error("can't optimize using the same shortwindow as the window to optimize", s.where);
    Rule r;
    r.record = sli_metric(s.period_ms);
    r.expr = "sum_over_time(" + m + f + "[" + ws + "])\n/ ignoring (sloth_window)\ncount_over_time(" + m + f + "[" + ws + "])\n";
    r.labels = merge(base, {{"sloth_window", ws}});
    sli.rules.push_back(std::move(r));
  }

  Group meta{"sloth-slo-meta-recordings-" + s.id, "", {}};
  {
    double ratio = s.objective / 100;
    std::string f = filter(s);
    auto burn = [&](int64_t win) {
      return sli_metric(win) + f + "\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio" + f + "\n";
    };
    auto add = [&](std::string rec, std::string expr) {
      meta.rules.push_back(Rule{std::move(rec), "", std::move(expr), "", base, {}});
    };
    add("slo:objective:ratio", "vector(" + format_go_float(ratio, 6) + ")");
    add("slo:error_budget:ratio", "vector(1-" + format_go_float(ratio, 6) + ")");
    // NOLINTNEXTLINE(bugprone-integer-division): Go's Duration.Hours/Seconds split, truncation intended
    double days = (static_cast<double>(s.period_ms / 3'600'000) + static_cast<double>(s.period_ms % 3'600'000) / 3.6e6) / 24;
    add("slo:time_period:days", "vector(" + format_go_float(days, 6) + ")");
    add("slo:current_burn_rate:ratio", burn(tiers[0].short_ms));
    add("slo:period_burn_rate:ratio", burn(s.period_ms));
    add("slo:period_error_budget_remaining:ratio", "1 - slo:period_burn_rate:ratio" + f);
    const char* mode = doc.kind == SpecKind::SlothK8s ? "cli-gen-k8s"
                       : doc.kind == SpecKind::OpenSLO ? "cli-gen-openslo"
                                                       : "cli-gen-prom";
    add("sloth_slo_info", "vector(1)");
    meta.rules.back().labels = merge(base, {{"sloth_version", opts.version},
                                            {"sloth_mode", mode},
                                            {"sloth_spec", spec_kind_name(doc.kind)},
                                            {"sloth_objective", format_go_float_fixed(s.objective)}});
  }

  Group alerts{"sloth-slo-alerts-" + s.id, "", {}};
  if (!s.page.disable) alerts.rules.push_back(alert_rule(s, s.page, tiers[0], tiers[1], res.error_budget_ratio));
  if (!s.ticket.disable) alerts.rules.push_back(alert_rule(s, s.ticket, tiers[2], tiers[3], res.error_budget_ratio));

  if (!opts.disable_recordings) {
    res.groups.push_back(std::move(sli));
    res.groups.push_back(std::move(meta));
  }
  if (!opts.disable_alerts && !alerts.rules.empty()) {
    res.groups.push_back(std::move(alerts));
    for (const auto& t : tiers) {
      if ((t.severity == "page" && !s.page.disable) || (t.severity == "ticket" && !s.ticket.disable))
        res.tiers.push_back(t);
    }
  }
  return res;
}

}  // namespace

Result<SloResult> generate_pyrra(const Slo& in, const GenerateOptions& opts);  // pyrra.cpp

Result<DocResult> generate(const SpecDoc& doc, const GenerateOptions& opts) {
  DocResult out;
  out.doc = &doc;
  for (const auto& s : doc.slos) {
    Result<SloResult> r = doc.kind == SpecKind::Pyrra ? generate_pyrra(s, opts) : generate_sloth(s, doc, opts);
    if (!r) return std::unexpected(r.error());
    out.slos.push_back(std::move(*r));
  }
  size_t n = 0;
  for (const auto& s : out.slos) n += s.groups.size();
  if (n == 0) return make_error("0 SLO Prometheus rules generated (every alert and recording is disabled)", doc.where);
  return out;
}

namespace {

void render_rule(std::string& out, const Rule& r, int indent, bool k8s) {
  // The first key goes after "- ".
  std::vector<std::pair<std::string, const void*>> fields;
  std::string pad(static_cast<size_t>(indent), ' ');
  bool first = true;
  auto key = [&](const std::string& k, const std::string& v) {
    if (first) {
      out += pad.substr(0, pad.size() - 2) + "- ";
      out += k + ": ";
      yaml::scalar(out, v, indent + 2, indent + static_cast<int>(k.size()) + 2);
      first = false;
    } else {
      yaml::key_value(out, indent, k, v);
    }
  };
  auto map = [&](const std::string& k, const StrMap& m) {
    if (m.empty()) return;
    yaml::string_map(out, indent, k, m);
  };
  if (k8s) {  // sorted keys: alert, annotations, expr, for, labels, record
    if (!r.alert.empty()) key("alert", r.alert);
    if (!r.annotations.empty()) {
      if (first) {
        out += pad.substr(0, pad.size() - 2) + "- annotations:\n";
        first = false;
        std::vector<std::string> ks;
        for (const auto& [k, _] : r.annotations) ks.push_back(k);
        std::stable_sort(ks.begin(), ks.end(), yaml::go_key_less);
        for (const auto& k : ks) yaml::key_value(out, indent + 2, k, r.annotations.at(k));
      } else {
        map("annotations", r.annotations);
      }
    }
    key("expr", r.expr);
    if (!r.for_.empty()) key("for", r.for_);
    map("labels", r.labels);
    if (!r.record.empty()) key("record", r.record);
  } else {  // rulefmt.Rule order: record, alert, expr, for, labels, annotations
    if (!r.record.empty()) key("record", r.record);
    if (!r.alert.empty()) key("alert", r.alert);
    key("expr", r.expr);
    if (!r.for_.empty()) key("for", r.for_);
    map("labels", r.labels);
    map("annotations", r.annotations);
  }
}

void render_groups(std::string& out, const std::vector<Group>& groups, int indent, bool k8s) {
  std::string pad(static_cast<size_t>(indent), ' ');
  for (const auto& g : groups) {
    if (k8s && !g.interval.empty()) {
      out += pad + "- interval: " + g.interval + "\n";
      yaml::key_value(out, indent + 2, "name", g.name);
    } else {
      out += pad + "- name: ";
      yaml::scalar(out, g.name, indent + 4, indent + 8);
      if (!g.interval.empty()) out += pad + "  interval: " + g.interval + "\n";
    }
    out += pad + "  rules:\n";
    for (const auto& r : g.rules) render_rule(out, r, indent + 4, k8s);
  }
}

const char* kHeader =
    "\n---\n# Code generated by ruleeval slo (Sloth-compatible rules).\n# DO NOT EDIT.\n\n";

}  // namespace

std::string render_groups_yaml(const std::vector<Group>& groups) {
  std::string out = "groups:\n";
  render_groups(out, groups, 0, false);
  return out;
}

std::string render(const DocResult& res, const GenerateOptions& opts) {
  std::vector<Group> groups;
  for (const auto& s : res.slos)
    for (const auto& g : s.groups) groups.push_back(g);
  (void)opts;
  std::string out = kHeader;
  if (res.doc->kind == SpecKind::Pyrra) out = "\n---\n# Code generated by ruleeval slo (Pyrra-compatible burn-rate rules).\n# DO NOT EDIT.\n\n";
  bool k8s = res.doc->kind == SpecKind::SlothK8s;
  if (!k8s) return out + render_groups_yaml(groups);
  out += "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n";
  if (!res.doc->k8s_annotations.empty()) yaml::string_map(out, 2, "annotations", res.doc->k8s_annotations);
  StrMap labels = merge(res.doc->k8s_labels, {{"app.kubernetes.io/component", "SLO"}, {"app.kubernetes.io/managed-by", "sloth"}});
  yaml::string_map(out, 2, "labels", labels);
  yaml::key_value(out, 2, "name", res.doc->k8s_name);
  if (!res.doc->k8s_namespace.empty()) yaml::key_value(out, 2, "namespace", res.doc->k8s_namespace);
  out += "spec:\n  groups:\n";
  render_groups(out, groups, 2, true);
  return out;
}

}  // namespace ruleeval::slo
