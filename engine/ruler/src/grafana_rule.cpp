// Rules from Grafana provisioning/export files: the refId DAG evaluated by grafana_expr, then
// Grafana's alert-instance state machine (pkg/services/ngalert/state: Normal, Pending, Alerting,
// Recovering, NoData, Error; noDataState/execErrState, keepFiringFor, missing series, the
// grafana_state_reason), and Grafana recording rules (record: {metric, from}).
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <unordered_set>

#include "ruleeval/engine/grafana_expr.hpp"
#include "ruleeval/engine/group_eval.hpp"

namespace ruleeval::engine {
namespace {

using gexpr::EvalItem;
using RState = EvalItem::State;

bool firing_like(GrafanaState s) {
  return s == GrafanaState::kAlerting || s == GrafanaState::kRecovering ||
         s == GrafanaState::kNoData || s == GrafanaState::kError;
}

void to_normal(GrafanaInstance& in, Millis ts, Millis keep_firing_for) {
  switch (in.state) {
    case GrafanaState::kNormal:
      return;
    case GrafanaState::kAlerting:
      if (keep_firing_for > 0) {
        in.state = GrafanaState::kRecovering;
        in.recovering_since = ts;
        return;
      }
      break;
    case GrafanaState::kRecovering:
      if (ts - in.recovering_since < keep_firing_for) return;
      break;
    default:
      break;
  }
  if (firing_like(in.state)) in.resolved_at = ts;
  in.state = GrafanaState::kNormal;
  in.starts_at = ts;
  in.fired_at = kNoTime;
  in.recovering_since = kNoTime;
}

void to_alerting(GrafanaInstance& in, Millis ts, Millis for_ms) {
  switch (in.state) {
    case GrafanaState::kAlerting:
      return;
    case GrafanaState::kPending:
      if (ts - in.starts_at >= for_ms) {
        in.state = GrafanaState::kAlerting;
        in.starts_at = ts;
        in.fired_at = ts;
      }
      return;
    case GrafanaState::kRecovering:
      // Back to Alerting without a pending period; the alert never stopped firing.
      in.state = GrafanaState::kAlerting;
      in.recovering_since = kNoTime;
      return;
    default:
      break;
  }
  in.resolved_at = kNoTime;
  in.starts_at = ts;
  if (for_ms > 0) {
    in.state = GrafanaState::kPending;
    in.fired_at = kNoTime;
  } else {
    in.state = GrafanaState::kAlerting;
    in.fired_at = ts;
  }
}

void to_problem_state(GrafanaInstance& in, GrafanaState s, Millis ts) {
  if (in.state == s) return;
  in.state = s;
  in.starts_at = ts;
  in.fired_at = ts;
  in.resolved_at = kNoTime;
  in.recovering_since = kNoTime;
}

void keep_last(GrafanaInstance& in, Millis ts, const GrafanaRuleParams& p) {
  switch (in.state) {
    case GrafanaState::kAlerting:
    case GrafanaState::kNormal:
      return;
    case GrafanaState::kPending:
      if (ts - in.starts_at >= p.for_ms) to_alerting(in, ts, p.for_ms);
      return;
    default:
      to_normal(in, ts, p.keep_firing_for_ms);
  }
}

// Applies one result to an instance; returns the state reason.
std::string apply(GrafanaInstance& in, const EvalItem& r, const GrafanaRuleParams& p, Millis ts) {
  GrafanaState result_state = GrafanaState::kNormal;
  bool keep = false;
  in.extra_annotations = Labels{};
  switch (r.state) {
    case RState::kNormal:
      to_normal(in, ts, p.keep_firing_for_ms);
      break;
    case RState::kAlerting:
      result_state = GrafanaState::kAlerting;
      to_alerting(in, ts, p.for_ms);
      break;
    case RState::kNoData:
      result_state = GrafanaState::kNoData;
      switch (p.no_data) {
        case NoDataMapping::kAlerting:
          to_alerting(in, ts, p.for_ms);
          break;
        case NoDataMapping::kNoData:
          to_problem_state(in, GrafanaState::kNoData, ts);
          break;
        case NoDataMapping::kOk:
          to_normal(in, ts, p.keep_firing_for_ms);
          break;
        case NoDataMapping::kKeepLast:
          keep = true;
          keep_last(in, ts, p);
          break;
      }
      break;
    case RState::kError: {
      result_state = GrafanaState::kError;
      LabelsBuilder ab;
      ab.set("Error", r.error);
      in.extra_annotations = ab.build();
      switch (p.exec_err) {
        case ExecErrMapping::kAlerting:
          to_alerting(in, ts, p.for_ms);
          break;
        case ExecErrMapping::kError:
          to_problem_state(in, GrafanaState::kError, ts);
          break;
        case ExecErrMapping::kOk:
          to_normal(in, ts, p.keep_firing_for_ms);
          break;
        case ExecErrMapping::kKeepLast:
          keep = true;
          keep_last(in, ts, p);
          break;
      }
      break;
    }
  }
  if ((r.state == RState::kNoData || r.state == RState::kError) && in.state != result_state) {
    std::string reason = r.state == RState::kNoData ? "NoData" : "Error";
    if (keep) reason += ", KeepLast";
    return reason;
  }
  return "";
}

// Result labels Grafana renames because the user cannot set them (LabelsUserCannotSpecify):
// "__x__" becomes "x", or "__x___user" when "x" exists; dropped when that exists too.
Labels rename_reserved(const Labels& raw) {
  static constexpr std::string_view kReserved[] = {
      "__grafana_autogenerated__", "__grafana_receiver__", "__grafana_route_settings_hash__"};
  LabelsBuilder b(raw);
  bool changed = false;
  for (std::string_view key : kReserved) {
    const std::string k(key);
    if (!raw.has(k)) continue;
    const std::string value(raw.get(k));
    b.del(k);
    changed = true;
    std::string nk = k.substr(2, k.size() - 4);
    if (raw.has(nk)) nk = k + "_user";
    if (!raw.has(nk)) b.set(nk, value);
  }
  return changed ? b.build() : raw;
}

}  // namespace

// The labels Grafana adds to every alert of a rule (getRuleExtraLabels), public and private.
Labels grafana_extra_labels(const GrafanaRuleParams& p, std::string_view folder,
                            const Labels& private_labels) {
  LabelsBuilder b(private_labels);
  b.set("alertname", p.title);
  b.set("grafana_folder", folder);
  return b.build();
}

namespace {

// expandAnnotationsAndLabels: extra labels win over the rule's (expanded) labels, which win
// over the result's. Private (__x__) labels stay out of the instance labels; the rule adds
// them back when it sends the alerts.
Labels instance_labels(const Labels& result, const Labels& extra, const Labels& rule_labels) {
  LabelsBuilder b(result);
  for (const auto& l : rule_labels) b.set(l.name, l.value);
  for (const auto& l : extra) {
    if (l.name.starts_with("__") && l.name.ends_with("__")) continue;
    b.set(l.name, l.value);
  }
  return b.build();
}

}  // namespace

// One evaluation's results into the rule's instances (manager.go setNextStateForRule).
void apply_grafana_results(GrafanaInstances& instances, const GrafanaRuleParams& p,
                           std::string_view folder, const Labels& private_labels,
                           const GrafanaLabelExpander& expand,
                           const std::vector<EvalItem>& items,
                           Millis ts, Millis interval) {
  const Labels extra = grafana_extra_labels(p, folder, private_labels);
  // Instances resolved as missing were reported once; drop them now.
  std::erase_if(instances, [](const auto& kv) {
    return kv.second.state == GrafanaState::kNormal && kv.second.state_reason == "MissingSeries";
  });
  std::unordered_set<Labels> seen;
  auto all_are = [&](RState s) {
    return !items.empty() &&
           std::all_of(items.begin(), items.end(), [&](const EvalItem& i) { return i.state == s; });
  };
  const bool rule_wide =
      !instances.empty() &&
      ((all_are(RState::kNoData) && p.no_data != NoDataMapping::kNoData) ||
       (all_are(RState::kError) && p.exec_err != ExecErrMapping::kError));
  if (rule_wide) {
    const EvalItem& r = items.front();
    for (auto& [lbs, in] : instances) {
      in.state_reason = apply(in, r, p, ts);
      LabelsBuilder ab(in.extra_annotations);
      if (!r.datasource_uid.empty()) ab.set("datasource_uid", r.datasource_uid);
      if (!r.ref_id.empty()) ab.set("ref_id", r.ref_id);
      in.extra_annotations = ab.build();
      in.last_eval = ts;
      in.missed_evals = 0;
      for (auto& [k, v] : in.values) v = -1;
      seen.insert(lbs);
    }
    return;
  }
  for (const auto& r : items) {
    Labels raw = r.labels;
    if (r.state == RState::kError && p.exec_err == ExecErrMapping::kError &&
        !r.ref_id.empty()) {
      LabelsBuilder b(raw);
      b.set("ref_id", r.ref_id);
      if (!r.datasource_uid.empty()) b.set("datasource_uid", r.datasource_uid);
      raw = b.build();
    }
    const Labels result = rename_reserved(raw);
    LabelsBuilder tb(result);
    for (const auto& l : extra) tb.set(l.name, l.value);
    Labels tmpl_labels = tb.build();
    Labels rule_labels = expand ? expand(tmpl_labels, r) : p.labels;
    Labels lbs = instance_labels(result, extra, rule_labels);
    auto [it, inserted] = instances.try_emplace(lbs);
    GrafanaInstance& in = it->second;
    if (inserted) {
      in.labels = lbs;
      in.starts_at = ts;
    }
    in.raw_labels = raw;
    in.template_labels = std::move(tmpl_labels);
    in.state_reason = apply(in, r, p, ts);
    in.last_eval = ts;
    in.missed_evals = 0;
    in.value = r.value ? *r.value : NAN;
    if (r.state == RState::kNoData || r.state == RState::kError) {
      for (auto& [k, v] : in.values) v = -1;
    } else {
      in.values = r.values;
      in.value_labels = r.value_labels;
      in.value_string = r.value_string;
    }
    seen.insert(std::move(lbs));
  }
  for (auto& [lbs, in] : instances) {
    if (seen.contains(lbs)) continue;
    const int n = in.state == GrafanaState::kError || in.state == GrafanaState::kNoData
                      ? 1
                      : p.missing_series_evals_to_resolve;
    ++in.missed_evals;
    if (!is_set(in.last_eval) || ts - in.last_eval >= n * interval) {
      if (firing_like(in.state) || in.state == GrafanaState::kPending) {
        if (firing_like(in.state)) in.resolved_at = ts;
      }
      in.state = GrafanaState::kNormal;
      in.starts_at = ts;
      in.fired_at = kNoTime;
      in.state_reason = "MissingSeries";
    }
  }
}

namespace {
// Grafana's template.Value: {{ $values.B }} prints the number (strconv 'f', -1).
std::shared_ptr<const tmpl::TypeInfo> grafana_value_type() {
  static const auto type = [] {
    auto t = std::make_shared<tmpl::TypeInfo>();
    t->name = "template.Value";
    t->is_struct = true;
    t->stringer = [](const tmpl::Value& v) -> std::string {
      const auto& m = v.as_map();
      auto it = m.find("Value");
      if (it == m.end() || it->second.kind() != tmpl::Value::Kind::kFloat) return "";
      const double x = it->second.as_float();
      if (std::isnan(x)) return "NaN";
      if (std::isinf(x)) return x > 0 ? "+Inf" : "-Inf";
      char buf[400];
      auto r = std::to_chars(buf, buf + sizeof(buf), x, std::chars_format::fixed);
      return std::string(buf, r.ptr);
    };
    return std::shared_ptr<const tmpl::TypeInfo>(std::move(t));
  }();
  return type;
}
}  // namespace

tmpl::Value grafana_template_data(const GrafanaInstance& inst) {
  tmpl::Map m;
  m.emplace("Labels", tmpl::Value::from_labels(inst.template_labels.empty() ? inst.labels
                                                                            : inst.template_labels));
  tmpl::Map values;
  std::string value_string;
  for (const auto& [ref, v] : inst.values) {
    tmpl::Map one;
    auto lit = inst.value_labels.find(ref);
    one.emplace("Labels", tmpl::Value::from_labels(lit != inst.value_labels.end() ? lit->second
                                                                                  : inst.raw_labels));
    one.emplace("Value", tmpl::Value(v));
    values.emplace(ref, tmpl::Value(std::move(one), grafana_value_type()));
    std::string lbs;
    for (const auto& l : inst.raw_labels) {
      if (!lbs.empty()) lbs += ", ";
      lbs += l.name + "=" + l.value;
    }
    if (!value_string.empty()) value_string += ", ";
    value_string += fmt::format("[ var='{}' labels={{{}}} value={} ]", ref, lbs,
                                tmpl::go_format_float(v));
  }
  m.emplace("Values", tmpl::Value(std::move(values)));
  m.emplace("Value", tmpl::Value(inst.value_string.empty() ? value_string : inst.value_string));
  return tmpl::Value(std::move(m));
}

// The private labels of a Grafana rule's alerts: __alert_rule_uid__ and, with
// notification_settings, Grafana's autogenerated-route labels (NotificationSettings.ToLabels).
Labels grafana_private_labels(const rules::GrafanaSpec& g) {
  LabelsBuilder b;
  if (!g.uid.empty()) b.set("__alert_rule_uid__", g.uid);
  if (g.notification) {
    b.set("__grafana_autogenerated__", "true");
    b.set("__grafana_receiver__", g.notification->receiver);
    if (!g.notification->all_default()) {
      b.set("__grafana_route_settings_hash__", g.notification->fingerprint());
    }
  } else if (!g.receiver.empty()) {
    b.set("__grafana_autogenerated__", "true");
    b.set("__grafana_receiver__", g.receiver);
  }
  return b.build();
}

namespace {
GrafanaRuleParams params_of(const rules::Rule& rule) {
  const rules::GrafanaSpec& g = *rule.grafana;
  GrafanaRuleParams p;
  p.title = rule.name;
  p.for_ms = rule.for_.ms;
  p.keep_firing_for_ms = rule.keep_firing_for.ms;
  LabelsBuilder b;
  for (const auto& kv : rule.labels) b.set(kv.key, kv.value.value);
  p.labels = b.build();
  p.missing_series_evals_to_resolve = g.missing_series_evals_to_resolve;
  p.no_data = static_cast<NoDataMapping>(static_cast<int>(g.no_data));
  p.exec_err = static_cast<ExecErrMapping>(static_cast<int>(g.on_error));
  return p;
}
}  // namespace

void GroupRuntime::eval_grafana_dag(RuleRuntime& rt, Millis ts, RuleQuerier& q) {
  const rules::Rule& rule = *rt.rule;
  const rules::GrafanaSpec& g = *rule.grafana;
  GrafanaRuleParams p = params_of(rule);
  gexpr::DagOptions opts;
  std::unordered_set<Labels> loaded;
  for (const auto& [_, in] : rt.instances) {
    if ((in.state == GrafanaState::kAlerting || in.state == GrafanaState::kPending) &&
        in.state_reason.empty()) {
      if (!in.raw_labels.empty() || in.labels.empty()) {
        loaded.insert(in.raw_labels);
        continue;
      }
      // Restored from a state file (raw labels are not saved): the instance labels without
      // the ones the rule adds.
      LabelsBuilder b(in.labels);
      for (const auto& l : p.labels) b.del(l.name);
      b.del("alertname");
      b.del("grafana_folder");
      b.del("__grafana_receiver__");
      loaded.insert(b.build());
    }
  }
  opts.loaded = [&](const Labels& l) { return loaded.contains(l); };
  auto items = gexpr::evaluate_rule(*g.dag, q, ts - env_.query_offset, opts);
  // Rule labels are templates too, expanded per result with $labels (extra + result labels),
  // $values and $value; a template that fails keeps its text, as in Grafana.
  GrafanaLabelExpander expand;
  const bool templated = std::any_of(rule.labels.begin(), rule.labels.end(),
                                     [](const rules::KeyValue& kv) { return kv.tmpl != nullptr; });
  if (templated) {
    const tmpl::FuncMap& funcs = template_funcs(q, ts);
    expand = [&](const Labels& tmpl_labels, const EvalItem& r) {
      GrafanaInstance view;
      view.template_labels = tmpl_labels;
      view.raw_labels = r.labels;
      view.values = r.values;
      view.value_labels = r.value_labels;
      view.value_string = r.value_string;
      tmpl::Value d = grafana_template_data(view);
      LabelsBuilder b;
      for (const auto& kv : rule.labels) {
        if (!kv.tmpl) {
          b.set(kv.key, kv.value.value);
          continue;
        }
        auto out = tmpl::render(*kv.tmpl, d, funcs);
        b.set(kv.key, out ? *out : kv.value.value);
      }
      return b.build();
    };
  }
  apply_grafana_results(rt.instances, p, g.folder, grafana_private_labels(g), expand, items, ts,
                        env_.interval);
  rt.last_samples = items.size();
  if (items.size() == 1 && items[0].state == RState::kError) {
    rt.health = RuleHealth::kErr;
    rt.last_error = items[0].error;
  }
}

void GroupRuntime::eval_grafana_record(RuleRuntime& rt, Millis ts, RuleQuerier& q,
                                       const AppendFn& append) {
  const rules::Rule& rule = *rt.rule;
  const rules::GrafanaSpec& g = *rule.grafana;
  const Millis t = ts - env_.query_offset;
  gexpr::Vars vars;
  auto items = gexpr::evaluate_rule(*g.dag, q, t, gexpr::DagOptions{}, &vars);
  if (items.size() == 1 && items[0].state == RState::kError) {
    rt.health = RuleHealth::kErr;
    rt.last_error = items[0].error;
    return;
  }
  std::vector<OutputSample> out;
  auto it = vars.find(g.dag->condition);
  if (it != vars.end() && !gexpr::is_no_data(it->second)) {
    std::unordered_set<Labels> seen;
    for (const auto& v : it->second) {
      if (v.kind == gexpr::GValue::Kind::kSeries) {
        rt.health = RuleHealth::kErr;
        rt.last_error = fmt::format("recording rule {}: the result of {} is a time series; "
                                    "reduce it to numbers first",
                                    g.record_metric, g.dag->condition);
        return;
      }
      if (v.kind == gexpr::GValue::Kind::kNoData) continue;
      if (!v.v) {
        rt.health = RuleHealth::kErr;
        rt.last_error = fmt::format("recording rule {}: nil frame (a null value in {})",
                                    g.record_metric, g.dag->condition);
        return;
      }
      LabelsBuilder b(v.labels);
      b.del(kMetricName);
      for (const auto& kv : rule.labels) b.set(kv.key, kv.value.value);
      b.set(kMetricName, g.record_metric);
      Labels lbs = b.build();
      if (!seen.insert(lbs).second) {
        rt.health = RuleHealth::kErr;
        rt.last_error = "vector contains metrics with the same labelset after applying rule labels";
        return;
      }
      out.push_back(OutputSample{std::move(lbs), t, *v.v, nullptr});
    }
  }
  for (const auto& s : out) append(s.labels, s.t, s.value);
  for (const auto& s : rt.stale.update(out, t)) append(s.labels, s.t, s.value);
  rt.last_samples = out.size();
}

}  // namespace ruleeval::engine
