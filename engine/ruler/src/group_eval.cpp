#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/histogram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <cctype>
#include <chrono>
#include <cmath>
#include <unordered_set>

#include "ruleeval/common/escape.hpp"
#include "ruleeval/parser/condition.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/parser/template_exec.hpp"
#include "ruleeval/parser/template_funcs.hpp"
#include "ruleeval/parser/template_parse.hpp"

namespace ruleeval::engine {
namespace {

constexpr std::string_view kAlertMetric = "ALERTS";

// Grafana's default minimum step for a range query.
constexpr Millis kGrafanaMinStep = 15'000;

Labels merge_labels(const std::vector<rules::KeyValue>& base,
                    const std::vector<rules::KeyValue>& over) {
  LabelsBuilder b;
  for (const auto& kv : base) b.set(kv.key, kv.value.value);
  for (const auto& kv : over) b.set(kv.key, kv.value.value);
  return b.build();
}

// The instant-query result of a rule as a vector: scalars become one unlabelled sample.
Result<Vector> rule_vector(RuleQuerier& q, const promql::Expr& expr, std::string_view text,
                           Millis t) {
  auto res = q.instant(expr, text, t);
  if (!res) return std::unexpected(res.error());
  if (auto* v = std::get_if<Vector>(&res->value)) return std::move(*v);
  if (auto* s = std::get_if<Scalar>(&res->value)) {
    Vector out;
    out.push_back(Sample{Labels{}, s->v, t, false});
    return out;
  }
  return make_error("rule result is not a vector or scalar");
}


}  // namespace

std::string_view to_string(RuleHealth h) {
  switch (h) {
    case RuleHealth::kOk:
      return "ok";
    case RuleHealth::kErr:
      return "err";
    case RuleHealth::kUnknown:
      break;
  }
  return "unknown";
}

namespace {
// Runs a template's `query` through the rule's querier at the evaluation time.
Result<std::vector<tmpl::QuerySample>> template_query(RuleQuerier& q, Millis ts,
                                                      std::string_view text) {
  auto expr = promql::parse(text);
  if (!expr) return make_error(promql::format_parse_error(expr.error()));
  auto vec = rule_vector(q, **expr, text, ts);
  if (!vec) return std::unexpected(vec.error());
  std::vector<tmpl::QuerySample> out;
  out.reserve(vec->size());
  for (auto& s : *vec) {
    if (!s.h) out.push_back(tmpl::QuerySample{std::move(s.metric), s.v});  // floats only
  }
  return out;
}
}  // namespace

tmpl::FuncMap alert_template_functions(RuleQuerier* q, Millis ts, std::string_view external_url) {
  tmpl::PrometheusContext ctx;
  ctx.external_url = std::string(external_url);
  ctx.now_seconds = ms_to_seconds(ts);
  if (q) {
    ctx.query = [q, ts](std::string_view text) { return template_query(*q, ts, text); };
  }
  return tmpl::prometheus_functions(std::move(ctx));
}

// The template functions and data shared by every alert of a group: built once, pointed at the
// evaluation in progress by GroupRuntime::templates().
struct GroupRuntime::TemplateEnv {
  std::shared_ptr<tmpl::PrometheusContext> ctx = std::make_shared<tmpl::PrometheusContext>();
  tmpl::FuncMap funcs;
  tmpl::Value external_labels;
  RuleQuerier* q = nullptr;
  Millis ts = 0;
};

const GroupRuntime::TemplateEnv& GroupRuntime::templates(RuleQuerier& q, Millis ts) {
  if (!tmpl_) {
    tmpl_ = std::make_unique<TemplateEnv>();
    TemplateEnv* env = tmpl_.get();  // stable: owned by the runtime
    env->ctx->external_url = env_.external_url;
    env->ctx->query = [env](std::string_view text) {
      return template_query(*env->q, env->ts, text);
    };
    env->funcs =
        tmpl::prometheus_functions_live(std::shared_ptr<const tmpl::PrometheusContext>(env->ctx));
    env->external_labels = tmpl::Value::from_labels(env_.external_labels);
  }
  tmpl_->q = &q;
  tmpl_->ts = ts;
  tmpl_->ctx->now_seconds = ms_to_seconds(ts);
  return *tmpl_;
}

const tmpl::FuncMap& GroupRuntime::template_funcs(RuleQuerier& q, Millis ts) {
  return templates(q, ts).funcs;
}

std::string expand_alert_template(const rules::KeyValue& kv, std::string_view rule_name,
                                  const tmpl::Value& data, const tmpl::FuncMap& funcs) {
  std::shared_ptr<const tmpl::Template> t = kv.tmpl;
  if (!t) {
    if (kv.value.value.find("{{") == std::string::npos) return kv.value.value;
    auto parsed = tmpl::parse_alert_template(kv.value.value, rule_name);
    if (!parsed) return "<error expanding template: " + parsed.error().message + ">";
    t = std::make_shared<const tmpl::Template>(std::move(*parsed));
  }
  // A tree may be shared by identically written templates of several rules (rules/
  // rule_finish.cpp): errors name this rule's template, as Prometheus's do.
  constexpr std::string_view kPrefix = "__alert_";
  std::string own_name;
  tmpl::RenderOptions opts;
  if (!(t->name.size() == kPrefix.size() + rule_name.size() && t->name.starts_with(kPrefix) &&
        t->name.ends_with(rule_name))) {
    own_name = fmt::format("{}{}", kPrefix, rule_name);
    opts.name = own_name;
  }
  auto out = tmpl::render(*t, data, funcs, opts);
  if (!out) return tmpl::error_expanding_template(*t, out.error(), opts.name);
  return std::move(*out);
}

double grafana_reduce(rules::Reducer r, rules::ReduceMode mode, double replace_with,
                      std::span<const double> values) {
  std::vector<double> vals;
  vals.reserve(values.size());
  for (double v : values) {
    if (!std::isfinite(v)) {
      if (mode == rules::ReduceMode::Strict) {
        if (r == rules::Reducer::Count) continue;
        return NAN;
      }
      if (mode == rules::ReduceMode::DropNonNumbers) continue;
      v = replace_with;
    }
    vals.push_back(v);
  }
  using R = rules::Reducer;
  if (r == R::Count || r == R::CountNonNull) return static_cast<double>(vals.size());
  if (vals.empty()) return NAN;
  switch (r) {
    case R::Sum: {
      double s = 0;
      for (double v : vals) s += v;
      return s;
    }
    case R::Avg: {
      double s = 0;
      for (double v : vals) s += v;
      return s / static_cast<double>(vals.size());
    }
    case R::Min:
      return *std::min_element(vals.begin(), vals.end());
    case R::Max:
      return *std::max_element(vals.begin(), vals.end());
    case R::Last:
      return vals.back();
    case R::Median: {
      std::sort(vals.begin(), vals.end());
      size_t n = vals.size();
      return n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
    }
    case R::Diff:
      return vals.back() - vals.front();
    case R::DiffAbs:
      return std::fabs(vals.back() - vals.front());
    case R::PercentDiff:
      return (vals.back() - vals.front()) / std::fabs(vals.front()) * 100;
    case R::PercentDiffAbs:
      return std::fabs((vals.back() - vals.front()) / vals.front()) * 100;
    case R::Count:
    case R::CountNonNull:
      break;
  }
  return NAN;
}

GroupRuntime::GroupRuntime(const rules::RuleGroup& group, std::string file, GroupEnv env)
    : group_(&group),
      file_(std::move(file)),
      env_(std::move(env)),
      group_labels_(merge_labels(group.labels, {})) {
  rules_.resize(group.rules.size());
  for (size_t i = 0; i < group.rules.size(); ++i) rules_[i].rule = &group.rules[i];
}

GroupRuntime::~GroupRuntime() = default;
GroupRuntime::GroupRuntime(GroupRuntime&&) noexcept = default;
GroupRuntime& GroupRuntime::operator=(GroupRuntime&&) noexcept = default;

void GroupRuntime::eval(Millis ts, RuleQuerier& q, const AppendFn& append) {
  for (auto& rt : rules_) {
    auto start = env_.clock->monotonic_now();
    rt.last_error.reset();
    rt.removed.clear();
    // A Grafana rule evaluates its expression DAG, or else its expression when it has one.
    if (rt.rule->grafana && (rt.rule->grafana->dag || rt.rule->ast)) {
      eval_grafana(rt, ts, q, append);
    } else if (!rt.rule->ast) {
      rt.health = RuleHealth::kErr;
      rt.last_error = "rule has no valid expression";
    } else if (rt.rule->is_alert()) {
      eval_alerting(rt, ts, q, append);
    } else {
      eval_recording(rt, ts, q, append);
    }
    if (!rt.last_error) rt.health = RuleHealth::kOk;
    rt.last_eval = ts;
    rt.eval_seconds = env_.clock->seconds_since(start);
  }
}

namespace {
void fail(RuleRuntime& rt, std::string message) {
  rt.health = RuleHealth::kErr;
  rt.last_error = std::move(message);
}
}  // namespace

void GroupRuntime::write_alert_series(RuleRuntime& rt, Millis t, const AppendFn& append) {
  if (!env_.write_alert_series || hold_alert_series_) return;
  auto series = alert_series(rt.alerts, t);
  for (const auto& s : series) append(s.labels, s.t, s.value);
  for (const auto& s : rt.stale.update(series, t)) append(s.labels, s.t, s.value);
}

void GroupRuntime::eval_recording(RuleRuntime& rt, Millis ts, RuleQuerier& q,
                                  const AppendFn& append) {
  const rules::Rule& rule = *rt.rule;
  Millis t = ts - env_.query_offset;
  auto vec = rule_vector(q, *rule.ast, rule.expr.value, t);
  if (!vec) return fail(rt, vec.error().message);
  Labels rule_labels = merge_labels(group_->labels, rule.labels);
  std::vector<OutputSample> out;
  out.reserve(vec->size());
  std::unordered_set<Labels> seen;
  for (const auto& s : *vec) {
    LabelsBuilder b(s.metric);
    b.set(kMetricName, rule.name);
    for (const auto& l : rule_labels) b.set(l.name, l.value);
    Labels lbs = b.build();
    if (!seen.insert(lbs).second) {
      return fail(rt, "vector contains metrics with the same labelset after applying rule labels");
    }
    out.push_back(OutputSample{std::move(lbs), t, s.v, s.h});
  }
  if (group_->limit > 0 && out.size() > static_cast<size_t>(group_->limit)) {
    return fail(rt, fmt::format("exceeded limit of {} with {} series", group_->limit, out.size()));
  }
  for (const auto& s : out) {
    if (!s.h) {
      append(s.labels, s.t, s.value);
    } else if (env_.append_histogram) {
      env_.append_histogram(s.labels, s.t, s.h);
    }  // else: the sink takes floats only; the histogram sample is not recorded
  }
  for (const auto& s : rt.stale.update(out, t)) append(s.labels, s.t, s.value);
  rt.last_samples = out.size();
}

void GroupRuntime::eval_alerting(RuleRuntime& rt, Millis ts, RuleQuerier& q,
                                 const AppendFn& append) {
  const rules::Rule& rule = *rt.rule;
  Millis t = ts - env_.query_offset;
  auto vec = rule_vector(q, *rule.ast, rule.expr.value, t);
  // Prometheus keeps the alert state as it is on a query error.
  if (!vec) return fail(rt, vec.error().message);
  std::vector<RuleSample> samples;
  samples.reserve(vec->size());
  // A native-histogram sample: the alert's value is 0 and $value is the histogram (Prometheus's
  // AlertTemplateData), printed as FloatHistogram.String().
  std::unordered_map<uint64_t, HistogramPtr> histograms;
  for (auto& s : *vec) {
    if (s.h) histograms.emplace(s.metric.without_metric_name().hash(), s.h);
    samples.push_back(RuleSample{std::move(s.metric), s.h ? 0.0 : s.v});
  }

  AlertingRuleParams p;
  p.name = rule.name;
  p.for_ms = rule.for_.ms;
  p.keep_firing_for_ms = rule.keep_firing_for.ms;
  p.limit = group_->limit > 0 ? static_cast<size_t>(group_->limit) : 0;
  p.labels = merge_labels(group_->labels, rule.labels);
  const TemplateEnv* te = nullptr;  // set up on first use
  auto templated = [](const rules::KeyValue& kv) {
    return kv.value.value.find("{{") != std::string::npos;
  };
  const bool expand = env_.expand_annotations ||
                      std::any_of(group_->labels.begin(), group_->labels.end(), templated) ||
                      std::any_of(rule.labels.begin(), rule.labels.end(), templated);
  if (expand) p.expand = [&](const Labels& sample_labels, double value) {
    if (!te) te = &templates(q, ts);
    const tmpl::FuncMap* funcs = &te->funcs;
    tmpl::Value d =
        tmpl::alert_template_data(sample_labels, te->external_labels, env_.external_url, value);
    if (!histograms.empty()) {
      if (auto it = histograms.find(sample_labels.hash()); it != histograms.end()) {
        tmpl::Map m = d.as_map();
        m.insert_or_assign("Value", tmpl::Value(histogram_string(*it->second)));
        d = tmpl::Value(std::move(m), d.type_ptr());
      }
    }
    Expanded e;
    LabelsBuilder lb;
    auto expand_into = [&](const rules::KeyValue& kv) {
      lb.set(kv.key, expand_alert_template(kv, rule.name, d, *funcs));
    };
    for (const auto& kv : group_->labels) expand_into(kv);
    for (const auto& kv : rule.labels) expand_into(kv);
    e.labels = lb.build();
    if (!env_.expand_annotations) return e;
    LabelsBuilder ab;
    for (const auto& kv : rule.annotations) {
      ab.set(kv.key, expand_alert_template(kv, rule.name, d, *funcs));
    }
    e.annotations = ab.build();
    return e;
  };
  auto r = eval_alerting_rule(rt.alerts, p, samples, ts, &rt.removed);
  if (!r) return fail(rt, r.error().message);
  rt.last_samples = samples.size();
  write_alert_series(rt, t, append);
}

void GroupRuntime::eval_grafana(RuleRuntime& rt, Millis ts, RuleQuerier& q,
                                const AppendFn& append) {
  const rules::Rule& rule = *rt.rule;
  const rules::GrafanaSpec& g = *rule.grafana;
  if (g.dag) {
    if (g.paused) {
      rt.last_samples = 0;  // isPaused: Grafana does not evaluate the rule
      return;
    }
    if (!g.record_metric.empty()) return eval_grafana_record(rt, ts, q, append);
    eval_grafana_dag(rt, ts, q);
    return mirror_grafana(rt, ts, q, append);
  }
  Millis t = ts - env_.query_offset;
  GrafanaRuleParams p;
  p.title = rule.name;
  p.for_ms = rule.for_.ms;
  p.keep_firing_for_ms = rule.keep_firing_for.ms;
  p.labels = merge_labels(group_->labels, rule.labels);
  switch (g.no_data) {
    case rules::NoDataState::NoData:
      p.no_data = NoDataMapping::kNoData;
      break;
    case rules::NoDataState::Alerting:
      p.no_data = NoDataMapping::kAlerting;
      break;
    case rules::NoDataState::Ok:
      p.no_data = NoDataMapping::kOk;
      break;
    case rules::NoDataState::KeepLast:
      p.no_data = NoDataMapping::kKeepLast;
      break;
  }
  switch (g.on_error) {
    case rules::ErrorState::Error:
      p.exec_err = ExecErrMapping::kError;
      break;
    case rules::ErrorState::Alerting:
      p.exec_err = ExecErrMapping::kAlerting;
      break;
    case rules::ErrorState::Ok:
      p.exec_err = ExecErrMapping::kOk;
      break;
    case rules::ErrorState::KeepLast:
      p.exec_err = ExecErrMapping::kKeepLast;
      break;
  }
  GrafanaEvalResult result;
  std::unordered_map<Labels, double> raw_values;

  // Instances are keyed like eval_grafana_rule keys them: sample labels - __name__, + rule
  // labels, + alertname.
  auto instance_key = [&](const Labels& sample) {
    LabelsBuilder b(sample);
    b.del(kMetricName);
    for (const auto& l : p.labels) b.set(l.name, l.value);
    b.set("alertname", rule.name);
    return b.build();
  };
  auto breach = [&](const Labels& sample, double v) {
    if (!g.threshold) return v != 0 && !std::isnan(v);
    auto it = rt.instances.find(instance_key(sample));
    bool active = it != rt.instances.end() && (it->second.state == GrafanaState::kAlerting ||
                                               it->second.state == GrafanaState::kPending ||
                                               it->second.state == GrafanaState::kRecovering);
    if (active && g.recover) return !g.recover->matches(v);
    return g.threshold->matches(v);
  };

  if (!g.condition.value.empty()) {
    // Classic condition: one number for the whole rule, not one per series.
    auto conds = classic::parse_conditions(g.condition.value);
    if (!conds) {
      result.error = "condition: " + conds.error().message;
    } else {
      classic::SeriesByRef data;
      for (const auto& c : conds->items) {
        if (data.contains(c.ref_id)) continue;
        Millis end = t - c.to_offset_ms;
        Millis start = end - std::max<Millis>(c.from_ms, 1);
        Millis step = std::max<Millis>(kGrafanaMinStep, (end - start) / 1000);
        auto res = q.range(*rule.ast, g.query.value, start, end, step);
        if (!res) {
          result.error = res.error().message;
          break;
        }
        auto& series = data[c.ref_id];
        if (auto* m = std::get_if<Matrix>(&res->value)) {
          for (const auto& sr : *m) {
            std::vector<std::optional<double>> pts;
            pts.reserve(sr.points.size());
            for (const auto& pt : sr.points) pts.emplace_back(pt.v);
            series.push_back(std::move(pts));
          }
        }
      }
      if (!result.error) {
        classic::FoldResult fr = classic::evaluate(*conds, data);
        if (!fr.no_data) {
          raw_values[Labels{}] = fr.firing ? 1 : 0;
          result.samples.push_back(RuleSample{Labels{}, 0});
        }
      }
    }
  } else if (g.range_ms > 0) {
    Millis step = std::max<Millis>(kGrafanaMinStep, g.range_ms / 1000);
    auto res = q.range(*rule.ast, g.query.value, t - g.range_ms, t, step);
    if (!res) {
      result.error = res.error().message;
    } else if (auto* m = std::get_if<Matrix>(&res->value)) {
      std::vector<double> vals;
      for (const auto& s : *m) {
        vals.clear();
        for (const auto& pt : s.points) vals.push_back(pt.v);
        double v = grafana_reduce(g.reduce, g.reduce_mode, g.replace_with, vals);
        Labels lbs = s.metric.without_metric_name();
        raw_values[lbs] = v;
        result.samples.push_back(RuleSample{lbs, 0});
      }
    }
  } else {
    auto vec = rule_vector(q, *rule.ast, rule.expr.value, t);
    if (!vec) {
      result.error = vec.error().message;
    } else {
      for (const auto& s : *vec) {
        if (s.h) continue;  // Grafana-like conditions reduce floats only
        Labels lbs = s.metric.without_metric_name();
        raw_values[lbs] = s.v;
        result.samples.push_back(RuleSample{lbs, 0});
      }
    }
  }
  // The state machine only needs "breached or not"; keep the reduced values for templates.
  std::unordered_map<Labels, double> instance_values;
  for (auto& s : result.samples) {
    double v = raw_values[s.labels];
    s.value = breach(s.labels, v) ? 1 : 0;
    instance_values[instance_key(s.labels)] = v;
  }

  eval_grafana_rule(rt.instances, p, result, ts);
  for (auto& [lbs, inst] : rt.instances) {
    auto it = instance_values.find(lbs);
    if (it != instance_values.end()) inst.value = it->second;
  }
  if (result.error) fail(rt, *result.error);
  rt.last_samples = result.samples.size();
  mirror_grafana(rt, ts, q, append);
}

void GroupRuntime::mirror_grafana(RuleRuntime& rt, Millis ts, RuleQuerier& q,
                                  const AppendFn& append) {
  const rules::Rule& rule = *rt.rule;
  const bool dag = rule.grafana && rule.grafana->dag;
  Millis t = ts - env_.query_offset;
  // Mirror the instances into Prometheus-shaped alerts, so ALERTS, the API and the unit tests
  // see Grafana-like rules the same way as Prometheus ones.
  AlertMap mirrored;
  const TemplateEnv* te = nullptr;  // set up on first use
  for (const auto& [lbs, inst] : rt.instances) {
    AlertState st;
    switch (inst.state) {
      case GrafanaState::kPending:
        st = AlertState::kPending;
        break;
      case GrafanaState::kAlerting:
      case GrafanaState::kRecovering:
      case GrafanaState::kNoData:
      case GrafanaState::kError:
        st = AlertState::kFiring;
        break;
      default:
        continue;
    }
    ActiveAlert a;
    LabelsBuilder b(inst.labels);
    b.set("alertname", rule.name);
    if (dag) b.del(kMetricName);  // Grafana's Alertmanager drops __-prefixed labels
    a.labels = b.build();
    if (dag && (inst.state == GrafanaState::kNoData || inst.state == GrafanaState::kError)) {
      // Sent as DatasourceNoData/DatasourceError (alerts_to_send); the instance keeps its title.
      a.send_as = inst.state == GrafanaState::kNoData ? "DatasourceNoData" : "DatasourceError";
    }
    a.state = st;
    a.value = inst.value;
    a.active_at = inst.starts_at;
    a.fired_at = inst.fired_at;
    LabelsBuilder ab;
    if (env_.expand_annotations) {
      if (!te) te = &templates(q, ts);
      const tmpl::FuncMap* funcs = &te->funcs;
      tmpl::Value d = dag ? grafana_template_data(inst)
                          : tmpl::alert_template_data(inst.labels, te->external_labels,
                                                      env_.external_url, inst.value);
      for (const auto& kv : rule.annotations) {
        ab.set(kv.key, expand_alert_template(kv, rule.name, d, *funcs));
      }
    }
    for (const auto& l : inst.extra_annotations) ab.set(l.name, l.value);
    if (!inst.state_reason.empty()) ab.set("grafana_state_reason", inst.state_reason);
    a.annotations = ab.build();
    auto prev = rt.alerts.find(a.labels.hash());
    if (prev != rt.alerts.end()) {
      a.last_sent_at = prev->second.last_sent_at;
      if (a.send_as.empty()) a.send_as = prev->second.send_as;
    }
    put_alert(mirrored, std::move(a));
  }
  // Keep resolved mirrors for resending, as Prometheus does.
  for (auto& [h, a] : rt.alerts) {
    if (mirrored.contains(h)) continue;
    if (a.state != AlertState::kInactive) {
      a.state = AlertState::kInactive;
      a.resolved_at = ts;
    }
    if (ts - a.resolved_at <= kResolvedRetention) mirrored.emplace(h, std::move(a));
  }
  rt.alerts = std::move(mirrored);
  write_alert_series(rt, t, append);
}

std::vector<rules::Alert> GroupRuntime::alerts_to_send(Millis ts, Millis resend_delay) {
  std::vector<rules::Alert> out;
  for (auto& rt : rules_) {
    if (!rt.rule->is_alert() || rt.alerts.empty()) continue;
    if (rt.generator_url.empty() && rt.rule->grafana && rt.rule->grafana->dag) {
      rt.generator_url = env_.external_url + "/alerting/grafana/" +
                         url_query_escape(rt.rule->grafana->uid) + "/view";
    }
    if (rt.generator_url.empty()) {
      rt.generator_url = env_.external_url +
                         "/graph?g0.expr=" + url_query_escape(rt.rule->expr.value) + "&g0.tab=1";
    }
    // Grafana: NoData/Error instances go out as DatasourceNoData/DatasourceError.
    std::unordered_map<uint64_t, std::string> send_as;
    for (const auto& [h, a] : rt.alerts) {
      if (!a.send_as.empty()) send_as.emplace(a.labels.to_labels().without_metric_name().hash(), a.send_as);
    }
    auto alerts =
        collect_alerts_to_send(rt.alerts, ts, resend_delay, env_.interval, rt.generator_url);
    // Grafana rules: the private labels the notifier routes on (__alert_rule_uid__, the
    // autogenerated-route labels of notification_settings); not part of the alerts' identity.
    const Labels private_labels = rt.rule->grafana && rt.rule->grafana->dag
                                      ? grafana_private_labels(*rt.rule->grafana)
                                      : Labels{};
    for (auto& a : alerts) {
      LabelsBuilder b(a.labels);
      for (const auto& l : private_labels) b.set(l.name, l.value);
      if (!send_as.empty()) {
        if (auto it = send_as.find(a.labels.without_metric_name().hash()); it != send_as.end()) {
          b.set("alertname", it->second);
          b.set("rulename", rt.rule->name);
        }
      }
      for (const auto& l : env_.external_labels) {
        if (!a.labels.has(l.name)) b.set(l.name, l.value);
      }
      a.labels = b.build();
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace ruleeval::engine
