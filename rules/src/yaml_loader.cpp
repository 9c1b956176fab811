// The yaml-cpp adapter: turns YAML documents into the rule model. yaml-cpp exceptions are caught
// here and never leave this file. yaml-cpp silently accepts duplicate keys and loses scalar styles,
// so both are recovered by walking the nodes and looking at the source text.
#include "yaml_tree.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include "ruleeval/common/env.hpp"
#include "fmt/format.h"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/rules/loader.hpp"
#include "rule_finish.hpp"
#include "yaml_util.hpp"

namespace ruleeval::rules {
namespace {

constexpr std::string_view kRuleFields[] = {"record", "alert",  "expr",           "for",
                                            "keep_firing_for", "labels", "annotations"};
constexpr std::string_view kGrafanaRuleFields[] = {"query",   "range",   "reduce",   "threshold",
                                                   "recover", "no_data", "on_error", "condition"};

bool is_one_of(std::string_view key, std::span<const std::string_view> set) {
  return std::find(set.begin(), set.end(), key) != set.end();
}

class PrometheusDecoder {
 public:
  explicit PrometheusDecoder(YamlContext& ctx) : ctx_(ctx) {}

  void decode_groups(const yml::Node& groups, std::string_view type_name) {
    (void)type_name;
    if (groups.IsNull()) return;
    if (!groups.IsSequence()) {
      ctx_.type_error(groups, "[]rulefmt.RuleGroup");
      return;
    }
    for (const auto& g : groups) decode_group(g);
  }

 private:
  void decode_group(const yml::Node& node) {
    if (!node.IsMap()) {
      ctx_.type_error(node, "rulefmt.RuleGroup");
      return;
    }
    ctx_.check_duplicate_keys(node);
    RuleGroup group;
    group.pos = ctx_.pos(node);
    std::optional<yml::Node> rules;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      const yml::Node& v = kv.second;
      if (key == "name") {
        group.name = ctx_.string_value(v).value;
        group.name_pos = ctx_.pos(v);
      } else if (key == "interval") {
        group.interval = ctx_.duration_value(v);
      } else if (key == "query_offset") {
        group.query_offset = ctx_.duration_value(v);
      } else if (key == "limit") {
        group.limit = ctx_.int_value(v);
      } else if (key == "labels") {
        group.labels = ctx_.string_map(v);
      } else if (key == "rules") {
        rules = kv.second;
        if (!v.IsNull() && !v.IsSequence()) ctx_.type_error(v, "[]rulefmt.Rule");
      } else {
        ctx_.unknown_field(kv.first, "rulefmt.RuleGroup");
      }
    }
    if (rules && rules->IsSequence()) {
      group.rules.reserve(rules->size());  // a Rule is ~700 bytes: no doubling slack
      for (const auto& r : *rules) {
        if (auto rule = decode_rule(r, group.name)) group.rules.push_back(std::move(*rule));
      }
    }
    ctx_.file().groups.push_back(std::move(group));
  }

  std::optional<Rule> decode_rule(const yml::Node& node, const std::string& group_name) {
    if (!node.IsMap()) {
      ctx_.type_error(node, "rulefmt.Rule");
      return std::nullopt;
    }
    ctx_.check_duplicate_keys(node);
    Rule rule;
    rule.pos = ctx_.pos(node);
    Scalar record, alert;
    bool grafana = false;
    for (const auto& kv : node) {
      if (is_one_of(kv.first.Scalar(), kGrafanaRuleFields)) grafana = true;
    }
    GrafanaSpec spec;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      const yml::Node& v = kv.second;
      if (key == "record") {
        record = ctx_.string_value(v);
      } else if (key == "alert") {
        alert = ctx_.string_value(v);
      } else if (key == "expr") {
        rule.expr = ctx_.string_value(v);
      } else if (key == "for") {
        rule.for_ = ctx_.duration_value(v);
      } else if (key == "keep_firing_for") {
        rule.keep_firing_for = ctx_.duration_value(v);
      } else if (key == "labels") {
        rule.labels = ctx_.string_map(v);
      } else if (key == "annotations") {
        rule.annotations = ctx_.string_map(v);
      } else if (key == "query") {
        spec.query = ctx_.string_value(v);
      } else if (key == "range") {
        auto d = ctx_.duration_value(v);
        spec.range_ms = d.ms;
        spec.range_pos = d.pos;
      } else if (key == "reduce") {
        spec.reduce_pos = ctx_.pos(v);
        auto s = ctx_.string_value(v);
        if (auto r = parse_reducer(s.value)) {
          spec.reduce = *r;
        } else if (s.present) {
          ctx_.error("rule/format", fmt::format("unknown reducer \"{}\" (want avg, min, max, sum, "
                                                "count, last, median, diff or percent_diff)",
                                                s.value),
                     s.pos, group_name, "");
        }
      } else if (key == "threshold") {
        spec.threshold = ctx_.threshold_value(v, group_name);
      } else if (key == "recover") {
        spec.recover = ctx_.threshold_value(v, group_name);
      } else if (key == "no_data") {
        auto s = ctx_.string_value(v);
        if (auto st = parse_no_data_state(s.value)) {
          spec.no_data = *st;
        } else if (s.present) {
          ctx_.error("rule/format",
                     fmt::format("invalid no_data \"{}\" (want ok, alerting, nodata or keep_last)",
                                 s.value),
                     s.pos, group_name, "");
        }
      } else if (key == "on_error") {
        auto s = ctx_.string_value(v);
        if (auto st = parse_error_state(s.value)) {
          spec.on_error = *st;
        } else if (s.present) {
          ctx_.error("rule/format",
                     fmt::format("invalid on_error \"{}\" (want error, alerting, ok or keep_last)",
                                 s.value),
                     s.pos, group_name, "");
        }
      } else if (key == "condition") {
        spec.condition = ctx_.string_value(v);
      } else if (!is_one_of(key, kRuleFields)) {
        ctx_.unknown_field(kv.first, "rulefmt.Rule");
      }
    }
    finish_rule_kind(ctx_, rule, record, alert, group_name);
    if (grafana) {
      if (rule.kind != RuleKind::Alerting) {
        ctx_.error("rule/format", "Grafana-style fields (query, threshold, ...) need `alert`",
                   rule.pos, group_name, rule.name);
      }
      if (rule.expr.present) {
        ctx_.error("rule/format", "a Grafana-style rule takes `query`, not `expr`",
                   rule.expr.pos, group_name, rule.name);
      }
      check_grafana_spec(ctx_, rule, spec, group_name);
      rule.expr = spec.query;
      rule.grafana = std::move(spec);
    }
    return rule;
  }

  YamlContext& ctx_;
};

void decode_document(YamlContext& ctx, const yml::Node& doc) {
  if (doc.IsNull()) return;
  if (!doc.IsMap()) {
    ctx.type_error(doc, "rulefmt.RuleGroups");
    return;
  }
  ctx.check_duplicate_keys(doc);
  std::optional<yml::Node> groups;
  std::optional<yml::Node> api_version;
  std::optional<yml::Node> kind;
  std::optional<yml::Node> spec;
  for (const auto& kv : doc) {
    const std::string& key = kv.first.Scalar();
    if (key == "groups") groups = kv.second;
    if (key == "apiVersion") api_version = kv.second;
    if (key == "kind") kind = kv.second;
    if (key == "spec") spec = kv.second;
  }
  // Grafana provisioning: apiVersion: 1 (a number, unlike Kubernetes' "group/version").
  if (api_version && api_version->IsScalar() && api_version->Scalar() == "1") {
    decode_grafana_provisioning(ctx, doc);
    return;
  }
  // Kubernetes objects: the Prometheus operator's PrometheusRule and VictoriaMetrics' VMRule
  // (operator.victoriametrics.com/v1beta1) hold the rule groups under spec.groups.
  if (kind && kind->IsScalar() &&
      (kind->Scalar() == "PrometheusRule" || kind->Scalar() == "VMRule")) {
    const std::string k = kind->Scalar();
    if (k == "VMRule") ctx.file().metricsql = true;
    PrometheusDecoder dec(ctx);
    if (!spec || !spec->IsMap()) {
      ctx.error("yaml/parse", k + " object has no `spec` mapping", ctx.pos(doc), "", "");
      return;
    }
    ctx.check_duplicate_keys(*spec);
    for (const auto& kv : *spec) {
      if (kv.first.Scalar() == "groups") {
        dec.decode_groups(kv.second, "[]rulefmt.RuleGroup");
      } else {
        ctx.unknown_field(kv.first, k == "VMRule" ? "VMRuleSpec" : "PrometheusRuleSpec");
      }
    }
    return;
  }
  for (const auto& kv : doc) {
    if (kv.first.Scalar() != "groups") ctx.unknown_field(kv.first, "rulefmt.RuleGroups");
  }
  // `{}` (what mixins generate for components without rules), `groups: null` and `groups: []`
  // hold 0 rules; promtool accepts them.
  if (!groups) return;
  PrometheusDecoder(ctx).decode_groups(*groups, "[]rulefmt.RuleGroup");
}

}  // namespace

bool LoadResult::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

LoadResult load_rules_text(std::string text, std::string path, const LoadOptions& opts) {
  LoadResult out;
  out.file.path = std::move(path);
  out.file.text = std::move(text);
  out.file.index_lines();
  YamlContext ctx(out.file, opts, out.diagnostics);
  {
    // The node tree is ~3x the file's size: free it before finish_file parses the expressions
    // and templates (lower peak memory, fewer fresh pages to fault in).
    yml::Stream stream;
    try {
      yml::load_all(out.file.text, stream);
    } catch (const yml::Exception& e) {
      Pos p;
      if (!e.mark.is_null()) {
        p.line = static_cast<uint32_t>(e.mark.line + 1);
        p.col = static_cast<uint32_t>(e.mark.column + 1);
      }
      ctx.error("yaml/parse", fmt::format("YAML syntax error: {}", e.msg), p, "", "");
      return out;
    }
    try {
      for (const auto& doc : stream.documents) decode_document(ctx, doc);
    } catch (const std::exception& e) {
      // Defensive: every access above checks node types, but a malformed tree must never crash.
      ctx.error("yaml/parse", fmt::format("YAML error: {}", e.what()), {}, "", "");
    }
  }
  finish_file(ctx);
  return out;
}

LoadResult load_rules_file(const std::string& path, const LoadOptions& opts) {
  // Pipes are rule files too (`lint /dev/stdin`, `<(...)`); directories and devices are not.
  auto text = Env::Default()->read_file(path, kMaxInputFileBytes, Env::Streams::kAllow);
  if (!text) {
    LoadResult out;
    out.file.path = path;
    Diagnostic d;
    d.check = "yaml/parse";
    d.severity = Severity::Error;
    d.message = "cannot read file";
    d.where.file = path;
    out.diagnostics.push_back(std::move(d));
    return out;
  }
  return load_rules_text(std::move(*text), path, opts);
}

}  // namespace ruleeval::rules
