#include "ruleeval/engine/alert_state.hpp"

#include <fmt/format.h>
#include <malloc.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <unordered_set>

namespace ruleeval::engine {

std::string_view to_string(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
  }
  return "inactive";
}

std::optional<AlertState> alert_state_from_string(std::string_view s) {
  if (s == "inactive") return AlertState::kInactive;
  if (s == "pending") return AlertState::kPending;
  if (s == "firing") return AlertState::kFiring;
  return std::nullopt;
}

namespace {

constexpr size_t kTrimAfterSamples = 100'000;

Labels alert_labels(const Labels& sample_labels, const Labels& rule_labels,
                    std::string_view alertname) {
  LabelsBuilder b(sample_labels);
  b.del(kMetricName);
  for (const auto& l : rule_labels) b.set(l.name, l.value);
  b.set("alertname", alertname);
  return b.build();
}

}  // namespace

Result<void> eval_alerting_rule(AlertMap& alerts, const AlertingRuleParams& rule,
                                std::span<const RuleSample> samples, Millis ts,
                                std::vector<ActiveAlert>* removed) {
  // Steps 2-3: build the alerts of this evaluation; a duplicate label set fails the whole
  // evaluation before any state is touched. Like Prometheus, identity is the label-set hash.
  // Alerts that are already active only take the new value and annotations, so their label
  // set is not packed again (with a million alerts that is a million short-lived blocks, which
  // the allocator cannot give back while the annotations kept from the same pass sit between
  // them).
  struct Fresh {
    uint64_t hash = 0;
    double value = 0;
    CompactLabels labels;  // only for alerts that start anew
    CompactLabels annotations;
  };
  std::vector<Fresh> fresh;
  fresh.reserve(samples.size());
  std::vector<uint64_t> seen;  // sorted identity hashes: 8 bytes per alert, unlike a hash set
  seen.reserve(samples.size());
  const CompactLabels static_annotations(rule.annotations);
  size_t num_new = 0;
  auto is_active = [&alerts](uint64_t h) {
    auto it = alerts.find(h);
    return it != alerts.end() && it->second.state != AlertState::kInactive;
  };
  for (const auto& s : samples) {
    Fresh f;
    Labels labels;
    if (rule.expand) {
      Expanded e = rule.expand(s.labels.without_metric_name(), s.value);
      labels = alert_labels(s.labels, e.labels, rule.name);
      f.annotations = e.annotations;
    } else {
      labels = alert_labels(s.labels, rule.labels, rule.name);
      f.annotations = static_annotations;  // shared, not copied
    }
    f.hash = labels.hash();
    if (!is_active(f.hash)) {
      f.labels = labels;
      ++num_new;
    }
    seen.push_back(f.hash);
    f.value = s.value;
    fresh.push_back(std::move(f));
  }
  std::sort(seen.begin(), seen.end());
  if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
    return make_error("vector contains metrics with the same labelset after applying alert labels");
  }
  auto in_this_eval = [&seen](uint64_t h) {
    return std::binary_search(seen.begin(), seen.end(), h);
  };

  // Step 4: existing non-inactive alerts only get value and annotations; others start anew.
  alerts.reserve(alerts.size() + num_new);
  for (auto& f : fresh) {
    auto it = alerts.find(f.hash);
    if (it != alerts.end() && it->second.state != AlertState::kInactive) {
      it->second.value = f.value;
      it->second.annotations = std::move(f.annotations);
      continue;
    }
    ActiveAlert a;
    a.labels = std::move(f.labels);
    a.annotations = std::move(f.annotations);
    a.state = AlertState::kPending;
    a.value = f.value;
    a.active_at = ts;
    put_alert(alerts, std::move(a));
  }
  fresh.clear();
  fresh.shrink_to_fit();
  if (samples.size() >= kTrimAfterSamples) {
    // The per-sample temporaries of a large evaluation (tens of MB) end at the top of the heap,
    // under glibc's trim threshold once its dynamic mmap threshold has grown: give them back.
    malloc_trim(0);
  }

  // Steps 5-6.
  size_t num_active = 0;
  for (auto it = alerts.begin(); it != alerts.end();) {
    ActiveAlert& a = it->second;
    if (!in_this_eval(it->first)) {
      bool keep_firing = false;
      if (a.state == AlertState::kFiring && rule.keep_firing_for_ms > 0) {
        if (!is_set(a.keep_firing_since)) a.keep_firing_since = ts;
        keep_firing = ts - a.keep_firing_since < rule.keep_firing_for_ms;
      }
      if (a.state == AlertState::kPending ||
          (is_set(a.resolved_at) && ts - a.resolved_at > kResolvedRetention)) {
        if (removed) removed->push_back(std::move(a));
        it = alerts.erase(it);
        continue;
      }
      if (!keep_firing) {
        if (a.state != AlertState::kInactive) {
          a.state = AlertState::kInactive;
          a.resolved_at = ts;
        }
        ++it;
        continue;
      }
    } else {
      a.keep_firing_since = kNoTime;
    }
    ++num_active;
    if (a.state == AlertState::kPending && ts - a.active_at >= rule.for_ms) {
      a.state = AlertState::kFiring;
      a.fired_at = ts;
    } else if (a.state == AlertState::kFiring && ts - a.active_at < rule.for_ms) {
      // `for` was raised (config reload): the alert has not been active long enough any more.
      a.state = AlertState::kPending;
      a.fired_at = kNoTime;
      a.last_sent_at = kNoTime;
      a.keep_firing_since = kNoTime;
    }
    ++it;
  }

  // Step 7.
  if (rule.limit > 0 && num_active > rule.limit) {
    if (removed) {
      for (auto& [_, a] : alerts) removed->push_back(std::move(a));
    }
    alerts.clear();
    return make_error(fmt::format("exceeded limit of {} with {} alerts", rule.limit, num_active));
  }
  return {};
}

AlertState rule_state(const AlertMap& alerts) {
  AlertState s = AlertState::kInactive;
  for (const auto& [_, a] : alerts) {
    if (a.state == AlertState::kFiring) return AlertState::kFiring;
    if (a.state == AlertState::kPending) s = AlertState::kPending;
  }
  return s;
}

size_t active_count(const AlertMap& alerts) {
  return static_cast<size_t>(std::count_if(alerts.begin(), alerts.end(), [](const auto& kv) {
    return kv.second.state != AlertState::kInactive;
  }));
}

bool needs_sending(const ActiveAlert& a, Millis ts, Millis resend_delay) {
  if (a.state == AlertState::kPending) return false;
  if (is_set(a.resolved_at) && (!is_set(a.last_sent_at) || a.resolved_at > a.last_sent_at)) {
    return true;
  }
  if (!is_set(a.last_sent_at)) return true;  // Go's zero time is long before any `ts`
  return a.last_sent_at + resend_delay < ts;
}

std::vector<rules::Alert> collect_alerts_to_send(AlertMap& alerts, Millis ts, Millis resend_delay,
                                                 Millis interval, std::string_view generator_url) {
  std::vector<rules::Alert> out;
  const Millis delta = std::max(interval, resend_delay);
  for (auto& [_, a] : alerts) {
    if (!needs_sending(a, ts, resend_delay)) continue;
    a.last_sent_at = ts;
    a.valid_until = ts + 4 * delta;
    rules::Alert n;
    n.labels = a.labels.to_labels();
    n.annotations = a.annotations.to_labels();
    n.starts_at = is_set(a.fired_at) ? a.fired_at : 0;
    n.ends_at = is_set(a.resolved_at) ? a.resolved_at : a.valid_until;
    n.generator_url = std::string(generator_url);
    out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end(),
            [](const rules::Alert& x, const rules::Alert& y) { return x.labels < y.labels; });
  return out;
}

std::vector<OutputSample> alert_series(const AlertMap& alerts, Millis t) {
  std::vector<const ActiveAlert*> active;
  for (const auto& [_, a] : alerts) {
    if (a.state != AlertState::kInactive) active.push_back(&a);
  }
  std::sort(active.begin(), active.end(),
            [](const ActiveAlert* x, const ActiveAlert* y) { return x->labels < y->labels; });
  std::vector<OutputSample> out;
  out.reserve(active.size() * 2);
  for (const ActiveAlert* a : active) {
    Labels base = a->labels.to_labels();
    LabelsBuilder b(base);
    b.set(kMetricName, "ALERTS");
    b.set("alertstate", to_string(a->state));
    out.push_back({b.build(), t, 1.0});
    LabelsBuilder f(base);
    f.set(kMetricName, "ALERTS_FOR_STATE");
    // Prometheus writes float64(ActiveAt.Unix()): whole seconds.
    Millis secs = floor_seconds(a->active_at);
    out.push_back({f.build(), t, static_cast<double>(secs)});
  }
  return out;
}

std::vector<OutputSample> StaleTracker::update(std::span<const OutputSample> current, Millis t) {
  std::unordered_set<uint64_t> now;
  now.reserve(current.size());
  for (const auto& s : current) now.insert(s.labels.hash());
  std::vector<OutputSample> stale;
  for (auto& l : previous_) {
    if (!now.contains(l.hash())) stale.push_back({l.to_labels(), t, stale_nan()});
  }
  previous_.clear();
  previous_.reserve(current.size());
  for (const auto& s : current) previous_.emplace_back(s.labels);
  return stale;
}

// ---------------------------------------------------------------------------------------------
// Grafana-like rules.

std::string_view to_string(GrafanaState s) {
  switch (s) {
    case GrafanaState::kNormal:
      return "Normal";
    case GrafanaState::kPending:
      return "Pending";
    case GrafanaState::kAlerting:
      return "Alerting";
    case GrafanaState::kRecovering:
      return "Recovering";
    case GrafanaState::kNoData:
      return "NoData";
    case GrafanaState::kError:
      return "Error";
  }
  return "Normal";
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<NoDataMapping> no_data_mapping_from_string(std::string_view s) {
  if (iequals(s, "NoData")) return NoDataMapping::kNoData;
  if (iequals(s, "Alerting")) return NoDataMapping::kAlerting;
  if (iequals(s, "OK")) return NoDataMapping::kOk;
  if (iequals(s, "KeepLast") || iequals(s, "keep_last")) return NoDataMapping::kKeepLast;
  return std::nullopt;
}

std::optional<ExecErrMapping> exec_err_mapping_from_string(std::string_view s) {
  if (iequals(s, "Error")) return ExecErrMapping::kError;
  if (iequals(s, "Alerting")) return ExecErrMapping::kAlerting;
  if (iequals(s, "OK")) return ExecErrMapping::kOk;
  if (iequals(s, "KeepLast") || iequals(s, "keep_last")) return ExecErrMapping::kKeepLast;
  return std::nullopt;
}

bool Threshold::matches(double v) const {
  if (std::isnan(v)) return false;
  switch (op) {
    case ThresholdOp::kGt:
      return v > value;
    case ThresholdOp::kLt:
      return v < value;
    case ThresholdOp::kGte:
      return v >= value;
    case ThresholdOp::kLte:
      return v <= value;
    case ThresholdOp::kEq:
      return v == value;
    case ThresholdOp::kNe:
      return v != value;
  }
  return false;
}

namespace {

bool is_loaded(GrafanaState s) {
  return s == GrafanaState::kPending || s == GrafanaState::kAlerting ||
         s == GrafanaState::kRecovering;
}

// A breach, or a NoData/Error mapped to a firing-like state: `target` is Alerting, NoData or
// Error. Pending applies first when `for` > 0, unless the instance already fires.
void move_to_firing(GrafanaInstance& in, GrafanaState target, std::string_view reason,
                    const GrafanaRuleParams& rule, Millis ts) {
  in.state_reason = std::string(reason);
  in.recovering_since = kNoTime;
  switch (in.state) {
    case GrafanaState::kNormal:
      if (rule.for_ms > 0) {
        in.state = GrafanaState::kPending;
        in.starts_at = ts;
        return;
      }
      break;
    case GrafanaState::kPending:
      if (ts - in.starts_at < rule.for_ms) return;
      break;
    case GrafanaState::kAlerting:
    case GrafanaState::kRecovering:
    case GrafanaState::kNoData:
    case GrafanaState::kError:
      if (in.state == target) return;
      in.state = target;
      in.starts_at = ts;
      if (target == GrafanaState::kAlerting && !is_set(in.fired_at)) in.fired_at = ts;
      return;
  }
  in.state = target;
  in.starts_at = ts;
  in.fired_at = ts;
  in.resolved_at = kNoTime;
}

void move_to_normal(GrafanaInstance& in, std::string_view reason, const GrafanaRuleParams& rule,
                    Millis ts, bool allow_recovering) {
  in.state_reason = std::string(reason);
  switch (in.state) {
    case GrafanaState::kNormal:
      return;
    case GrafanaState::kPending:
      in.state = GrafanaState::kNormal;
      in.starts_at = ts;
      return;
    case GrafanaState::kAlerting:
      if (allow_recovering && rule.keep_firing_for_ms > 0) {
        in.state = GrafanaState::kRecovering;
        in.recovering_since = ts;
        return;
      }
      break;
    case GrafanaState::kRecovering:
      if (allow_recovering && ts - in.recovering_since < rule.keep_firing_for_ms) return;
      break;
    case GrafanaState::kNoData:
    case GrafanaState::kError:
      break;
  }
  in.state = GrafanaState::kNormal;
  in.starts_at = ts;
  in.resolved_at = ts;
  in.fired_at = kNoTime;
  in.recovering_since = kNoTime;
}

Labels instance_labels(const Labels& sample, const GrafanaRuleParams& rule,
                       std::string_view alertname) {
  LabelsBuilder b(sample);
  b.del(kMetricName);
  for (const auto& l : rule.labels) b.set(l.name, l.value);
  b.set("alertname", alertname);
  return b.build();
}

bool is_datasource_instance(const Labels& l) {
  auto n = l.get("alertname");
  return n == "DatasourceNoData" || n == "DatasourceError";
}

// NoData or Error: applied to every instance of the rule; with no instance yet, one
// Datasource{NoData,Error} instance carries the state.
template <class Mapping>
void apply_mapping(GrafanaInstances& instances, const GrafanaRuleParams& rule, Mapping m,
                   GrafanaState problem_state, std::string_view reason, Millis ts) {
  const bool keep_last = static_cast<int>(m) == 3;  // kKeepLast in both enums
  const bool ok = static_cast<int>(m) == 2;
  const bool alerting = static_cast<int>(m) == 1;
  if (instances.empty() && !ok && !keep_last) {
    std::string alertname =
        problem_state == GrafanaState::kNoData ? "DatasourceNoData" : "DatasourceError";
    LabelsBuilder b;
    for (const auto& l : rule.labels) b.set(l.name, l.value);
    b.set("alertname", alertname);
    b.set("rulename", rule.title);
    Labels lbs = b.build();
    GrafanaInstance in;
    in.labels = lbs;
    in.starts_at = ts;
    instances.emplace(std::move(lbs), std::move(in));
  }
  for (auto& [_, in] : instances) {
    in.last_eval = ts;
    if (keep_last) {
      in.state_reason = "KeepLast";
    } else if (ok) {
      move_to_normal(in, reason, rule, ts, /*allow_recovering=*/true);
    } else if (alerting) {
      move_to_firing(in, GrafanaState::kAlerting, reason, rule, ts);
    } else {
      move_to_firing(in, problem_state, reason, rule, ts);
    }
  }
}

}  // namespace

void eval_grafana_rule(GrafanaInstances& instances, const GrafanaRuleParams& rule,
                       const GrafanaEvalResult& result, Millis ts) {
  // Instances resolved because their series went missing were reported once; drop them now.
  std::erase_if(instances, [](const auto& kv) {
    return kv.second.state == GrafanaState::kNormal && kv.second.state_reason == "MissingSeries";
  });

  if (result.error) {
    apply_mapping(instances, rule, rule.exec_err, GrafanaState::kError, "Error", ts);
    return;
  }
  if (result.samples.empty()) {
    apply_mapping(instances, rule, rule.no_data, GrafanaState::kNoData, "NoData", ts);
    return;
  }

  std::unordered_set<Labels> seen;
  seen.reserve(result.samples.size());
  for (const auto& s : result.samples) {
    Labels lbs = instance_labels(s.labels, rule, rule.title);
    auto [it, inserted] = instances.try_emplace(lbs);
    GrafanaInstance& in = it->second;
    if (inserted) {
      in.labels = lbs;
      in.starts_at = ts;
    }
    seen.insert(std::move(lbs));
    in.missed_evals = 0;
    in.last_eval = ts;
    in.value = s.value;
    bool breach;
    if (rule.fire && rule.recover && is_loaded(in.state)) {
      breach = !rule.recover->matches(s.value);
    } else if (rule.fire) {
      breach = rule.fire->matches(s.value);
    } else {
      breach = !std::isnan(s.value) && s.value != 0;
    }
    if (breach) {
      move_to_firing(in, GrafanaState::kAlerting, "", rule, ts);
    } else {
      move_to_normal(in, "", rule, ts, /*allow_recovering=*/true);
    }
  }

  for (auto& [lbs, in] : instances) {
    if (seen.contains(lbs)) continue;
    if (is_datasource_instance(lbs)) {
      // Data is back: the NoData/Error alert of the rule resolves at once.
      move_to_normal(in, "MissingSeries", rule, ts, /*allow_recovering=*/false);
      continue;
    }
    ++in.missed_evals;
    if (in.missed_evals >= rule.missing_series_evals_to_resolve) {
      move_to_normal(in, "MissingSeries", rule, ts, /*allow_recovering=*/false);
      in.state_reason = "MissingSeries";
    }
  }
}

}  // namespace ruleeval::engine
