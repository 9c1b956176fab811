// Grafana provisioning files (apiVersion: 1) into the rule model. A rule's data[] is a DAG of
// refIds; we understand the shapes Grafana's UI produces for Prometheus queries:
//   query -> [reduce ->] threshold (with optional unloadEvaluator = recovery threshold), and
//   query -> classic_conditions (turned into the condition text "WHEN avg() OF query(A, ...)").
// Everything else (math, resample, sql, non-Prometheus queries, recording rules) gets a
// "grafana/unsupported" error at the node that we cannot evaluate; nothing is skipped silently.
#include <cmath>
#include <map>

#include "fmt/format.h"
#include "rule_finish.hpp"

namespace ruleeval::rules {
namespace {

constexpr std::string_view kExprDatasource = "__expr__";

// yaml-cpp iterators yield temporaries, so nodes are held by value (they are cheap handles).
using OptNode = std::optional<yml::Node>;

OptNode child(const yml::Node& map, std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (const auto& kv : map) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  }
  return std::nullopt;
}

std::string scalar_or_empty(const OptNode& n) {
  return n && n->IsScalar() ? n->Scalar() : std::string();
}

struct DataNode {
  std::string ref_id;
  std::string datasource;
  OptNode model;
  yml::Node node;
  int64_t from_seconds = 0;
};

std::optional<ThresholdOp> evaluator_op(std::string_view t) {
  if (t == "gt") return ThresholdOp::Above;
  if (t == "lt") return ThresholdOp::Below;
  if (t == "eq") return ThresholdOp::Equal;
  if (t == "ne") return ThresholdOp::NotEqual;
  if (t == "gte") return ThresholdOp::AboveOrEqual;
  if (t == "lte") return ThresholdOp::BelowOrEqual;
  if (t == "within_range") return ThresholdOp::WithinRange;
  if (t == "outside_range") return ThresholdOp::OutsideRange;
  if (t == "within_range_included") return ThresholdOp::WithinRangeIncluded;
  if (t == "outside_range_included") return ThresholdOp::OutsideRangeIncluded;
  return std::nullopt;
}

bool is_range_op(ThresholdOp op) {
  return op == ThresholdOp::WithinRange || op == ThresholdOp::OutsideRange ||
         op == ThresholdOp::WithinRangeIncluded || op == ThresholdOp::OutsideRangeIncluded;
}

class ProvisioningDecoder {
 public:
  explicit ProvisioningDecoder(YamlContext& ctx) : ctx_(ctx) {}

  void decode(const yml::Node& doc) {
    ctx_.check_duplicate_keys(doc);
    OptNode groups = child(doc, "groups");
    if (!groups || groups->IsNull()) return;
    if (!groups->IsSequence()) {
      ctx_.type_error(*groups, "[]AlertRuleGroupV1");
      return;
    }
    for (const auto& g : *groups) decode_group(g);
  }

 private:
  void decode_group(const yml::Node& node) {
    if (!node.IsMap()) {
      ctx_.type_error(node, "AlertRuleGroupV1");
      return;
    }
    ctx_.check_duplicate_keys(node);
    RuleGroup group;
    group.pos = ctx_.pos(node);
    std::string folder;
    OptNode rules;
    for (const auto& kv : node) {
      const std::string& key = kv.first.Scalar();
      if (key == "name") {
        group.name = ctx_.string_value(kv.second).value;
        group.name_pos = ctx_.pos(kv.second);
      } else if (key == "folder") {
        folder = ctx_.string_value(kv.second).value;
      } else if (key == "interval") {
        group.interval = ctx_.duration_value(kv.second);
      } else if (key == "rules") {
        rules = kv.second;
      }
    }
    if (folder.empty()) {
      ctx_.error("rule/format", "Grafana rule group needs a `folder`", group.pos, group.name, "");
    }
    if (!group.interval.present) {
      ctx_.error("rule/format", "Grafana rule group needs an `interval`", group.pos, group.name,
                 "");
    }
    if (rules && rules->IsSequence()) {
      for (const auto& r : *rules) {
        if (auto rule = decode_rule(r, group.name, folder)) group.rules.push_back(std::move(*rule));
      }
    } else if (rules && !rules->IsNull()) {
      ctx_.type_error(*rules, "[]AlertRuleV1");
    }
    ctx_.file().groups.push_back(std::move(group));
  }

  void unsupported(const std::string& msg, Pos p, const std::string& group,
                   const std::string& rule) {
    ctx_.error("grafana/unsupported", msg, p, group, rule);
  }

  std::optional<Rule> decode_rule(const yml::Node& node, const std::string& group,
                                  const std::string& folder) {
    if (!node.IsMap()) {
      ctx_.type_error(node, "AlertRuleV1");
      return std::nullopt;
    }
    ctx_.check_duplicate_keys(node);
    Rule rule;
    rule.kind = RuleKind::Alerting;
    rule.pos = ctx_.pos(node);
    GrafanaSpec spec;
    spec.from_provisioning = true;
    spec.folder = folder;
    spec.reduce_mode = ReduceMode::Strict;
    spec.on_error = ErrorState::Alerting;  // the provisioning default
    Scalar condition;
    OptNode data;
    for (const auto& kv : node) {
      const std::string& key = kv.first.Scalar();
      const yml::Node& v = kv.second;
      if (key == "title") {
        auto s = ctx_.string_value(v);
        rule.name = s.value;
        rule.name_pos = s.pos;
      } else if (key == "uid") {
        spec.uid = ctx_.string_value(v).value;
      } else if (key == "condition") {
        condition = ctx_.string_value(v);
      } else if (key == "data") {
        data = kv.second;
      } else if (key == "for") {
        rule.for_ = ctx_.duration_value(v);
      } else if (key == "keepFiringFor") {
        rule.keep_firing_for = ctx_.duration_value(v);
      } else if (key == "labels") {
        rule.labels = ctx_.string_map(v);
      } else if (key == "annotations") {
        rule.annotations = ctx_.string_map(v);
      } else if (key == "noDataState") {
        auto s = ctx_.string_value(v);
        if (auto st = parse_no_data_state(s.value)) {
          spec.no_data = *st;
        } else {
          ctx_.error("rule/format",
                     fmt::format("invalid noDataState \"{}\" (want NoData, Alerting, OK or "
                                 "KeepLast)",
                                 s.value),
                     s.pos, group, rule.name);
        }
      } else if (key == "execErrState") {
        auto s = ctx_.string_value(v);
        if (auto st = parse_error_state(s.value)) {
          spec.on_error = *st;
        } else {
          ctx_.error("rule/format",
                     fmt::format("invalid execErrState \"{}\" (want Error, Alerting, OK or "
                                 "KeepLast)",
                                 s.value),
                     s.pos, group, rule.name);
        }
      } else if (key == "record") {
        unsupported("Grafana recording rules are not supported; use a Prometheus `record` rule",
                    ctx_.pos(kv.first), group, rule.name);
      } else if (key == "isPaused") {
        if (v.IsScalar() && v.Scalar() == "true") {
          ctx_.report("grafana/unsupported", Severity::Info,
                      "rule is paused in Grafana; ruleeval evaluates it anyway", ctx_.pos(v),
                      group, rule.name);
        }
      }
      // orgId, dashboardUid, panelId, notification_settings, missing_series_evals_to_resolve:
      // accepted and not needed for evaluation.
    }
    if (rule.name.empty()) {
      ctx_.error("rule/format", "Grafana rule needs a `title`", rule.pos, group, "");
    }
    if (spec.uid.empty()) {
      ctx_.error("rule/format", "Grafana rule needs a `uid`", rule.pos, group, rule.name);
    }
    if (!data || !data->IsSequence() || data->size() == 0) {
      ctx_.error("rule/format", "Grafana rule needs a non-empty `data` list", rule.pos, group,
                 rule.name);
      return rule;
    }
    std::map<std::string, DataNode> nodes;
    for (const auto& d : *data) {
      if (!d.IsMap()) {
        ctx_.type_error(d, "AlertQueryV1");
        continue;
      }
      DataNode dn;
      dn.node = static_cast<const yml::Node&>(d);
      dn.ref_id = scalar_or_empty(child(d, "refId"));
      dn.datasource = scalar_or_empty(child(d, "datasourceUid"));
      dn.model = child(d, "model");
      if (OptNode rtr = child(d, "relativeTimeRange")) {
        std::string from = scalar_or_empty(child(*rtr, "from"));
        dn.from_seconds = from.empty() ? 0 : std::atoll(from.c_str());
      }
      if (dn.ref_id.empty()) {
        ctx_.error("rule/format", "data entry needs a `refId`", ctx_.pos(d), group, rule.name);
        continue;
      }
      nodes[dn.ref_id] = dn;
    }
    auto cond = nodes.find(condition.value);
    if (cond == nodes.end()) {
      ctx_.error("rule/format",
                 fmt::format("condition \"{}\" is not the refId of any data entry",
                             condition.value),
                 condition.present ? condition.pos : rule.pos, group, rule.name);
      return rule;
    }
    convert(cond->second, nodes, spec, rule, group);
    rule.expr = spec.query;
    rule.grafana = std::move(spec);
    return rule;
  }

  Pos model_pos(const DataNode& n, std::string_view key) {
    if (n.model) {
      if (OptNode v = child(*n.model, key)) return ctx_.pos(*v);
      return ctx_.pos(*n.model);
    }
    return ctx_.pos(n.node);
  }

  std::string expr_type(const DataNode& n) {
    return !n.model ? std::string() : scalar_or_empty(child(*n.model, "type"));
  }

  // Resolves the query feeding an expression node; false (with a diagnostic) when unsupported.
  bool resolve_query(const DataNode& n, GrafanaSpec& spec, const std::string& group,
                     const std::string& rule) {
    if (n.datasource == kExprDatasource) {
      unsupported(fmt::format("expected a Prometheus query at refId \"{}\", found a `{}` "
                              "expression",
                              n.ref_id, expr_type(n)),
                  model_pos(n, "type"), group, rule);
      return false;
    }
    if (n.model) {
      if (OptNode ds = child(*n.model, "datasource")) {
        std::string type = scalar_or_empty(child(*ds, "type"));
        if (!type.empty() && type != "prometheus") {
          unsupported(fmt::format("refId \"{}\" queries a `{}` datasource; only Prometheus "
                                  "(PromQL) queries can be evaluated",
                                  n.ref_id, type),
                      ctx_.pos(*ds), group, rule);
          return false;
        }
      }
    }
    OptNode expr = !n.model ? OptNode() : child(*n.model, "expr");
    if (!expr || !expr->IsScalar()) {
      unsupported(fmt::format("refId \"{}\" has no PromQL `expr` in its model; only Prometheus "
                              "queries can be evaluated",
                              n.ref_id),
                  ctx_.pos(n.node), group, rule);
      return false;
    }
    spec.query = ctx_.string_value(*expr);
    const bool instant = scalar_or_empty(child(*n.model, "instant")) == "true";
    spec.range_ms = instant ? 0 : n.from_seconds * 1000;
    spec.range_pos = ctx_.pos(n.node);
    return true;
  }

  std::optional<Threshold> evaluator(const yml::Node& ev, const std::string& group,
                                     const std::string& rule) {
    Threshold t;
    t.pos = ctx_.pos(ev);
    std::string type = scalar_or_empty(child(ev, "type"));
    auto op = evaluator_op(type);
    if (!op) {
      unsupported(fmt::format("unsupported evaluator type \"{}\"", type), t.pos, group, rule);
      return std::nullopt;
    }
    t.op = *op;
    OptNode params = child(ev, "params");
    const size_t want = is_range_op(*op) ? 2 : 1;
    if (!params || !params->IsSequence() || params->size() < want) {
      ctx_.error("rule/format", fmt::format("evaluator \"{}\" needs {} param(s)", type, want),
                 t.pos, group, rule);
      return std::nullopt;
    }
    auto a = ctx_.float_value((*params)[0]);
    if (!a) return std::nullopt;
    t.a = *a;
    if (want == 2) {
      auto b = ctx_.float_value((*params)[1]);
      if (!b) return std::nullopt;
      t.b = *b;
    }
    return t;
  }

  void convert(const DataNode& cond, const std::map<std::string, DataNode>& nodes,
               GrafanaSpec& spec, Rule& rule, const std::string& group) {
    auto lookup = [&](const DataNode& n) -> const DataNode* {
      std::string ref = !n.model ? std::string()
                                           : scalar_or_empty(child(*n.model, "expression"));
      auto it = nodes.find(ref);
      if (it == nodes.end()) {
        ctx_.error("rule/format",
                   fmt::format("refId \"{}\" refers to unknown refId \"{}\"", n.ref_id, ref),
                   model_pos(n, "expression"), group, rule.name);
        return nullptr;
      }
      return &it->second;
    };
    if (cond.datasource != kExprDatasource) {
      // The condition is the query itself: alert when its (instant) value is non-zero.
      if (!resolve_query(cond, spec, group, rule.name)) return;
      spec.threshold = Threshold{ThresholdOp::NotEqual, 0, 0, ctx_.pos(cond.node)};
      return;
    }
    const std::string type = expr_type(cond);
    if (type == "threshold") {
      OptNode conds = child(*cond.model, "conditions");
      if (!conds || !conds->IsSequence() || conds->size() != 1) {
        ctx_.error("rule/format", "a threshold expression takes exactly one condition",
                   model_pos(cond, "conditions"), group, rule.name);
        return;
      }
      const yml::Node& c0 = (*conds)[0];
      if (OptNode ev = child(c0, "evaluator")) spec.threshold = evaluator(*ev, group, rule.name);
      if (OptNode unload = child(c0, "unloadEvaluator")) {
        spec.recover = evaluator(*unload, group, rule.name);
      }
      const DataNode* input = lookup(cond);
      if (!input) return;
      if (input->datasource == kExprDatasource && expr_type(*input) == "reduce") {
        std::string reducer = scalar_or_empty(child(*input->model, "reducer"));
        spec.reduce_pos = model_pos(*input, "reducer");
        if (auto r = parse_reducer(reducer)) {
          spec.reduce = *r;
        } else {
          unsupported(fmt::format("unsupported reducer \"{}\"", reducer), spec.reduce_pos, group,
                      rule.name);
        }
        if (OptNode settings = child(*input->model, "settings")) {
          std::string mode = scalar_or_empty(child(*settings, "mode"));
          if (mode == "dropNN") {
            spec.reduce_mode = ReduceMode::DropNonNumbers;
          } else if (mode == "replaceNN") {
            spec.reduce_mode = ReduceMode::ReplaceNonNumbers;
            OptNode rv = child(*settings, "replaceWithValue");
            if (!rv) {
              ctx_.error("rule/format", "reduce mode replaceNN needs `replaceWithValue`",
                         ctx_.pos(*settings), group, rule.name);
            } else if (auto v = ctx_.float_value(*rv)) {
              spec.replace_with = *v;
            }
          } else if (!mode.empty() && mode != "strict") {
            unsupported(fmt::format("unsupported reduce mode \"{}\"", mode), ctx_.pos(*settings),
                        group, rule.name);
          }
        }
        input = lookup(*input);
        if (!input) return;
      } else {
        spec.reduce = Reducer::Last;
      }
      resolve_query(*input, spec, group, rule.name);
      return;
    }
    if (type == "classic_conditions") {
      convert_classic(cond, nodes, spec, rule, group);
      return;
    }
    unsupported(fmt::format("Grafana `{}` expressions cannot be evaluated by ruleeval (supported: "
                            "a query with reduce + threshold, or classic_conditions)",
                            type.empty() ? "untyped" : type),
                model_pos(cond, "type"), group, rule.name);
  }

  void convert_classic(const DataNode& cond, const std::map<std::string, DataNode>& nodes,
                       GrafanaSpec& spec, Rule& rule, const std::string& group) {
    OptNode conds = child(*cond.model, "conditions");
    if (!conds || !conds->IsSequence() || conds->size() == 0) {
      ctx_.error("rule/format", "classic_conditions needs a non-empty `conditions` list",
                 model_pos(cond, "conditions"), group, rule.name);
      return;
    }
    std::string text;
    std::string query_ref;
    for (size_t i = 0; i < conds->size(); ++i) {
      const yml::Node& c = (*conds)[i];
      OptNode q = child(c, "query");
      OptNode params = !q ? OptNode() : child(*q, "params");
      std::string ref = params && params->IsSequence() && params->size() > 0 &&
                                (*params)[0].IsScalar()
                            ? (*params)[0].Scalar()
                            : std::string();
      if (query_ref.empty()) query_ref = ref;
      if (ref != query_ref) {
        unsupported("classic conditions over more than one query are not supported",
                    ctx_.pos(c), group, rule.name);
        return;
      }
      OptNode red = child(c, "reducer");
      std::string reducer = !red ? "avg" : scalar_or_empty(child(*red, "type"));
      OptNode ev = child(c, "evaluator");
      std::string ev_type = !ev ? "" : scalar_or_empty(child(*ev, "type"));
      std::string clause;
      if (ev_type == "no_value") {
        clause = "HAS NO VALUE";
      } else {
        if (!ev) {
          ctx_.error("rule/format", "classic condition needs an `evaluator`", ctx_.pos(c), group,
                     rule.name);
          return;
        }
        auto t = evaluator(*ev, group, rule.name);
        if (!t) return;
        switch (t->op) {
          case ThresholdOp::Above:
            clause = fmt::format("IS ABOVE {}", t->a);
            break;
          case ThresholdOp::Below:
            clause = fmt::format("IS BELOW {}", t->a);
            break;
          case ThresholdOp::WithinRange:
            clause = fmt::format("IS WITHIN RANGE {}, {}", t->a, t->b);
            break;
          case ThresholdOp::OutsideRange:
            clause = fmt::format("IS OUTSIDE RANGE {}, {}", t->a, t->b);
            break;
          default:
            unsupported(fmt::format("evaluator \"{}\" is not allowed in classic conditions",
                                    ev_type),
                        ctx_.pos(*ev), group, rule.name);
            return;
        }
      }
      std::string op = "and";
      if (OptNode o = child(c, "operator")) op = scalar_or_empty(child(*o, "type"));
      const std::string lead = i == 0 ? "WHEN" : (op == "or" ? " OR WHEN" : " AND WHEN");
      text += fmt::format("{} {}() OF query({}, {}, now) {}", lead, reducer, ref, "RANGE",
                          clause);
    }
    auto q = nodes.find(query_ref);
    if (q == nodes.end()) {
      ctx_.error("rule/format",
                 fmt::format("classic condition refers to unknown refId \"{}\"", query_ref),
                 ctx_.pos(cond.node), group, rule.name);
      return;
    }
    if (!resolve_query(q->second, spec, group, rule.name)) return;
    // Fill in the query range now that it is known.
    const std::string range = spec.range_ms > 0 ? format_range(spec.range_ms) : "5m";
    size_t at = 0;
    while ((at = text.find("RANGE, now", at)) != std::string::npos) {
      text.replace(at, 5, range);
      at += range.size();
    }
    spec.condition.value = text;
    spec.condition.present = true;
    spec.condition.pos = ctx_.pos(cond.node);
  }

  static std::string format_range(int64_t ms) {
    if (ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
    if (ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
    return fmt::format("{}s", ms / 1000);
  }

  YamlContext& ctx_;
};

}  // namespace

void decode_grafana_provisioning(YamlContext& ctx, const yml::Node& doc) {
  ProvisioningDecoder(ctx).decode(doc);
}

}  // namespace ruleeval::rules
