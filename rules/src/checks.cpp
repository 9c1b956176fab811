// The lint checks. promtool's `check rules` validations (rulefmt.Validate) come first, then the
// pint-style offline checks. Each check reports through Emitter with its default severity.
#include <algorithm>
#include <array>
#include <unordered_map>

#include "fmt/format.h"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/parser/promql_functions.hpp"
#include "ruleeval/parser/template_analyze.hpp"
#include "ruleeval/rules/label_analysis.hpp"
#include "ruleeval/rules/lint.hpp"
#include "slo_checks.hpp"

namespace ruleeval::rules {

namespace {

constexpr std::array<CheckInfo, 25> kChecks = {{
    {"yaml/parse", Severity::Error, "invalid YAML, wrong field types, unknown fields, duplicate keys"},
    {"rule/format", Severity::Error, "what promtool's rulefmt.Validate rejects"},
    {"promql/syntax", Severity::Error, "PromQL parse errors"},
    {"alerts/template", Severity::Error,
     "template syntax errors; $value/query in labels; labels the query cannot return"},
    {"grafana/unsupported", Severity::Error, "Grafana expressions ruleeval cannot evaluate"},
    {"grafana/math", Severity::Error, "Grafana math expression syntax errors"},
    {"grafana/dag", Severity::Error,
     "Grafana refIds: unknown, cyclic or duplicate refIds, a missing condition node"},
    {"grafana/notifications", Severity::Error,
     "Grafana contact points, policies, mute timings and templates the notifier refuses (run by "
     "`ruleeval lint` through the notifier's loader)"},
    {"group/duplicate", Severity::Error, "a group name used twice"},
    {"rule/duplicate", Severity::Warning, "rules with the same name and labels (promtool lint)"},
    {"alerts/comparison", Severity::Warning, "an alert expression without a comparison"},
    {"alerts/for", Severity::Warning, "an invalid or redundant for/keep_firing_for"},
    {"alerts/absent", Severity::Warning, "absent() without a for of at least 2 scrape intervals"},
    {"promql/rate", Severity::Warning, "rate/irate over less than 2 scrape intervals"},
    {"promql/fragile", Severity::Warning, "topk/bottomk/limitk in alerts"},
    {"promql/regexp", Severity::Warning, "needless or smelly regexp matchers"},
    {"rule/name", Severity::Info, "recording rule names not in level:metric:operations form"},
    {"group/interval", Severity::Warning, "a group interval longer than the lookback (5m)"},
    {"rule/label", Severity::Warning, "a required label is missing"},
    {"alerts/annotation", Severity::Warning, "a required annotation is missing"},
    {"ruleeval/comment", Severity::Warning, "a malformed `# ruleeval disable` comment"},
    {"promql/aggregate", Severity::Warning, "rate() of an aggregation"},
    {"slo/burn-rate", Severity::Warning, "burn-rate alert windows or factors that do not match the objective"},
    {"slo/recording", Severity::Warning, "recording rules an SLO alert uses but no loaded file defines"},
    {"slo/ratio", Severity::Warning, "error-ratio recordings that can exceed 1"},
}};

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (size_t k = 2; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

// Prometheus 3 validates names as UTF-8 by default: any non-empty valid UTF-8 string.
bool valid_name(std::string_view s) { return !s.empty() && valid_utf8(s); }

bool legacy_metric_name(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

class Emitter {
 public:
  Emitter(const RuleFile& file, std::vector<Diagnostic>& out) : file_(file), out_(out) {}

  void add(std::string_view check, std::string message, Pos p, const std::string& group,
           const std::string& rule, std::optional<Severity> sev = std::nullopt) {
    const CheckInfo* info = find_check(check);
    Diagnostic d;
    d.check = std::string(check);
    d.severity = sev ? *sev : (info != nullptr ? info->severity : Severity::Warning);
    d.message = std::move(message);
    d.where.file = file_.path;
    d.where.line = p.line;
    d.where.col = p.col;
    d.group = group;
    d.rule = rule;
    out_.push_back(std::move(d));
  }
  const RuleFile& file() const { return file_; }

  // tmpl::analyze of a template, once per node tree: the loader shares the tree of a repeated
  // template text between rules (Template::shared_root), and the usage (labels with their
  // positions in the text, $value, query) depends only on that tree and text.
  const tmpl::TemplateUsage& usage(const tmpl::Template& t) {
    if (!t.shared_root || !t.defines.empty()) {
      scratch_ = tmpl::analyze(t);
      return scratch_;
    }
    auto [it, fresh] = usage_.try_emplace(t.shared_root.get());
    if (fresh) it->second = tmpl::analyze(t);
    return it->second;
  }

 private:
  const RuleFile& file_;
  std::vector<Diagnostic>& out_;
  std::unordered_map<const void*, tmpl::TemplateUsage> usage_;
  tmpl::TemplateUsage scratch_;
};

// Position of a byte offset inside a rule's expression.
Pos expr_pos(const RuleFile& file, const Rule& rule, uint32_t offset) {
  const std::string& s = rule.expr.value;
  uint32_t line = 1;
  uint32_t col = 1;
  for (uint32_t i = 0; i < offset && i < s.size(); ++i) {
    if (s[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return map_into_scalar(rule.expr, file, line, col);
}

// Moves `offset` back over `name` (and blanks) when the source has it right before: node spans
// may start at the '(' of a call or at the operator of a matcher; diagnostics point at names.
uint32_t back_to_name(const Rule& rule, uint32_t offset, std::string_view name) {
  std::string_view s = rule.expr.value;
  if (offset > s.size()) return offset;
  uint32_t o = offset;
  while (o > 0 && (s[o - 1] == ' ' || s[o - 1] == '\t' || s[o - 1] == '\n')) --o;
  if (o >= name.size() && s.substr(o - name.size(), name.size()) == name) {
    return o - static_cast<uint32_t>(name.size());
  }
  return offset;
}

Pos node_pos(const RuleFile& file, const Rule& rule, const promql::Expr& e) {
  uint32_t off = e.span.begin;
  if (const auto* c = e.as<promql::Call>()) off = back_to_name(rule, off, c->func->name);
  if (const auto* a = e.as<promql::Aggregate>()) off = back_to_name(rule, off, promql::to_string(a->op));
  return expr_pos(file, rule, off);
}

// ---- promtool's rulefmt validation ----------------------------------------------------------

void validate_labels(Emitter& em, const std::vector<KeyValue>& labels, const std::string& group,
                     const std::string& rule) {
  for (const auto& kv : labels) {
    if (!valid_name(kv.key) || kv.key == "__name__") {
      em.add("rule/format", fmt::format("invalid label name: {}", kv.key), kv.key_pos, group, rule);
    }
    if (!valid_utf8(kv.value.value)) {
      em.add("rule/format", fmt::format("invalid label value: {}", kv.value.value), kv.value.pos,
             group, rule);
    }
  }
}

void validate_rulefmt(Emitter& em) {
  const RuleFile& file = em.file();
  std::unordered_map<std::string, const RuleGroup*> seen;
  for (const auto& g : file.groups) {
    // Grafana groups are identified by (folder, name): the same name in two folders is fine.
    std::string key = g.grafana_folder.empty() ? g.name : g.grafana_folder + '\x00' + g.name;
    if (g.name.empty()) {
      em.add("rule/format", "Groupname must not be empty", g.pos, g.name, "");
    } else if (auto [it, inserted] = seen.emplace(std::move(key), &g); !inserted) {
      em.add("group/duplicate",
             fmt::format("groupname: \"{}\" is repeated in the same file (first at line {})",
                         g.name, it->second->pos.line),
             g.name_pos.known() ? g.name_pos : g.pos, g.name, "");
    }
    validate_labels(em, g.labels, g.name, "");
    for (const auto& r : g.rules) {
      if (!r.grafana && (!r.expr.present || r.expr.value.empty())) {
        em.add("rule/format", "field 'expr' must be set in rule", r.pos, g.name, r.name);
      }
      if (r.kind == RuleKind::Recording) {
        if (!r.annotations.empty()) {
          em.add("rule/format", "invalid field 'annotations' in recording rule", r.pos, g.name,
                 r.name);
        }
        if (r.for_.ms != 0) {
          em.add("rule/format", "invalid field 'for' in recording rule", r.for_.pos, g.name,
                 r.name);
        }
        if (r.keep_firing_for.ms != 0) {
          em.add("rule/format", "invalid field 'keep_firing_for' in recording rule",
                 r.keep_firing_for.pos, g.name, r.name);
        }
        if (!valid_name(r.name)) {
          em.add("rule/format", fmt::format("invalid recording rule name: {}", r.name),
                 r.name_pos, g.name, r.name);
        }
        // Valid UTF-8, but almost always a PromQL selector pasted into the name: an error in
        // promtool 3's rulefmt.Validate too.
        if (r.name.find_first_of("{}") != std::string::npos) {
          em.add("rule/format",
                 fmt::format("braces present in the recording rule name; should it be in expr?: {}",
                             r.name),
                 r.name_pos, g.name, r.name);
        }
      }
      validate_labels(em, r.labels, g.name, r.name);
      for (const auto& kv : r.annotations) {
        if (!valid_name(kv.key)) {
          em.add("rule/format", fmt::format("invalid annotation name: {}", kv.key), kv.key_pos,
                 g.name, r.name);
        }
      }
    }
  }
}

// ---- pint-style checks ----------------------------------------------------------------------

bool has_comparison(const promql::Expr& e) {
  return std::visit(
      [&](const auto& n) -> bool {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, promql::Binary>) {
          if (promql::is_comparison(n.op) && !n.return_bool) return true;
          if (n.op == promql::BinaryOp::And) return has_comparison(*n.lhs) || has_comparison(*n.rhs);
          if (n.op == promql::BinaryOp::Unless) return has_comparison(*n.lhs);
          if (n.op == promql::BinaryOp::Or) return has_comparison(*n.lhs) && has_comparison(*n.rhs);
          // Arithmetic with a filtered side still filters.
          return has_comparison(*n.lhs) || has_comparison(*n.rhs);
        } else if constexpr (std::is_same_v<T, promql::Paren> || std::is_same_v<T, promql::Unary>) {
          return has_comparison(*n.expr);
        } else if constexpr (std::is_same_v<T, promql::Aggregate>) {
          return n.expr && has_comparison(*n.expr);
        } else if constexpr (std::is_same_v<T, promql::Call>) {
          const std::string_view name = n.func->name;
          if (name == "absent" || name == "absent_over_time") return true;
          return std::any_of(n.args.begin(), n.args.end(),
                             [](const promql::ExprPtr& a) { return has_comparison(*a); });
        } else {
          return false;
        }
      },
      e.node);
}

bool regex_is_literal(std::string_view re) {
  return re.find_first_of(".+*?()[]{}|^$\\") == std::string_view::npos;
}

void check_regexps(Emitter& em, const Rule& r, const std::string& group) {
  promql::walk(*r.ast, [&](const promql::Expr& e) {
    const auto* sel = e.as<promql::VectorSelector>();
    if (sel == nullptr) return;
    for (const auto& m : sel->matchers) {
      if (m.op != promql::MatchOp::Regex && m.op != promql::MatchOp::NotRegex) continue;
      const std::string_view op = promql::to_string(m.op);
      const Pos p = expr_pos(em.file(), r, back_to_name(r, m.span.begin, m.name));
      const std::string shown = fmt::format("{}{}\"{}\"", m.name, op, m.value);
      if (m.value == ".*") {
        em.add("promql/regexp",
               m.op == promql::MatchOp::Regex
                   ? fmt::format("{} matches every series, with or without the label; remove it",
                                 shown)
                   : fmt::format("{} can never match anything", shown),
               p, group, r.name);
      } else if (regex_is_literal(m.value)) {
        em.add("promql/regexp",
               fmt::format("unnecessary regexp match on a static string {}, use {}{}\"{}\" "
                           "instead",
                           shown, m.name, m.op == promql::MatchOp::Regex ? "=" : "!=", m.value),
               p, group, r.name);
      } else if (m.value.starts_with('^') || (m.value.ends_with('$') && !m.value.ends_with("\\$"))) {
        em.add("promql/regexp",
               fmt::format("{}: PromQL regexps are always fully anchored, ^ and $ are redundant",
                           shown),
               p, group, r.name);
      } else if (m.value.size() > 2 && m.value.starts_with(".*") && m.value.ends_with(".*") &&
                 regex_is_literal(m.value.substr(2, m.value.size() - 4))) {
        em.add("promql/regexp",
               fmt::format("{} scans for a substring; consider a more specific match", shown), p,
               group, r.name, Severity::Info);
      }
    }
  });
}

void check_rate(Emitter& em, const Rule& r, const std::string& group, const LintConfig& cfg) {
  promql::walk(*r.ast, [&](const promql::Expr& e) {
    const auto* call = e.as<promql::Call>();
    if (call == nullptr || call->args.empty()) return;
    const std::string_view name = call->func->name;
    if (name != "rate" && name != "irate" && name != "increase" && name != "deriv") return;
    const promql::Expr* arg = call->args[0].get();
    if (const auto* m = arg->as<promql::MatrixSelector>()) {
      if ((name == "rate" || name == "irate") && m->range < 2 * cfg.scrape_interval_ms) {
        em.add("promql/rate",
               fmt::format("{}() over [{}] sees fewer than 2 samples with a {} scrape interval; "
                           "use at least [{}]",
                           name, format_duration(m->range), format_duration(cfg.scrape_interval_ms),
                           format_duration(2 * cfg.scrape_interval_ms)),
               node_pos(em.file(), r, e), group, r.name);
      }
    } else if (const auto* sq = arg->as<promql::Subquery>()) {
      const promql::Expr* inner = sq->expr.get();
      while (inner != nullptr && inner->is<promql::Paren>()) inner = inner->as<promql::Paren>()->expr.get();
      if (inner != nullptr && inner->is<promql::Aggregate>()) {
        em.add("promql/aggregate",
               fmt::format("{}() of an aggregation: counter resets are lost; aggregate the {} "
                           "instead, e.g. sum({}(x[5m]))",
                           name, name, name),
               node_pos(em.file(), r, e), group, r.name);
      }
    }
  });
}

const promql::Expr* find_call(const promql::Expr& root, std::string_view a, std::string_view b) {
  const promql::Expr* found = nullptr;
  promql::walk(root, [&](const promql::Expr& e) {
    if (found != nullptr) return;
    if (const auto* c = e.as<promql::Call>()) {
      if (c->func->name == a || c->func->name == b) found = &e;
    }
  });
  return found;
}

void check_alert_promql(Emitter& em, const RuleGroup& g, const Rule& r, const LintConfig& cfg) {
  const promql::Expr* absent = find_call(*r.ast, "absent", "absent_over_time");
  if (absent != nullptr && r.for_.ms < 2 * cfg.scrape_interval_ms) {
    em.add("alerts/absent",
           fmt::format("absent() fires after a single missed scrape; set for: to at least {} (2 "
                       "scrape intervals)",
                       format_duration(2 * cfg.scrape_interval_ms)),
           node_pos(em.file(), r, *absent), g.name, r.name);
  }
  promql::walk(*r.ast, [&](const promql::Expr& e) {
    const auto* a = e.as<promql::Aggregate>();
    if (a == nullptr) return;
    using promql::AggregateOp;
    if (a->op == AggregateOp::Topk || a->op == AggregateOp::Bottomk ||
        a->op == AggregateOp::Limitk || a->op == AggregateOp::LimitRatio) {
      em.add("promql/fragile",
             fmt::format("{} in an alert: the set of returned series changes between "
                         "evaluations, so alerts flap",
                         promql::to_string(a->op)),
             node_pos(em.file(), r, e), g.name, r.name);
    }
  });
}


void check_alert(Emitter& em, const RuleGroup& g, const Rule& r, const LintConfig& cfg) {
  const int64_t interval = g.interval.present ? g.interval.ms : 60'000;
  // alerts/for
  // Grafana's exports always write `for` and `keepFiringFor`, so 0s is not worth a note there.
  const bool grafana_file = r.grafana && r.grafana->from_provisioning;
  if (r.for_.present && r.for_.ms == 0 && !grafana_file) {
    em.add("alerts/for", "for: 0s is redundant, it is the default", r.for_.pos, g.name, r.name,
           Severity::Info);
  } else if (r.for_.ms > 0 && r.for_.ms < interval) {
    em.add("alerts/for",
           fmt::format("for: {} is shorter than the group interval {}; the alert can only fire at "
                       "the next evaluation, so it behaves as for: {}",
                       format_duration(r.for_.ms), format_duration(interval),
                       format_duration(interval)),
           r.for_.pos, g.name, r.name);
  }
  if (r.keep_firing_for.present && r.keep_firing_for.ms == 0 && !grafana_file) {
    em.add("alerts/for", "keep_firing_for: 0s is redundant, it is the default",
           r.keep_firing_for.pos, g.name, r.name, Severity::Info);
  } else if (r.keep_firing_for.ms > 0 && r.keep_firing_for.ms < interval) {
    em.add("alerts/for",
           fmt::format("keep_firing_for: {} is shorter than the group interval {} and has no "
                       "effect",
                       format_duration(r.keep_firing_for.ms), format_duration(interval)),
           r.keep_firing_for.pos, g.name, r.name);
  }
  // Required labels and annotations (group labels count).
  for (const auto& need : cfg.required_labels) {
    auto has = [&](const std::vector<KeyValue>& kvs) {
      return std::any_of(kvs.begin(), kvs.end(), [&](const KeyValue& kv) { return kv.key == need; });
    };
    if (!has(r.labels) && !has(g.labels)) {
      em.add("rule/label", fmt::format("alert is missing the required label \"{}\"", need),
             r.name_pos, g.name, r.name);
    }
  }
  for (const auto& need : cfg.required_annotations) {
    if (std::none_of(r.annotations.begin(), r.annotations.end(),
                     [&](const KeyValue& kv) { return kv.key == need; })) {
      em.add("alerts/annotation",
             fmt::format("alert is missing the required annotation \"{}\"", need), r.name_pos,
             g.name, r.name);
    }
  }
  // Templates: $value/query in labels, and labels the query cannot return.
  std::optional<LabelSetInfo> out_labels;
  // (Grafana DAG rules: the condition's labels come from expressions over several queries.)
  if (r.ast && !(r.grafana && r.grafana->dag)) out_labels = output_labels(*r.ast);
  auto check_templates = [&](const std::vector<KeyValue>& kvs, std::string_view what) {
    for (const auto& kv : kvs) {
      if (!kv.tmpl) continue;
      const tmpl::TemplateUsage& use = em.usage(*kv.tmpl);
      if (what == "label" && (use.uses_value || use.uses_query)) {
        em.add("alerts/template",
               fmt::format("label \"{}\" uses {}: the value changes between evaluations, which "
                           "changes the alert's identity, so it never stays firing; move it to an "
                           "annotation",
                           kv.key, use.uses_value ? "$value" : "query"),
               kv.value.pos, g.name, r.name);
      }
      if (!out_labels) continue;
      for (const auto& ref : use.labels) {
        if (out_labels->can_have(ref.name)) continue;
        Pos p = ref.where.known()
                    ? map_into_scalar(kv.value, em.file(), ref.where.line, ref.where.col)
                    : kv.value.pos;
        em.add("alerts/template",
               fmt::format("{} \"{}\" uses $labels.{} but the query cannot return it (it returns "
                           "{})",
                           what, kv.key, ref.name, out_labels->describe()),
               p, g.name, r.name, Severity::Warning);
      }
    }
  };
  check_templates(r.labels, "label");
  check_templates(r.annotations, "annotation");
  if (!r.ast) return;
  if (!r.grafana && !has_comparison(*r.ast)) {
    em.add("alerts/comparison",
           "alert expression has no comparison: it fires whenever the query returns anything",
           r.expr.pos, g.name, r.name);
  }
  check_alert_promql(em, g, r, cfg);
}

void check_recording_name(Emitter& em, const RuleGroup& g, const Rule& r) {
  if (!valid_name(r.name)) return;  // rule/format reports it
  if (r.name.find_first_of("{}") != std::string::npos) return;  // rule/format reports it
  if (!legacy_metric_name(r.name)) {
    em.add("rule/name",
           fmt::format("\"{}\" is only valid with UTF-8 metric names (Prometheus 3); older "
                       "servers and many tools reject it",
                       r.name),
           r.name_pos, g.name, r.name, Severity::Warning);
    return;
  }
  size_t parts = 1;
  bool empty_part = r.name.front() == ':' || r.name.back() == ':';
  for (size_t i = 0; i < r.name.size(); ++i) {
    if (r.name[i] == ':') {
      ++parts;
      if (i + 1 < r.name.size() && r.name[i + 1] == ':') empty_part = true;
    }
  }
  if (parts != 3 || empty_part) {
    em.add("rule/name",
           fmt::format("recording rule name \"{}\" does not follow level:metric:operations", r.name),
           r.name_pos, g.name, r.name);
  }
}

}  // namespace

std::span<const CheckInfo> all_checks() { return kChecks; }

const CheckInfo* find_check(std::string_view name) {
  for (const auto& c : kChecks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {
bool matches_check(const std::string& pattern, std::string_view check) {
  return pattern == check || pattern == "all" ||
         (check.size() > pattern.size() && check.starts_with(pattern) &&
          check[pattern.size()] == '/');
}
}  // namespace

bool LintConfig::is_enabled(std::string_view check) const {
  if (std::any_of(disabled.begin(), disabled.end(),
                  [&](const std::string& p) { return matches_check(p, check); })) {
    return false;
  }
  if (enabled.empty()) return true;
  return std::any_of(enabled.begin(), enabled.end(),
                     [&](const std::string& p) { return matches_check(p, check); });
}

Severity LintConfig::severity_of(std::string_view check, Severity fallback) const {
  auto it = severity.find(check);
  return it == severity.end() ? fallback : it->second;
}

std::vector<Diagnostic> check_file(const RuleFile& file, const LintConfig& cfg) {
  std::vector<Diagnostic> out;
  Emitter em(file, out);
  validate_rulefmt(em);
  for (const auto& g : file.groups) {
    if (g.interval.present && g.interval.ms > cfg.lookback_ms) {
      em.add("group/interval",
             fmt::format("group interval {} is longer than the {} lookback: queries of other "
                         "rules see gaps in the series these rules write",
                         format_duration(g.interval.ms), format_duration(cfg.lookback_ms)),
             g.interval.pos, g.name, "");
    }
    for (const auto& r : g.rules) {
      if (r.kind == RuleKind::Alerting) {
        check_alert(em, g, r, cfg);
      } else {
        check_recording_name(em, g, r);
      }
      if (r.ast) {
        check_regexps(em, r, g.name);
        check_rate(em, r, g.name, cfg);
      }
      // Grafana rules: the PromQL checks on every Prometheus query of the DAG, not only the
      // first (which is r.expr).
      if (r.grafana && r.grafana->dag && r.grafana->queries.size() > 1) {
        Rule q;
        q.kind = r.kind;
        q.name = r.name;
        q.name_pos = r.name_pos;
        q.pos = r.pos;
        q.for_ = r.for_;
        q.disabled_checks = r.disabled_checks;
        for (size_t i = 1; i < r.grafana->queries.size(); ++i) {
          const auto& query = r.grafana->queries[i];
          if (!query.ast) continue;
          q.expr = query.expr;
          q.ast = query.ast;
          if (r.kind == RuleKind::Alerting) check_alert_promql(em, g, q, cfg);
          check_regexps(em, q, g.name);
          check_rate(em, q, g.name, cfg);
        }
      }
    }
  }
  return out;
}

std::vector<Diagnostic> check_across_files(std::span<const RuleFile* const> files,
                                           const LintConfig& cfg) {
  (void)cfg;
  std::vector<Diagnostic> out;
  check_slo_rules(files, out);
  struct First {
    const RuleFile* file;
    Pos pos;
  };
  std::unordered_map<std::string, First> rules;
  std::unordered_map<std::string, First> groups;
  size_t n_rules = 0;
  for (const RuleFile* f : files) n_rules += f->rule_count();
  rules.reserve(n_rules);  // no rehashing of 10,000s of keys
  std::vector<std::pair<std::string_view, std::string_view>> labels;  // reused for every rule
  for (const RuleFile* f : files) {
    Emitter em(*f, out);
    std::unordered_map<std::string, int> group_in_file;
    for (const auto& g : f->groups) {
      std::string gkey = g.grafana_folder.empty() ? g.name : g.grafana_folder + '\x00' + g.name;
      if (!g.name.empty() && group_in_file[gkey]++ == 0) {
        auto [it, inserted] = groups.emplace(gkey, First{f, g.pos});
        if (!inserted && it->second.file != f) {
          em.add("group/duplicate",
                 fmt::format("group \"{}\" is also defined in {}:{}; both are loaded and "
                             "evaluated separately",
                             g.name, it->second.file->path, it->second.pos.line),
                 g.name_pos.known() ? g.name_pos : g.pos, g.name, "", Severity::Warning);
        }
      }
      for (const auto& r : g.rules) {
        if (r.name.empty()) continue;
        // Identity as promtool's duplicate-rules lint: name plus group and rule labels.
        labels.clear();
        for (const auto& kv : g.labels) labels.emplace_back(kv.key, kv.value.value);
        for (const auto& kv : r.labels) {
          auto it = std::find_if(labels.begin(), labels.end(),
                                 [&](const auto& l) { return l.first == kv.key; });
          if (it != labels.end()) {
            it->second = kv.value.value;
          } else {
            labels.emplace_back(kv.key, kv.value.value);
          }
        }
        std::sort(labels.begin(), labels.end());
        std::string key = r.name;
        key += '\x01';
        for (const auto& [k, v] : labels) {
          if (v.empty()) continue;
          key.append(k);
          key += '\x02';
          key.append(v);
          key += '\x03';
        }
        auto [it, inserted] = rules.emplace(std::move(key), First{f, r.name_pos});
        if (!inserted) {
          const bool same_file = it->second.file == f;
          em.add("rule/duplicate",
                 fmt::format("duplicate rule \"{}\" with the same labels, first defined at {}{}; "
                             "might cause inconsistency while recording expressions",
                             r.name, same_file ? "line " : it->second.file->path + ":",
                             it->second.pos.line),
                 r.name_pos, g.name, r.name);
        }
      }
    }
  }
  return out;
}

void apply_config(std::vector<Diagnostic>& diags, std::span<const RuleFile* const> files,
                  const LintConfig& cfg) {
  // Only rules with `# ruleeval disable` comments matter here; usually there are none.
  std::unordered_map<std::string_view, std::vector<const Rule*>> with_comments;
  for (const RuleFile* f : files) {
    for (const auto& g : f->groups) {
      for (const auto& r : g.rules) {
        if (!r.disabled_checks.empty()) with_comments[f->path].push_back(&r);
      }
    }
  }
  auto disabled_by_comment = [&](const Diagnostic& d) {
    auto it = with_comments.find(d.where.file);
    if (it == with_comments.end() || d.where.line == 0) return false;
    for (const Rule* r : it->second) {
      if (r->pos.line <= d.where.line && d.where.line <= r->last_line) {
        return r->check_disabled(d.check);
      }
    }
    return false;
  };
  std::erase_if(diags, [&](const Diagnostic& d) {
    return !cfg.is_enabled(d.check) || disabled_by_comment(d);
  });
  for (auto& d : diags) d.severity = cfg.severity_of(d.check, d.severity);
  std::sort(diags.begin(), diags.end(), diagnostic_less);
}

std::vector<Diagnostic> lint_loaded(const LoadResult& loaded, const LintConfig& cfg) {
  std::vector<Diagnostic> out = loaded.diagnostics;
  auto more = check_file(loaded.file, cfg);
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  return out;
}

std::vector<Diagnostic> lint_text(std::string text, std::string path, const LoadOptions& opts,
                                  const LintConfig& cfg) {
  LoadResult loaded = load_rules_text(std::move(text), std::move(path), opts);
  std::vector<Diagnostic> out = lint_loaded(loaded, cfg);
  const RuleFile* files[] = {&loaded.file};
  auto across = check_across_files(files, cfg);
  out.insert(out.end(), std::make_move_iterator(across.begin()),
             std::make_move_iterator(across.end()));
  apply_config(out, files, cfg);
  return out;
}

}  // namespace ruleeval::rules
