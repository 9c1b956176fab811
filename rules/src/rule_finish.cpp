#include "rule_finish.hpp"
#include "metricsql.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "fmt/format.h"
#include "ruleeval/parser/condition.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/parser/template_parse.hpp"

namespace ruleeval::rules {

void finish_rule_kind(YamlContext& ctx, Rule& rule, const Scalar& record, const Scalar& alert,
                      const std::string& group) {
  const bool has_record = record.present && !record.value.empty();
  const bool has_alert = alert.present && !alert.value.empty();
  if (has_record && has_alert) {
    rule.kind = RuleKind::Alerting;
    rule.name = alert.value;
    rule.name_pos = alert.pos;
    ctx.error("rule/format", "only one of 'record' and 'alert' must be set", record.pos, group,
              rule.name);
  } else if (has_record) {
    rule.kind = RuleKind::Recording;
    rule.name = record.value;
    rule.name_pos = record.pos;
  } else if (has_alert) {
    rule.kind = RuleKind::Alerting;
    rule.name = alert.value;
    rule.name_pos = alert.pos;
  } else {
    rule.name_pos = rule.pos;
    ctx.error("rule/format", "one of 'record' or 'alert' must be set", rule.pos, group, "");
  }
}

void check_grafana_spec(YamlContext& ctx, const Rule& rule, const GrafanaSpec& spec,
                        const std::string& group) {
  if (!spec.query.present || spec.query.value.empty()) {
    ctx.error("rule/format", "a Grafana-style rule needs `query` (the PromQL of query A)",
              rule.pos, group, rule.name);
  }
  if (spec.condition.present) {
    if (spec.threshold || spec.recover || spec.range_pos.known() || spec.reduce_pos.known()) {
      ctx.error("rule/format",
                "`condition` already says how to reduce and compare; drop range, reduce, "
                "threshold and recover",
                spec.condition.pos, group, rule.name);
    }
  } else if (!spec.threshold) {
    ctx.error("rule/format", "a Grafana-style rule needs `threshold` or `condition`", rule.pos,
              group, rule.name);
  }
  if (spec.recover && !spec.threshold) {
    ctx.error("rule/format", "`recover` needs a `threshold`", spec.recover->pos, group, rule.name);
  }
}

namespace {

struct ControlComment {
  uint32_t line = 0;
  bool own_line = false;  // the comment is alone on its line
  std::vector<std::string> checks;
};

// Finds `# ruleeval disable <check>[, <check>...]` comments.
std::vector<ControlComment> scan_control_comments(YamlContext& ctx, std::string_view text) {
  std::vector<ControlComment> out;
  constexpr std::string_view kMarker = "ruleeval disable";
  size_t at = 0;
  while ((at = text.find(kMarker, at)) != std::string_view::npos) {
    const size_t line_start = text.rfind('\n', at) == std::string_view::npos
                                  ? 0
                                  : text.rfind('\n', at) + 1;
    size_t line_end = text.find('\n', at);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::string_view before = text.substr(line_start, at - line_start);
    const size_t hash = before.rfind('#');
    const size_t marker_at = at;
    at = line_end;
    if (hash == std::string_view::npos) continue;
    // Only whitespace between '#' and the marker.
    if (before.substr(hash + 1).find_first_not_of(" \t") != std::string_view::npos) continue;
    ControlComment c;
    const auto& starts = ctx.file().line_starts;
    c.line = static_cast<uint32_t>(std::upper_bound(starts.begin(), starts.end(), line_start) -
                                   starts.begin());
    c.own_line = before.substr(0, hash).find_first_not_of(" \t") == std::string_view::npos;
    std::string_view rest = text.substr(marker_at + kMarker.size(), line_end - marker_at - kMarker.size());
    std::string cur;
    for (char ch : rest) {
      if (ch == ' ' || ch == '\t' || ch == ',' || ch == '\r') {
        if (!cur.empty()) c.checks.push_back(std::move(cur));
        cur.clear();
      } else {
        cur += ch;
      }
    }
    if (!cur.empty()) c.checks.push_back(std::move(cur));
    if (c.checks.empty()) {
      ctx.report("ruleeval/comment", Severity::Warning,
                 "`# ruleeval disable` needs the name of a check, e.g. `# ruleeval disable "
                 "alerts/for`",
                 Pos{c.line, static_cast<uint32_t>(line_start + hash <= marker_at ? hash + 1 : 1)},
                 "", "");
      continue;
    }
    out.push_back(std::move(c));
  }
  return out;
}

// Templates already parsed for this file, by dialect (Grafana DAG or Prometheus) and text: big
// rule files repeat the same annotation texts (summary/description/runbook_url) across hundreds
// of rules. A hit shares the parsed nodes (Template::shared_root) under the rule's own name
// (`__alert_<rule>`, the only thing the rule name changes in a parse). Failures are not kept
// (their message names the rule).
// One cache for the file's parsing threads (a per-thread cache parsed every distinct text once
// per thread): look-ups and inserts under a mutex, parses outside it (two threads may both parse
// a text the first time; the first insert wins, both results are correct).
class TemplateCache {
 public:
  std::shared_ptr<const tmpl::Template> find(bool grafana, const std::string& text) {
    std::lock_guard lock(mu_);
    auto& m = by_text_[grafana ? 1 : 0];
    auto it = m.find(text);
    return it == m.end() ? nullptr : it->second;
  }
  // Returns the cached template: `t`, or the one another thread stored first for this text.
  std::shared_ptr<const tmpl::Template> add(bool grafana, const std::string& text,
                                            const std::shared_ptr<const tmpl::Template>& t) {
    std::lock_guard lock(mu_);
    return by_text_[grafana ? 1 : 0].try_emplace(text, t).first->second;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const tmpl::Template>> by_text_[2];
};

void parse_rule(const YamlContext& ctx, const RuleFile& file, const std::string& group,
                Rule& rule, std::vector<Diagnostic>& diags, TemplateCache& cache) {
  auto add = [&](std::string check, std::string msg, Pos p) {
    Diagnostic d;
    d.check = std::move(check);
    d.severity = Severity::Error;
    d.message = std::move(msg);
    d.where = ctx.location(p);
    d.group = group;
    d.rule = rule.name;
    diags.push_back(std::move(d));
  };
  if (rule.expr.present && !rule.expr.value.empty()) {
    auto parsed =
        promql::parse(rule.expr.value, promql::parse_options_for(ctx.opts().experimental_promql));
    if (parsed) {
      rule.ast = std::shared_ptr<const promql::Expr>(std::move(*parsed));
    } else {
      const auto& e = parsed.error();
      auto mql = file.metricsql ? find_metricsql_function(rule.expr.value) : std::nullopt;
      if (mql) {
        // One clear error per expression instead of the parse error the function causes.
        add("promql/syntax",
            fmt::format("MetricsQL function {} is not PromQL", mql->name),
            map_into_scalar(rule.expr, file, mql->line, mql->col));
      } else {
        add("promql/syntax", fmt::format("could not parse expression: {}", e.message),
            map_into_scalar(rule.expr, file, e.where.line, e.where.col));
      }
    }
  }
  if (rule.grafana && rule.grafana->condition.present) {
    const Scalar& cond = rule.grafana->condition;
    auto parsed = classic::parse_conditions(cond.value);
    if (!parsed) {
      const auto& w = parsed.error().where;
      const Pos p = rule.grafana->from_provisioning
                        ? cond.pos
                        : map_into_scalar(cond, file, 1, w.col == 0 ? 1 : w.col);
      add("rule/format", fmt::format("invalid condition: {}", parsed.error().message), p);
    } else {
      for (const auto& c : parsed->items) {
        if (c.ref_id != "A") {
          add("rule/format",
              fmt::format("condition uses query({}); the rule's `query` is query A", c.ref_id),
              map_into_scalar(cond, file, 1, c.col));
        }
      }
    }
  }
  if (rule.kind != RuleKind::Alerting) return;
  auto parse_values = [&](std::vector<KeyValue>& kvs, std::string_view what) {
    for (auto& kv : kvs) {
      if (!kv.value.present) continue;
      // Plain text (no action) cannot fail to parse and renders as itself: keep no tree.
      if (kv.value.value.find("{{") == std::string::npos) continue;
      // Grafana's template data: $labels, $values (refId -> {Labels, Value}) and $value.
      const bool grafana = rule.grafana && rule.grafana->dag;
      if (auto hit = cache.find(grafana, kv.value.value)) {
        // Without {{define}}s the rule's name only shows in execution errors, and renderers
        // pass it (tmpl::RenderOptions::name): the whole template is shared. Definitions are
        // checked against the template's own name, so those get a renamed copy.
        if (hit->defines.empty()) {
          kv.tmpl = std::move(hit);
        } else {
          auto copy = std::make_shared<tmpl::Template>(*hit);
          copy->name = fmt::format("__alert_{}", rule.name);
          kv.tmpl = std::move(copy);
        }
        continue;
      }
      auto t = [&] {
        if (!grafana) return tmpl::parse_alert_template(kv.value.value, rule.name);
        tmpl::ParseOptions gopts;
        gopts.name = fmt::format("__alert_{}", rule.name);
        gopts.prefix = "{{$labels := .Labels}}{{$values := .Values}}{{$value := .Value}}";
        return tmpl::parse(kv.value.value, gopts);
      }();
      if (t) {
        if (t->defines.empty() && !t->root.empty()) {
          t->shared_root = std::make_shared<const std::vector<tmpl::Node>>(std::move(t->root));
          t->root = {};
        }
        kv.tmpl = std::make_shared<const tmpl::Template>(std::move(*t));
        // Two threads may parse a text the first time: both keep the first one stored.
        if (auto stored = cache.add(grafana, kv.value.value, kv.tmpl); stored->defines.empty()) {
          kv.tmpl = std::move(stored);
        }
      } else {
        const auto& w = t.error().where;
        Pos p = w.known() ? map_into_scalar(kv.value, file, w.line, w.col) : kv.value.pos;
        add("alerts/template", fmt::format("{} \"{}\": {}", what, kv.key, t.error().message), p);
      }
    }
  };
  parse_values(rule.labels, "label");
  parse_values(rule.annotations, "annotation");
}

}  // namespace

void finish_file(YamlContext& ctx) {
  RuleFile& file = ctx.file();
  std::vector<std::pair<const RuleGroup*, Rule*>> all;
  all.reserve(file.rule_count());
  for (auto& g : file.groups) {
    for (auto& r : g.rules) all.emplace_back(&g, &r);
  }
  // Extents: a rule runs until the line before the next rule or group.
  std::vector<uint32_t> starts;
  for (const auto& g : file.groups) {
    starts.push_back(g.pos.line);
    for (const auto& r : g.rules) starts.push_back(r.pos.line);
  }
  std::sort(starts.begin(), starts.end());
  // The newlines are counted already when the lines are indexed (std::count went byte by byte
  // over the whole file: ~1.5% of linting 10,000 rules).
  uint32_t eof_line =
      file.line_starts.empty()
          ? static_cast<uint32_t>(std::count(file.text.begin(), file.text.end(), '\n'))
          : static_cast<uint32_t>(file.line_starts.size() - 1);
  if (file.text.empty() || file.text.back() != '\n') ++eof_line;
  for (auto& [g, r] : all) {
    auto next = std::upper_bound(starts.begin(), starts.end(), r->pos.line);
    r->last_line = next == starts.end() ? eof_line : *next - 1;
  }
  // Control comments: alone on a line they apply to the next rule, after code to that rule.
  // (memmem: string::find stops at every 'r' of a multi-megabyte file, ~2% of linting 10k rules)
  constexpr std::string_view kDisable = "ruleeval disable";
  if (::memmem(file.text.data(), file.text.size(), kDisable.data(), kDisable.size()) != nullptr) {
    for (const auto& c : scan_control_comments(ctx, file.text)) {
      Rule* target = nullptr;
      for (auto& [g, r] : all) {
        if (c.own_line ? r->pos.line >= c.line : (r->pos.line <= c.line && c.line <= r->last_line)) {
          target = r;
          break;
        }
      }
      if (target == nullptr) continue;
      for (const auto& name : c.checks) target->disabled_checks.push_back(name);
    }
  }
  // PromQL and templates, in parallel for big files.
  unsigned threads = ctx.opts().threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  if (all.size() < 256) threads = 1;
  threads = std::min<unsigned>(threads, 16);
  std::vector<std::vector<Diagnostic>> diags(threads);
  TemplateCache cache;
  auto work = [&](unsigned t) {
    for (size_t i = t; i < all.size(); i += threads) {
      parse_rule(ctx, file, all[i].first->name, *all[i].second, diags[t], cache);
    }
  };
  if (threads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
  }
  for (auto& d : diags) {
    for (auto& x : d) ctx.report(std::move(x.check), x.severity, std::move(x.message),
                                 Pos{x.where.line, x.where.col}, std::move(x.group),
                                 std::move(x.rule));
  }
}

}  // namespace ruleeval::rules
