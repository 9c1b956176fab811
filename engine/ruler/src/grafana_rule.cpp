// Rules from Grafana provisioning/export files: the refId DAG evaluated by grafana_expr, then
// Grafana's alert-instance state machine (pkg/services/ngalert/state: Normal, Pending, Alerting,
// Recovering, NoData, Error; noDataState/execErrState, keepFiringFor, missing series, the
// grafana_state_reason), and Grafana recording rules (record: {metric, from}).
#include <fmt/format.h>

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

Labels instance_labels(const Labels& raw, const GrafanaRuleParams& p, std::string_view folder,
                       std::string_view receiver) {
  LabelsBuilder b(raw);
  // Result labels may not take Grafana's routing label names (state.go renames them).
  if (b.get("__grafana_receiver__") != "") {
    b.set("grafana_receiver", b.get("__grafana_receiver__"));
    b.del("__grafana_receiver__");
  }
  for (const auto& l : p.labels) b.set(l.name, l.value);
  b.set("alertname", p.title);
  b.set("grafana_folder", folder);
  // Simplified routing (notification_settings): Grafana labels the alert with its receiver.
  if (!receiver.empty()) b.set("__grafana_receiver__", receiver);
  return b.build();
}

}  // namespace

// One evaluation's results into the rule's instances (manager.go setNextStateForRule).
void apply_grafana_results(GrafanaInstances& instances, const GrafanaRuleParams& p,
                           std::string_view folder, std::string_view receiver,
                           const std::vector<EvalItem>& items,
                           Millis ts, Millis interval) {
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
    Labels lbs = instance_labels(raw, p, folder, receiver);
    auto [it, inserted] = instances.try_emplace(lbs);
    GrafanaInstance& in = it->second;
    if (inserted) {
      in.labels = lbs;
      in.starts_at = ts;
    }
    in.raw_labels = raw;
    in.state_reason = apply(in, r, p, ts);
    in.last_eval = ts;
    in.missed_evals = 0;
    in.value = r.value ? *r.value : NAN;
    if (r.state == RState::kNoData || r.state == RState::kError) {
      for (auto& [k, v] : in.values) v = -1;
    } else {
      in.values = r.values;
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

tmpl::Value grafana_template_data(const GrafanaInstance& inst) {
  tmpl::Map m;
  m.emplace("Labels", tmpl::Value::from_labels(inst.labels));
  tmpl::Map values;
  std::string value_string;
  for (const auto& [ref, v] : inst.values) {
    tmpl::Map one;
    one.emplace("Labels", tmpl::Value::from_labels(inst.raw_labels));
    one.emplace("Value", tmpl::Value(v));
    values.emplace(ref, tmpl::Value(std::move(one)));
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
  m.emplace("Value", tmpl::Value(value_string));
  return tmpl::Value(std::move(m));
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
  apply_grafana_results(rt.instances, p, g.folder, g.receiver, items, ts, env_.interval);
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
