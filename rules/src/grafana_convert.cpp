// Grafana provisioning and export files (apiVersion: 1, YAML or JSON) into the rule model. A
// rule's `data` list becomes a GrafanaDag (grafana_dag.hpp): Prometheus queries plus the
// server-side expressions math, reduce, resample, threshold and classic_conditions, evaluated by
// the engine as Grafana evaluates them. What we cannot evaluate (sql expressions, queries to
// non-Prometheus datasources) is a "grafana/unsupported" error at the node; nothing is skipped.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "fmt/format.h"
#include "rule_finish.hpp"
#include "ruleeval/common/millis.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/rules/grafana_interpolate.hpp"

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

// Grafana durations for resample windows: Prometheus units plus plain seconds ("10").
std::optional<int64_t> grafana_duration(const std::string& s) {
  if (s.empty()) return std::nullopt;
  if (s.find_first_not_of("0123456789") == std::string::npos) return seconds_to_ms(std::stoll(s));
  auto d = parse_duration(s);
  if (!d) return std::nullopt;
  return *d;
}

bool valid_evaluator_type(std::string_view t) {
  static constexpr std::string_view kTypes[] = {
      "gt", "lt", "eq", "ne", "gte", "lte", "within_range", "outside_range",
      "within_range_included", "outside_range_included"};
  return std::find(std::begin(kTypes), std::end(kTypes), t) != std::end(kTypes);
}

size_t evaluator_arity(std::string_view t) {
  return t.find("range") != std::string_view::npos ? 2 : 1;
}

constexpr std::string_view kGroupFields[] = {"orgId", "name", "folder", "interval", "rules"};
constexpr std::string_view kRuleFields[] = {
    "uid", "title", "condition", "data", "dashboardUid", "dasboardUid", "panelId",
    "noDataState", "execErrState", "for", "keepFiringFor", "annotations", "labels", "isPaused",
    "notification_settings", "record", "missing_series_evals_to_resolve", "orgId", "id",
    "updated", "intervalSeconds", "version", "namespace_uid", "rule_group", "folderUID",
    "ruleGroup", "provenance", "guid", "metadata"};

class ProvisioningDecoder {
 public:
  explicit ProvisioningDecoder(YamlContext& ctx) : ctx_(ctx) {}

  void decode(const yml::Node& doc) {
    ctx_.check_duplicate_keys(doc);
    for (const auto& kv : doc) {
      const std::string& key = kv.first.Scalar();
      if (key == "apiVersion" || key == "groups" || key == "deleteRules") continue;
      // Contact points, policies, mute timings and templates are read by notifiers/
      // (grafana_provisioning.hpp) when `ruleeval run` starts and by `ruleeval lint`.
      if (key == "contactPoints" || key == "policies" || key == "muteTimes" ||
          key == "templates") {
        continue;
      }
      if (key == "deleteContactPoints" || key == "resetPolicies" || key == "deleteMuteTimes" ||
          key == "deleteTemplates" || key == "deleteNotificationPolicies") {
        if (kv.second.IsNull() || (kv.second.IsSequence() && kv.second.size() == 0)) continue;
        ctx_.error("grafana/unsupported",
                   fmt::format("`{}` deletes objects provisioned earlier in Grafana's database; "
                               "ruleeval has no such database: remove the entries from the files "
                               "instead",
                               key),
                   ctx_.pos(kv.first), "", "");
        continue;
      }
      ctx_.unknown_field(kv.first, "alerting.AlertingFileV1");
    }
    OptNode groups = child(doc, "groups");
    if (groups && !groups->IsNull()) {
      if (!groups->IsSequence()) {
        ctx_.type_error(*groups, "[]AlertRuleGroupV1");
      } else {
        for (const auto& g : *groups) decode_group(g);
      }
    }
    if (OptNode del = child(doc, "deleteRules"); del && !del->IsNull()) {
      decode_delete_rules(*del);
    }
    disambiguate_group_names();
  }

  // Grafana identifies a group by (folder, name); the engine, its state files and its API by
  // (file, name). A name used in two folders of one file is shown as "<folder>/<name>".
  void disambiguate_group_names() {
    auto& groups = ctx_.file().groups;
    std::map<std::string, std::set<std::string>> folders_of;
    for (const auto& g : groups) {
      if (!g.grafana_folder.empty()) folders_of[g.name].insert(g.grafana_folder);
    }
    for (auto& g : groups) {
      if (g.grafana_folder.empty()) continue;
      auto it = folders_of.find(g.name);
      if (it != folders_of.end() && it->second.size() > 1) g.name = g.grafana_folder + "/" + g.name;
    }
  }

 private:
  // deleteRules: [{orgId, uid}]. Grafana deletes after provisioning the groups, so a rule both
  // defined and deleted in the file is gone.
  void decode_delete_rules(const yml::Node& del) {
    if (!del.IsSequence()) {
      ctx_.type_error(del, "[]RuleDelete");
      return;
    }
    std::set<std::string> uids;
    for (const auto& d : del) {
      std::string uid = scalar_or_empty(child(d, "uid"));
      if (uid.empty()) {
        ctx_.error("rule/format", "deleteRules entry needs a `uid`", ctx_.pos(d), "", "");
        continue;
      }
      uids.insert(uid);
    }
    for (auto& g : ctx_.file().groups) {
      if (g.grafana_folder.empty()) continue;
      std::erase_if(g.rules, [&](const Rule& r) {
        return r.grafana && !r.grafana->uid.empty() && uids.contains(r.grafana->uid);
      });
    }
  }

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
      } else if (std::find(std::begin(kGroupFields), std::end(kGroupFields), key) ==
                 std::end(kGroupFields)) {
        ctx_.unknown_field(kv.first, "AlertRuleGroupV1");
      }
    }
    if (folder.empty()) {
      ctx_.error("rule/format", "Grafana rule group needs a `folder`", group.pos, group.name, "");
    }
    if (!group.interval.present) {
      ctx_.error("rule/format", "Grafana rule group needs an `interval`", group.pos, group.name,
                 "");
    } else if (group.interval.ms <= 0 || group.interval.ms % 10'000 != 0) {
      ctx_.error("rule/format",
                 "Grafana rule group `interval` must be a positive multiple of 10s (the "
                 "scheduler's base interval)",
                 group.interval.pos, group.name, "");
    }
    group.grafana_folder = folder.empty() ? "General" : folder;
    if (rules && rules->IsSequence()) {
      for (const auto& r : *rules) {
        if (auto rule = decode_rule(r, group.name, group.grafana_folder)) {
          group.rules.push_back(std::move(*rule));
        }
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

  // Grafana writes `labels: {"": ""}` in exports; an empty name is no label (Grafana drops
  // it before notifying), so it is dropped here.
  // Grafana keeps it in the rule; its Alertmanager skips labels with an empty value
  // (PutAlerts), so nothing of it reaches a notification. An empty name with a value would make
  // Grafana's Alertmanager reject every alert of the rule ("invalid label set"): refused.
  std::vector<KeyValue> labels_of(const yml::Node& v, std::string_view what = "label") {
    auto kvs = ctx_.string_map(v);
    for (const auto& kv : kvs) {
      if (kv.key.empty() && !kv.value.value.empty()) {
        ctx_.error("rule/format",
                   fmt::format("{} with an empty name (value \"{}\"): Grafana's Alertmanager "
                               "rejects the rule's alerts",
                               what, kv.value.value),
                   kv.key_pos.known() ? kv.key_pos : ctx_.pos(v), "", "");
      }
    }
    std::erase_if(kvs, [](const KeyValue& kv) { return kv.key.empty(); });
    return kvs;
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
    Scalar record_from;
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
        rule.labels = labels_of(v);
      } else if (key == "annotations") {
        rule.annotations = labels_of(v, "annotation");
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
        if (!v.IsMap()) {
          ctx_.type_error(v, "RecordV1");
          continue;
        }
        for (const auto& rkv : v) {
          const std::string& rk = rkv.first.Scalar();
          if (rk == "metric") {
            spec.record_metric = ctx_.string_value(rkv.second).value;
          } else if (rk == "from") {
            record_from = ctx_.string_value(rkv.second);
          } else if (rk == "target_datasource_uid" || rk == "targetDatasourceUid") {
            // Results go where the run's recording results go (embedded store, remote_write).
          } else {
            ctx_.unknown_field(rkv.first, "RecordV1");
          }
        }
        if (spec.record_metric.empty() || !record_from.present) {
          ctx_.error("rule/format", "a Grafana recording rule needs `record.metric` and "
                                    "`record.from`",
                     ctx_.pos(v), group, rule.name);
        }
      } else if (key == "isPaused") {
        spec.paused = v.IsScalar() && v.Scalar() == "true";
      } else if (key == "missing_series_evals_to_resolve") {
        int64_t n = ctx_.int_value(v);
        if (n <= 0) {
          ctx_.error("rule/format", "missing_series_evals_to_resolve must be greater than 0",
                     ctx_.pos(v), group, rule.name);
        } else {
          spec.missing_series_evals_to_resolve = static_cast<int>(std::min<int64_t>(n, 1 << 20));
        }
      } else if (key == "notification_settings") {
        decode_notification_settings(v, spec, group, rule.name);
      } else if (std::find(std::begin(kRuleFields), std::end(kRuleFields), key) ==
                 std::end(kRuleFields)) {
        ctx_.unknown_field(kv.first, "AlertRuleV1");
      }
      // orgId, dashboardUid, panelId and the export API's bookkeeping fields: not needed for
      // evaluation.
    }
    if (rule.name.empty()) {
      ctx_.error("rule/format", "Grafana rule needs a `title`", rule.pos, group, "");
    }
    // The export API writes rules without `uid`; Grafana then creates one. Without a uid the
    // rule cannot be named in deleteRules, nothing else depends on it.
    if (spec.uid.empty()) spec.uid = fmt::format("{}/{}/{}", folder, group, rule.name);
    if (!spec.record_metric.empty()) {
      rule.kind = RuleKind::Recording;
      rule.name = spec.record_metric;
      rule.name_pos = record_from.pos;
      condition = record_from;
    }
    if (!data || !data->IsSequence() || data->size() == 0) {
      ctx_.error("rule/format", "Grafana rule needs a non-empty `data` list", rule.pos, group,
                 rule.name);
      return rule;
    }
    auto dag = std::make_shared<GrafanaDag>();
    dag->condition = condition.value;
    broken_.clear();
    for (const auto& d : *data) {
      if (auto n = decode_node(d, group, rule.name)) {
        dag->nodes.push_back(std::move(*n));
      } else if (d.IsMap()) {
        // Already reported; refIds that read it are not reported again.
        broken_.insert(scalar_or_empty(child(d, "refId")));
      }
    }
    check_dag(*dag, condition, rule, group);
    // The first Prometheus query stands for the rule in lint checks and the generator URL.
    for (const auto& n : dag->nodes) {
      if (n.type == GrafanaNodeType::kQuery && !n.expr.empty()) {
        spec.query = first_query_scalar_;
        rule.expr = first_query_scalar_;
        break;
      }
    }
    first_query_scalar_ = Scalar{};
    spec.queries = std::move(queries_);
    queries_.clear();
    spec.dag = std::move(dag);
    rule.grafana = std::move(spec);
    return rule;
  }

  // notification_settings (simplified routing): receiver, group_by, group_wait,
  // group_interval, repeat_interval, mute_time_intervals, active_time_intervals, validated as
  // Grafana's NotificationSettings.Validate does. Whether the receiver and the time intervals
  // exist is checked against the notification config when `ruleeval run` starts.
  void decode_notification_settings(const yml::Node& v, GrafanaSpec& spec,
                                    const std::string& group, const std::string& rule) {
    if (!v.IsMap()) {
      ctx_.type_error(v, "AlertRuleNotificationSettings");
      return;
    }
    GrafanaNotificationSettings ns;
    ns.pos = ctx_.pos(v);
    auto strings = [&](const yml::Node& n, std::vector<std::string>& out, bool refs) {
      if (n.IsNull()) return true;
      if (!n.IsSequence()) {
        ctx_.type_error(n, "[]string");
        return false;
      }
      for (const auto& e : n) {
        Scalar sv = ctx_.string_value(e);
        if (refs) ns.interval_refs.emplace_back(sv.value, sv.pos);
        out.push_back(sv.value);
      }
      return true;
    };
    auto duration = [&](const yml::Node& n, std::optional<int64_t>& out, bool allow_zero,
                        std::string_view what) {
      if (n.IsNull()) return;
      DurationField d = ctx_.duration_value(n);
      if (!d.present) return;
      if (d.ms < 0 || (!allow_zero && d.ms == 0)) {
        ctx_.error("rule/format",
                   fmt::format("notification_settings.{} must be a positive duration", what),
                   d.pos, group, rule);
        return;
      }
      out = d.ms;
    };
    for (const auto& kv : v) {
      const std::string& k = kv.first.Scalar();
      if (k == "receiver") {
        Scalar r = ctx_.string_value(kv.second);
        ns.receiver = r.value;
        ns.receiver_pos = r.pos;
      } else if (k == "group_by") {
        std::vector<std::string> gb;
        if (strings(kv.second, gb, false) && !kv.second.IsNull()) {
          const bool all = std::find(gb.begin(), gb.end(), "...") != gb.end();
          const bool has_name = std::find(gb.begin(), gb.end(), "alertname") != gb.end();
          const bool has_folder = std::find(gb.begin(), gb.end(), "grafana_folder") != gb.end();
          if (!all && (!has_name || !has_folder)) {
            ctx_.error("rule/format",
                       "notification_settings.group_by must contain the two required labels "
                       "'alertname' and 'grafana_folder'",
                       ctx_.pos(kv.second), group, rule);
          }
          ns.group_by = std::move(gb);
        }
      } else if (k == "group_wait") {
        duration(kv.second, ns.group_wait_ms, true, k);
      } else if (k == "group_interval") {
        duration(kv.second, ns.group_interval_ms, false, k);
      } else if (k == "repeat_interval") {
        duration(kv.second, ns.repeat_interval_ms, false, k);
      } else if (k == "mute_time_intervals") {
        strings(kv.second, ns.mute_time_intervals, true);
      } else if (k == "active_time_intervals") {
        strings(kv.second, ns.active_time_intervals, true);
      } else {
        ctx_.unknown_field(kv.first, "AlertRuleNotificationSettings");
      }
    }
    if (ns.receiver.empty()) {
      ctx_.error("rule/format", "notification_settings needs a `receiver`", ctx_.pos(v), group,
                 rule);
      return;
    }
    spec.receiver = ns.receiver;
    spec.notification = std::move(ns);
  }

  Pos model_pos(const OptNode& model, const yml::Node& entry, std::string_view key) {
    if (model) {
      if (OptNode v = child(*model, key)) return ctx_.pos(*v);
      return ctx_.pos(*model);
    }
    return ctx_.pos(entry);
  }

  // "$B" or "B" → "B" (reduce/resample/threshold `expression`).
  static std::string ref_of(std::string s) {
    if (s.size() > 3 && s[0] == '$' && s[1] == '{' && s.back() == '}') {
      return s.substr(2, s.size() - 3);
    }
    if (!s.empty() && s[0] == '$') return s.substr(1);
    return s;
  }

  std::optional<SseEvaluator> evaluator(const yml::Node& ev, const std::string& group,
                                        const std::string& rule, bool classic) {
    SseEvaluator e;
    e.type = scalar_or_empty(child(ev, "type"));
    Pos p = ctx_.pos(ev);
    if (classic) {
      if (e.type != "no_value" && !valid_evaluator_type(e.type)) {
        unsupported(fmt::format("unsupported classic condition evaluator \"{}\"", e.type), p,
                    group, rule);
        return std::nullopt;
      }
    } else if (!valid_evaluator_type(e.type)) {
      unsupported(fmt::format("unsupported evaluator type \"{}\"", e.type), p, group, rule);
      return std::nullopt;
    }
    const size_t want = e.type == "no_value" ? 0 : evaluator_arity(e.type);
    OptNode params = child(ev, "params");
    if (want > 0 && (!params || !params->IsSequence() || params->size() < want)) {
      ctx_.error("rule/format", fmt::format("evaluator \"{}\" needs {} param(s)", e.type, want),
                 p, group, rule);
      return std::nullopt;
    }
    for (size_t i = 0; i < want; ++i) {
      auto v = ctx_.float_value((*params)[i]);
      if (!v) return std::nullopt;
      e.params.push_back(*v);
    }
    return e;
  }

  std::optional<GrafanaNode> decode_node(const yml::Node& d, const std::string& group,
                                         const std::string& rule) {
    if (!d.IsMap()) {
      ctx_.type_error(d, "AlertQueryV1");
      return std::nullopt;
    }
    GrafanaNode n;
    Pos at = ctx_.pos(d);
    n.line = at.line;
    n.col = at.col;
    n.ref_id = scalar_or_empty(child(d, "refId"));
    n.datasource_uid = scalar_or_empty(child(d, "datasourceUid"));
    OptNode model = child(d, "model");
    if (n.ref_id.empty()) {
      ctx_.error("rule/format", "data entry needs a `refId`", at, group, rule);
      return std::nullopt;
    }
    if (OptNode rtr = child(d, "relativeTimeRange")) {
      if (OptNode f = child(*rtr, "from")) n.from_s = ctx_.int_value(*f);
      if (OptNode t = child(*rtr, "to")) n.to_s = ctx_.int_value(*t);
    } else {
      n.from_s = 0;
    }
    if (!model || !model->IsMap()) {
      ctx_.error("rule/format", fmt::format("data entry \"{}\" needs a `model`", n.ref_id), at,
                 group, rule);
      return std::nullopt;
    }
    std::string ds_type;
    if (OptNode ds = child(*model, "datasource")) {
      ds_type = scalar_or_empty(child(*ds, "type"));
      if (n.datasource_uid.empty()) n.datasource_uid = scalar_or_empty(child(*ds, "uid"));
    }
    const bool is_expr = n.datasource_uid == kExprDatasource || n.datasource_uid == "-100" ||
                         ds_type == kExprDatasource;
    if (!is_expr) return decode_query(n, d, *model, ds_type, group, rule);
    const std::string type = scalar_or_empty(child(*model, "type"));
    const Pos type_pos = model_pos(model, d, "type");
    auto input_of = [&]() {
      return ref_of(scalar_or_empty(child(*model, "expression")));
    };
    if (type == "math") {
      n.type = GrafanaNodeType::kMath;
      OptNode e = child(*model, "expression");
      if (!e || !e->IsScalar()) {
        ctx_.error("rule/format", "math expression needs an `expression`", type_pos, group, rule);
        return std::nullopt;
      }
      Scalar s = ctx_.string_value(*e);
      auto parsed = grafana::parse_math(s.value);
      if (!parsed) {
        const auto& w = parsed.error().where;
        std::string msg = parsed.error().message;
        if (auto colon = msg.find(": "); colon != std::string::npos) msg = msg.substr(colon + 2);
        ctx_.error("grafana/math", fmt::format("invalid math expression: {}", msg),
                   map_into_scalar(s, ctx_.file().text, w.line, w.col), group, rule);
        return std::nullopt;
      }
      n.math = std::make_shared<const grafana::MathNode>(std::move(*parsed));
      return n;
    }
    if (type == "reduce") {
      n.type = GrafanaNodeType::kReduce;
      n.input = input_of();
      std::string reducer = scalar_or_empty(child(*model, "reducer"));
      auto r = sse_reducer_from_name(reducer);
      if (!r) {
        unsupported(fmt::format("reduction {} not implemented (want sum, mean, min, max, count, "
                                "last or median)",
                                reducer),
                    model_pos(model, d, "reducer"), group, rule);
        return std::nullopt;
      }
      n.reducer = *r;
      if (OptNode settings = child(*model, "settings")) {
        std::string mode = scalar_or_empty(child(*settings, "mode"));
        if (mode == "dropNN") {
          n.mode = SseMode::kDropNN;
        } else if (mode == "replaceNN") {
          n.mode = SseMode::kReplaceNN;
          OptNode rv = child(*settings, "replaceWithValue");
          if (!rv) {
            ctx_.error("rule/format", "reduce mode replaceNN needs `replaceWithValue`",
                       ctx_.pos(*settings), group, rule);
            return std::nullopt;
          }
          auto v = ctx_.float_value(*rv);
          if (!v) return std::nullopt;
          n.replace_with = *v;
        } else if (!mode.empty() && mode != "strict") {
          ctx_.error("rule/format",
                     fmt::format("reducer mode {} is not supported (want dropNN, replaceNN or "
                                 "none)",
                                 mode),
                     ctx_.pos(*settings), group, rule);
          return std::nullopt;
        }
      }
      return n;
    }
    if (type == "resample") {
      n.type = GrafanaNodeType::kResample;
      n.input = input_of();
      std::string window = scalar_or_empty(child(*model, "window"));
      auto w = grafana_duration(window);
      if (!w || *w <= 0) {
        ctx_.error("rule/format", fmt::format("resample needs a valid `window`, got \"{}\"", window),
                   model_pos(model, d, "window"), group, rule);
        return std::nullopt;
      }
      n.window_ms = *w;
      std::string down = scalar_or_empty(child(*model, "downsampler"));
      auto r = sse_reducer_from_name(down);
      if (!r || *r == SseReducer::kCount || *r == SseReducer::kMedian) {
        unsupported(fmt::format("downsampling {} not implemented (want sum, mean, min, max or "
                                "last)",
                                down),
                    model_pos(model, d, "downsampler"), group, rule);
        return std::nullopt;
      }
      n.reducer = *r;
      std::string up = scalar_or_empty(child(*model, "upsampler"));
      if (up == "pad") {
        n.upsampler = Upsampler::kPad;
      } else if (up == "backfilling") {
        n.upsampler = Upsampler::kBackfilling;
      } else if (up == "fillna") {
        n.upsampler = Upsampler::kFillNA;
      } else {
        unsupported(fmt::format("upsampling {} not implemented (want pad, backfilling or "
                                "fillna)",
                                up),
                    model_pos(model, d, "upsampler"), group, rule);
        return std::nullopt;
      }
      return n;
    }
    if (type == "threshold") {
      n.type = GrafanaNodeType::kThreshold;
      n.input = input_of();
      OptNode conds = child(*model, "conditions");
      if (!conds || !conds->IsSequence() || conds->size() != 1) {
        ctx_.error("rule/format", "a threshold expression takes exactly one condition",
                   model_pos(model, d, "conditions"), group, rule);
        return std::nullopt;
      }
      const yml::Node& c0 = (*conds)[0];
      OptNode ev = child(c0, "evaluator");
      if (!ev) {
        ctx_.error("rule/format", "threshold condition needs an `evaluator`", ctx_.pos(c0), group,
                   rule);
        return std::nullopt;
      }
      auto e = evaluator(*ev, group, rule, false);
      if (!e) return std::nullopt;
      n.evaluator = *e;
      if (OptNode unload = child(c0, "unloadEvaluator"); unload && !unload->IsNull()) {
        auto u = evaluator(*unload, group, rule, false);
        if (!u) return std::nullopt;
        n.unload_evaluator = *u;
      }
      return n;
    }
    if (type == "classic_conditions") {
      n.type = GrafanaNodeType::kClassic;
      OptNode conds = child(*model, "conditions");
      if (!conds || !conds->IsSequence() || conds->size() == 0) {
        ctx_.error("rule/format", "classic_conditions needs a non-empty `conditions` list",
                   model_pos(model, d, "conditions"), group, rule);
        return std::nullopt;
      }
      for (size_t i = 0; i < conds->size(); ++i) {
        const yml::Node& c = (*conds)[i];
        ClassicCond cc;
        OptNode q = child(c, "query");
        OptNode params = !q ? OptNode() : child(*q, "params");
        cc.ref_id = params && params->IsSequence() && params->size() > 0
                        ? scalar_or_empty((*params)[0])
                        : std::string();
        if (cc.ref_id.empty()) {
          ctx_.error("rule/format", "classic condition needs `query.params[0]` (a refId)",
                     ctx_.pos(c), group, rule);
          return std::nullopt;
        }
        OptNode red = child(c, "reducer");
        std::string reducer = !red ? "avg" : scalar_or_empty(child(*red, "type"));
        auto r = classic::reducer_from_name(reducer);
        if (!r) {
          unsupported(fmt::format("unsupported classic condition reducer \"{}\"", reducer),
                      red ? ctx_.pos(*red) : ctx_.pos(c), group, rule);
          return std::nullopt;
        }
        cc.reducer = *r;
        OptNode ev = child(c, "evaluator");
        if (!ev) {
          ctx_.error("rule/format", "classic condition needs an `evaluator`", ctx_.pos(c), group,
                     rule);
          return std::nullopt;
        }
        auto e = evaluator(*ev, group, rule, true);
        if (!e) return std::nullopt;
        if (auto t = classic::evaluator_from_name(e->type)) cc.evaluator.type = *t;
        cc.evaluator.params = e->params;
        cc.evaluator_type = e->type;
        if (OptNode o = child(c, "operator")) {
          std::string op = scalar_or_empty(child(*o, "type"));
          if (op == "or") {
            cc.op_or = true;
          } else if (!op.empty() && op != "and" && i > 0) {
            ctx_.error("rule/format",
                       fmt::format("classic condition operator \"{}\" (want and or or)", op),
                       ctx_.pos(*o), group, rule);
            return std::nullopt;
          }
        }
        n.conditions.push_back(std::move(cc));
      }
      return n;
    }
    if (type == "sql") {
      unsupported("Grafana `sql` expressions are not supported by ruleeval", type_pos, group,
                  rule);
      return std::nullopt;
    }
    unsupported(fmt::format("unknown Grafana expression type \"{}\" (want math, reduce, "
                            "resample, threshold or classic_conditions)",
                            type),
                type_pos, group, rule);
    return std::nullopt;
  }

  std::optional<GrafanaNode> decode_query(GrafanaNode n, const yml::Node& d,
                                          const yml::Node& model, const std::string& ds_type,
                                          const std::string& group, const std::string& rule) {
    n.type = GrafanaNodeType::kQuery;
    if (!ds_type.empty() && ds_type != "prometheus") {
      unsupported(fmt::format("refId \"{}\" queries a `{}` datasource; only Prometheus "
                              "(PromQL) queries can be evaluated",
                              n.ref_id, ds_type),
                  model_pos(model, d, "datasource"), group, rule);
      return std::nullopt;
    }
    OptNode expr = child(model, "expr");
    if (!expr || !expr->IsScalar() || expr->Scalar().empty()) {
      unsupported(fmt::format("refId \"{}\" has no PromQL `expr` in its model; only Prometheus "
                              "queries can be evaluated",
                              n.ref_id),
                  ctx_.pos(d), group, rule);
      return std::nullopt;
    }
    Scalar s = ctx_.string_value(*expr);
    n.expr = s.value;
    n.expr_line = s.pos.line;
    n.expr_col = s.pos.col;
    if (!first_query_scalar_.present) first_query_scalar_ = s;
    promql::ParseOptions po;
    po.experimental_functions = ctx_.opts().experimental_promql;
    auto parsed = promql::parse(s.value, po);
    if (!parsed) {
      const auto& e = parsed.error();
      // The first query is reported by the file's PromQL pass (rule.expr); the others here.
      if (first_query_scalar_.value != s.value || first_query_scalar_.pos.line != s.pos.line) {
        ctx_.error("promql/syntax", fmt::format("could not parse expression: {}", e.message),
                   map_into_scalar(s, ctx_.file().text, e.where.line, e.where.col), group, rule);
      }
      return std::nullopt;
    }
    n.ast = std::shared_ptr<const promql::Expr>(std::move(*parsed));
    queries_.push_back(GrafanaSpec::Query{n.ref_id, s, n.ast});
    const bool instant = scalar_or_empty(child(model, "instant")) == "true";
    const bool range = scalar_or_empty(child(model, "range")) == "true";
    n.instant = instant;
    n.range = range || !instant;
    if (OptNode iv = child(model, "intervalMs")) {
      int64_t v = ctx_.int_value(*iv);
      if (v > 0) n.interval_ms = v;
    }
    if (OptNode mp = child(model, "maxDataPoints")) {
      int64_t v = ctx_.int_value(*mp);
      if (v > 0) n.max_data_points = v;
    }
    std::string interval = scalar_or_empty(child(model, "interval"));
    if (!interval.empty() && interval != "0s" && interval[0] != '$') {
      auto ms = grafana_duration(interval);
      if (!ms) {
        ctx_.error("rule/format", fmt::format("invalid query interval \"{}\"", interval),
                   model_pos(model, d, "interval"), group, rule);
        return std::nullopt;
      }
      n.min_step_ms = *ms;
    }
    if (n.from_s < n.to_s || (n.range && n.from_s == n.to_s)) {
      ctx_.error("rule/format",
                 fmt::format("refId \"{}\": relativeTimeRange.from ({}) must be greater than "
                             "`to` ({}) for a range query",
                             n.ref_id, n.from_s, n.to_s),
                 ctx_.pos(d), group, rule);
      return std::nullopt;
    }
    return n;
  }

  // DAG checks: unknown, self-referencing and cyclic refIds; a condition that is no node;
  // classic conditions only over queries.
  void check_dag(const GrafanaDag& dag, const Scalar& condition, const Rule& rule,
                 const std::string& group) {
    std::set<std::string> seen;
    for (const auto& n : dag.nodes) {
      if (!seen.insert(n.ref_id).second) {
        ctx_.error("grafana/dag", fmt::format("refId \"{}\" is defined twice", n.ref_id),
                   Pos{n.line, n.col}, group, rule.name);
      }
    }
    for (const auto& n : dag.nodes) {
      for (const auto& in : n.inputs()) {
        const GrafanaNode* d = dag.find(in);
        if (broken_.contains(in)) continue;
        if (in == n.ref_id) {
          ctx_.error("grafana/dag", fmt::format("refId \"{}\" refers to itself", n.ref_id),
                     Pos{n.line, n.col}, group, rule.name);
        } else if (!d) {
          ctx_.error("grafana/dag",
                     fmt::format("{} expression \"{}\" reads refId \"{}\", which is not "
                                 "defined (unable to find dependent node)",
                                 to_string(n.type), n.ref_id, in),
                     Pos{n.line, n.col}, group, rule.name);
        } else if (n.type == GrafanaNodeType::kClassic && d->type != GrafanaNodeType::kQuery) {
          ctx_.error("grafana/dag",
                     fmt::format("classic condition \"{}\" reads \"{}\", which is not a "
                                 "datasource query",
                                 n.ref_id, in),
                     Pos{n.line, n.col}, group, rule.name);
        } else if (d->type == GrafanaNodeType::kClassic) {
          ctx_.error("grafana/dag",
                     fmt::format("\"{}\" reads classic condition \"{}\"; a classic condition "
                                 "cannot feed another expression",
                                 n.ref_id, in),
                     Pos{n.line, n.col}, group, rule.name);
        }
      }
    }
    bool complete = true;
    for (const auto& n : dag.nodes) {
      for (const auto& in : n.inputs()) complete = complete && dag.find(in) && in != n.ref_id;
    }
    if (complete && dag.order().empty() && !dag.nodes.empty()) {
      ctx_.error("grafana/dag", "the rule's refIds form a cycle", rule.pos, group, rule.name);
    }
    if (condition.value.empty()) {
      ctx_.error("rule/format", "Grafana rule needs a `condition`", rule.pos, group, rule.name);
    } else if (!dag.find(condition.value) && !broken_.contains(condition.value)) {
      ctx_.error("grafana/dag",
                 fmt::format("condition \"{}\" is not the refId of any data entry",
                             condition.value),
                 condition.pos, group, rule.name);
    }
    for (const auto& n : dag.nodes) {
      if (n.type == GrafanaNodeType::kThreshold && n.unload_evaluator &&
          n.ref_id != condition.value) {
        ctx_.error("grafana/dag",
                   fmt::format("threshold \"{}\" has a recovery threshold but is not the rule's "
                               "condition",
                               n.ref_id),
                   Pos{n.line, n.col}, group, rule.name);
      }
    }
  }

  YamlContext& ctx_;
  Scalar first_query_scalar_;
  std::vector<GrafanaSpec::Query> queries_;  // of the current rule
  std::set<std::string> broken_;  // refIds of the current rule whose entry did not decode
};

// Grafana's provisioning interpolation (grafana_interpolate.hpp) of a rule file: the scalar
// values of groups and rules (Grafana's values.StringValue/Int64Value/BoolValue/StringMapValue
// fields: name, folder, interval, uid, title, condition, for, labels, ...), but not annotations
// (Grafana keeps their raw text, for `{{ $labels.x }}`) nor the queries' models (`$__interval`
// and other macros stay). The tree is rewritten in place before it is decoded.
void interpolate_scalar(YamlContext& ctx, const yml::Node& n,
                        std::set<const std::string*>& done) {
  if (!n.IsScalar() || n.Scalar().find('$') == std::string::npos) return;
  // An alias shares its anchor's node: interpolated once ("$$X" must not be expanded again).
  if (!done.insert(&n.Scalar()).second) return;
  auto r = grafana_interpolate(n.Scalar());
  if (!r) {
    ctx.error("rule/format", r.error().message, ctx.pos(n), "", "");
    return;
  }
  // The loader's stream owns the nodes and is read once, by this decoder.
  const_cast<std::string&>(n.Scalar()) = std::move(*r);
}

void interpolate_values(YamlContext& ctx, const yml::Node& n, std::set<const std::string*>& done) {
  if (n.IsScalar()) {
    interpolate_scalar(ctx, n, done);
  } else if (n.IsSequence()) {
    for (const auto& e : n) interpolate_values(ctx, e, done);
  } else if (n.IsMap()) {
    for (const auto& kv : n) interpolate_values(ctx, kv.second, done);
  }
}

void interpolate_rule_file(YamlContext& ctx, const yml::Node& doc) {
  std::set<const std::string*> done;
  OptNode groups = child(doc, "groups");
  if (!groups || !groups->IsSequence()) return;
  for (const auto& g : *groups) {
    if (!g.IsMap()) continue;
    for (const auto& gkv : g) {
      if (gkv.first.Scalar() != "rules") {
        interpolate_values(ctx, gkv.second, done);
        continue;
      }
      if (!gkv.second.IsSequence()) continue;
      for (const auto& r : gkv.second) {
        if (!r.IsMap()) continue;
        for (const auto& rkv : r) {
          const std::string& key = rkv.first.Scalar();
          if (key == "annotations") continue;
          if (key != "data") {
            interpolate_values(ctx, rkv.second, done);
            continue;
          }
          if (!rkv.second.IsSequence()) continue;
          for (const auto& q : rkv.second) {
            if (!q.IsMap()) continue;
            for (const auto& qkv : q) {
              if (qkv.first.Scalar() != "model") interpolate_values(ctx, qkv.second, done);
            }
          }
        }
      }
    }
  }
}

}  // namespace

void decode_grafana_provisioning(YamlContext& ctx, const yml::Node& doc) {
  interpolate_rule_file(ctx, doc);
  ProvisioningDecoder(ctx).decode(doc);
}

}  // namespace ruleeval::rules
