#include <doctest/doctest.h>

#include <cmath>

#include "ruleeval/engine/alert_state.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr Millis kT0 = 1'700'000'000'000;
constexpr Millis kMin = 60'000;

RuleSample sample(std::string instance, double v) {
  return {Labels{{"__name__", "up"}, {"job", "api"}, {"instance", std::move(instance)}}, v};
}

Labels alert_id(std::string instance, std::string_view name = "InstanceDown") {
  return Labels{{"alertname", std::string(name)},
                {"instance", std::move(instance)},
                {"job", "api"},
                {"severity", "page"}};
}

AlertingRuleParams rule(Millis for_ms, Millis keep_firing_for = 0, size_t limit = 0) {
  AlertingRuleParams p;
  p.name = "InstanceDown";
  p.for_ms = for_ms;
  p.keep_firing_for_ms = keep_firing_for;
  p.labels = Labels{{"severity", "page"}};
  p.annotations = Labels{{"summary", "down"}};
  p.limit = limit;
  return p;
}

}  // namespace

TEST_CASE("an alert with for: 2m goes pending, fires, resolves and is forgotten") {
  AlertMap alerts;
  auto r = rule(2 * kMin);
  std::vector<RuleSample> one{sample("a:1", 0)};

  REQUIRE(eval_alerting_rule(alerts, r, one, kT0));
  REQUIRE(alerts.size() == 1);
  const ActiveAlert& a = alerts.begin()->second;
  CHECK(a.labels == alert_id("a:1"));
  CHECK(a.state == AlertState::kPending);
  CHECK(a.active_at == kT0);
  CHECK(a.annotations == Labels{{"summary", "down"}});
  CHECK(rule_state(alerts) == AlertState::kPending);

  SUBCASE("a pending alert is never sent") {
    CHECK(collect_alerts_to_send(alerts, kT0, kMin, kMin, "").empty());
  }

  SUBCASE("a pending alert whose series disappears is deleted without a trace") {
    std::vector<ActiveAlert> removed;
    REQUIRE(eval_alerting_rule(alerts, r, {}, kT0 + kMin, &removed));
    CHECK(alerts.empty());
    // ... except in the list of removed alerts, which keeps its labels for transition logs.
    REQUIRE(removed.size() == 1);
    CHECK(removed[0].labels == alert_id("a:1"));
    CHECK(removed[0].state == AlertState::kPending);
  }

  SUBCASE("the life of the alert") {
    REQUIRE(eval_alerting_rule(alerts, r, one, kT0 + kMin));
    CHECK(alerts.at(alert_id("a:1").hash()).state == AlertState::kPending);

    // ts - activeAt >= for: fires at exactly 2m.
    std::vector<RuleSample> changed{sample("a:1", 5)};
    REQUIRE(eval_alerting_rule(alerts, r, changed, kT0 + 2 * kMin));
    ActiveAlert& f = alerts.at(alert_id("a:1").hash());
    CHECK(f.state == AlertState::kFiring);
    CHECK(f.fired_at == kT0 + 2 * kMin);
    CHECK(f.active_at == kT0);
    CHECK(f.value == 5);

    // Sent on the first firing eval, with endsAt = ts + 4 * max(interval, resend delay).
    auto sent = collect_alerts_to_send(alerts, kT0 + 2 * kMin, kMin, kMin, "http://x/graph");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].starts_at == kT0 + 2 * kMin);
    CHECK(sent[0].ends_at == kT0 + 2 * kMin + 4 * kMin);
    CHECK(sent[0].generator_url == "http://x/graph");
    CHECK(f.last_sent_at == kT0 + 2 * kMin);

    // Resend delay 1m with a 1m interval: not at +1m (not strictly after), again at +2m.
    REQUIRE(eval_alerting_rule(alerts, r, one, kT0 + 3 * kMin));
    CHECK(collect_alerts_to_send(alerts, kT0 + 3 * kMin, kMin, kMin, "").empty());
    REQUIRE(eval_alerting_rule(alerts, r, one, kT0 + 4 * kMin));
    CHECK(collect_alerts_to_send(alerts, kT0 + 4 * kMin, kMin, kMin, "").size() == 1);

    // The series goes away: inactive, resolved, sent once as resolved.
    REQUIRE(eval_alerting_rule(alerts, r, {}, kT0 + 5 * kMin));
    ActiveAlert& res = alerts.at(alert_id("a:1").hash());
    CHECK(res.state == AlertState::kInactive);
    CHECK(res.resolved_at == kT0 + 5 * kMin);
    CHECK(rule_state(alerts) == AlertState::kInactive);
    CHECK(active_count(alerts) == 0);
    auto resolved = collect_alerts_to_send(alerts, kT0 + 5 * kMin, kMin, kMin, "");
    REQUIRE(resolved.size() == 1);
    CHECK(resolved[0].ends_at == kT0 + 5 * kMin);
    CHECK(resolved[0].starts_at == kT0 + 2 * kMin);

    SUBCASE("a resolved alert is kept for 15 minutes, then deleted") {
      REQUIRE(eval_alerting_rule(alerts, r, {}, kT0 + 20 * kMin));  // exactly 15m: kept
      CHECK(alerts.size() == 1);
      REQUIRE(eval_alerting_rule(alerts, r, {}, kT0 + 21 * kMin));
      CHECK(alerts.empty());
    }
    SUBCASE("a resolved alert whose series returns starts a new pending alert") {
      REQUIRE(eval_alerting_rule(alerts, r, one, kT0 + 6 * kMin));
      ActiveAlert& again = alerts.at(alert_id("a:1").hash());
      CHECK(again.state == AlertState::kPending);
      CHECK(again.active_at == kT0 + 6 * kMin);
      CHECK_FALSE(is_set(again.resolved_at));
      CHECK_FALSE(is_set(again.last_sent_at));
    }
  }
}

TEST_CASE("for: 0 fires in the same evaluation and for below the interval on the next") {
  AlertMap alerts;
  std::vector<RuleSample> one{sample("a:1", 1)};
  SUBCASE("for 0") {
    REQUIRE(eval_alerting_rule(alerts, rule(0), one, kT0));
    CHECK(alerts.at(alert_id("a:1").hash()).state == AlertState::kFiring);
  }
  SUBCASE("for 30s with a 1m interval") {
    REQUIRE(eval_alerting_rule(alerts, rule(30'000), one, kT0));
    CHECK(alerts.at(alert_id("a:1").hash()).state == AlertState::kPending);
    REQUIRE(eval_alerting_rule(alerts, rule(30'000), one, kT0 + kMin));
    CHECK(alerts.at(alert_id("a:1").hash()).state == AlertState::kFiring);
  }
}

TEST_CASE("keep_firing_for holds a firing alert after its series disappears") {
  AlertMap alerts;
  auto r = rule(0, 3 * kMin);
  std::vector<RuleSample> one{sample("a:1", 7)};
  REQUIRE(eval_alerting_rule(alerts, r, one, kT0));
  REQUIRE(alerts.at(alert_id("a:1").hash()).state == AlertState::kFiring);

  REQUIRE(eval_alerting_rule(alerts, r, {}, kT0 + kMin));
  ActiveAlert& a = alerts.at(alert_id("a:1").hash());
  CHECK(a.state == AlertState::kFiring);
  CHECK(a.keep_firing_since == kT0 + kMin);
  CHECK(a.value == 7);  // frozen
  CHECK(active_count(alerts) == 1);

  SUBCASE("the series returning resets keepFiringSince") {
    REQUIRE(eval_alerting_rule(alerts, r, one, kT0 + 2 * kMin));
    CHECK_FALSE(is_set(alerts.at(alert_id("a:1").hash()).keep_firing_since));
  }
  SUBCASE("it resolves once keep_firing_for has passed since the first miss") {
    REQUIRE(eval_alerting_rule(alerts, r, {}, kT0 + 3 * kMin));  // 2m < 3m
    CHECK(alerts.at(alert_id("a:1").hash()).state == AlertState::kFiring);
    REQUIRE(eval_alerting_rule(alerts, r, {}, kT0 + 4 * kMin));  // 3m: not < 3m
    CHECK(alerts.at(alert_id("a:1").hash()).state == AlertState::kInactive);
    CHECK(alerts.at(alert_id("a:1").hash()).resolved_at == kT0 + 4 * kMin);
  }
}

TEST_CASE("a duplicate label set after applying rule labels fails and keeps the state") {
  AlertMap alerts;
  auto r = rule(0);
  std::vector<RuleSample> first{sample("a:1", 1)};
  REQUIRE(eval_alerting_rule(alerts, r, first, kT0));
  // Two series that differ only by __name__ collide once __name__ is dropped.
  std::vector<RuleSample> dup{{Labels{{"__name__", "x"}, {"instance", "b:1"}, {"job", "api"}}, 1},
                              {Labels{{"__name__", "y"}, {"instance", "b:1"}, {"job", "api"}}, 2}};
  auto res = eval_alerting_rule(alerts, r, dup, kT0 + kMin);
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().message ==
        "vector contains metrics with the same labelset after applying alert labels");
  REQUIRE(alerts.size() == 1);
  CHECK(alerts.at(alert_id("a:1").hash()).state == AlertState::kFiring);
}

TEST_CASE("exceeding the limit clears all alert state") {
  AlertMap alerts;
  auto r = rule(0, 0, 2);
  std::vector<RuleSample> two{sample("a:1", 1), sample("a:2", 1)};
  REQUIRE(eval_alerting_rule(alerts, r, two, kT0));
  CHECK(alerts.size() == 2);
  std::vector<RuleSample> three{sample("a:1", 1), sample("a:2", 1), sample("a:3", 1)};
  std::vector<ActiveAlert> removed;
  auto res = eval_alerting_rule(alerts, r, three, kT0 + kMin, &removed);
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().message == "exceeded limit of 2 with 3 alerts");
  CHECK(alerts.empty());
  CHECK(removed.size() == 3);
}

TEST_CASE("alerts are keyed by the identity hash of their labels, as in Prometheus") {
  AlertMap alerts;
  auto r = rule(0);
  std::vector<RuleSample> two{sample("a:1", 1), sample("a:2", 2)};
  REQUIRE(eval_alerting_rule(alerts, r, two, kT0));
  REQUIRE(alerts.size() == 2);
  for (const auto& [h, a] : alerts) CHECK(h == a.labels.hash());
  CHECK(alerts.at(alert_id("a:2").hash()).value == 2);
  // A duplicate label set (here after __name__ is dropped) fails and leaves the state alone.
  std::vector<RuleSample> dup{sample("a:1", 1), sample("a:1", 3)};
  auto res = eval_alerting_rule(alerts, r, dup, kT0 + kMin);
  REQUIRE_FALSE(res.has_value());
  CHECK(alerts.size() == 2);
  CHECK(alerts.at(alert_id("a:1").hash()).value == 1);
}

TEST_CASE("raising for above the active time sends a firing alert back to pending") {
  AlertMap alerts;
  std::vector<RuleSample> one{sample("a:1", 1)};
  REQUIRE(eval_alerting_rule(alerts, rule(0), one, kT0));
  collect_alerts_to_send(alerts, kT0, kMin, kMin, "");
  REQUIRE(eval_alerting_rule(alerts, rule(10 * kMin), one, kT0 + kMin));
  ActiveAlert& a = alerts.at(alert_id("a:1").hash());
  CHECK(a.state == AlertState::kPending);
  CHECK_FALSE(is_set(a.fired_at));
  CHECK_FALSE(is_set(a.last_sent_at));
  CHECK(a.active_at == kT0);
}

TEST_CASE("templated labels come from the expander and a changing label makes a new alert") {
  AlertMap alerts;
  auto r = rule(kMin);
  r.expand = [](const Labels& l, double v) {
    CHECK_FALSE(l.has("__name__"));
    return Expanded{Labels{{"value", std::to_string(static_cast<int>(v))}},
                    Labels{{"summary", std::string(l.get("instance")) + " is down"}}};
  };
  std::vector<RuleSample> v1{sample("a:1", 1)};
  std::vector<RuleSample> v2{sample("a:1", 2)};
  REQUIRE(eval_alerting_rule(alerts, r, v1, kT0));
  CHECK(alerts.begin()->second.annotations == Labels{{"summary", "a:1 is down"}});
  CHECK(alerts.begin()->second.labels.get("value") == "1");
  // prometheus/prometheus#4836: the identity changes every eval, so it never fires.
  REQUIRE(eval_alerting_rule(alerts, r, v2, kT0 + kMin));
  REQUIRE(eval_alerting_rule(alerts, r, v1, kT0 + 2 * kMin));
  CHECK(rule_state(alerts) == AlertState::kPending);
  CHECK(alerts.size() == 1);
}

TEST_CASE("ALERTS and ALERTS_FOR_STATE are written for pending and firing alerts") {
  AlertMap alerts;
  std::vector<RuleSample> two{sample("a:1", 1), sample("a:2", 1)};
  REQUIRE(eval_alerting_rule(alerts, rule(kMin), two, kT0 + 500));
  auto series = alert_series(alerts, kT0);
  REQUIRE(series.size() == 4);
  CHECK(series[0].labels == Labels{{"__name__", "ALERTS"},
                                   {"alertname", "InstanceDown"},
                                   {"alertstate", "pending"},
                                   {"instance", "a:1"},
                                   {"job", "api"},
                                   {"severity", "page"}});
  CHECK(series[0].value == 1);
  CHECK(series[0].t == kT0);
  CHECK(series[1].labels.metric_name() == "ALERTS_FOR_STATE");
  CHECK_FALSE(series[1].labels.has("alertstate"));
  CHECK(series[1].value == static_cast<double>(kT0) / 1000);

  StaleTracker tracker;
  CHECK(tracker.update(series, kT0).empty());
  // a:2 goes away (pending alerts are deleted): its two series get stale markers.
  std::vector<RuleSample> one{sample("a:1", 1)};
  REQUIRE(eval_alerting_rule(alerts, rule(kMin), one, kT0 + 500 + kMin));
  auto next = alert_series(alerts, kT0 + kMin);
  // a:1 fired: its ALERTS series changes alertstate, so the pending one goes stale too.
  auto stale = tracker.update(next, kT0 + kMin);
  REQUIRE(stale.size() == 3);
  for (const auto& s : stale) {
    CHECK(is_stale_nan(s.value));
    CHECK(std::isnan(s.value));
  }
}

// ---------------------------------------------------------------------------------------------

namespace {
GrafanaRuleParams grafana_rule() {
  GrafanaRuleParams p;
  p.title = "HighCPU";
  p.for_ms = 2 * kMin;
  p.fire = Threshold{ThresholdOp::kGt, 90};
  return p;
}
GrafanaEvalResult cpu(double v, std::string host = "h1") {
  return {{RuleSample{Labels{{"host", std::move(host)}}, v}}, std::nullopt};
}
Labels cpu_id(std::string host = "h1") {
  return Labels{{"alertname", "HighCPU"}, {"host", std::move(host)}};
}
}  // namespace

TEST_CASE("a Grafana-like instance goes Normal, Pending, Alerting and back to Normal") {
  GrafanaInstances in;
  auto r = grafana_rule();
  eval_grafana_rule(in, r, cpu(50), kT0);
  CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
  eval_grafana_rule(in, r, cpu(95), kT0 + kMin);
  CHECK(in.at(cpu_id()).state == GrafanaState::kPending);
  eval_grafana_rule(in, r, cpu(95), kT0 + 2 * kMin);
  CHECK(in.at(cpu_id()).state == GrafanaState::kPending);
  eval_grafana_rule(in, r, cpu(95), kT0 + 3 * kMin);
  CHECK(in.at(cpu_id()).state == GrafanaState::kAlerting);
  CHECK(in.at(cpu_id()).fired_at == kT0 + 3 * kMin);

  SUBCASE("without hysteresis it clears as soon as the value drops below the threshold") {
    eval_grafana_rule(in, r, cpu(85), kT0 + 4 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
    CHECK(in.at(cpu_id()).resolved_at == kT0 + 4 * kMin);
  }
  SUBCASE("with a recover threshold it only clears below that threshold") {
    r.recover = Threshold{ThresholdOp::kLt, 80};
    eval_grafana_rule(in, r, cpu(85), kT0 + 4 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kAlerting);
    eval_grafana_rule(in, r, cpu(79), kT0 + 5 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
    // Once normal, the fire threshold applies again: 85 does not start a new pending.
    eval_grafana_rule(in, r, cpu(85), kT0 + 6 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
  }
  SUBCASE("keep_firing_for shows as Recovering before Normal") {
    r.keep_firing_for_ms = 2 * kMin;
    eval_grafana_rule(in, r, cpu(10), kT0 + 4 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kRecovering);
    eval_grafana_rule(in, r, cpu(99), kT0 + 5 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kAlerting);
    eval_grafana_rule(in, r, cpu(10), kT0 + 6 * kMin);
    eval_grafana_rule(in, r, cpu(10), kT0 + 7 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kRecovering);
    eval_grafana_rule(in, r, cpu(10), kT0 + 8 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
  }
  SUBCASE("a missing series resolves only after two missed evaluations") {
    eval_grafana_rule(in, r, cpu(95, "h2"), kT0 + 4 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kAlerting);
    CHECK(in.at(cpu_id()).missed_evals == 1);
    CHECK(in.at(cpu_id("h2")).state == GrafanaState::kPending);
    eval_grafana_rule(in, r, cpu(95, "h2"), kT0 + 5 * kMin);
    CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
    CHECK(in.at(cpu_id()).state_reason == "MissingSeries");
    eval_grafana_rule(in, r, cpu(95, "h2"), kT0 + 6 * kMin);
    CHECK_FALSE(in.contains(cpu_id()));
  }
  SUBCASE("no data maps to NoData, OK, Alerting or keeps the last state") {
    GrafanaEvalResult empty;
    SUBCASE("NoData") {
      r.no_data = NoDataMapping::kNoData;
      eval_grafana_rule(in, r, empty, kT0 + 4 * kMin);
      CHECK(in.at(cpu_id()).state == GrafanaState::kNoData);
      CHECK(in.at(cpu_id()).state_reason == "NoData");
    }
    SUBCASE("OK") {
      r.no_data = NoDataMapping::kOk;
      eval_grafana_rule(in, r, empty, kT0 + 4 * kMin);
      CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
      CHECK(in.at(cpu_id()).state_reason == "NoData");
    }
    SUBCASE("KeepLast") {
      r.no_data = NoDataMapping::kKeepLast;
      eval_grafana_rule(in, r, empty, kT0 + 4 * kMin);
      CHECK(in.at(cpu_id()).state == GrafanaState::kAlerting);
      CHECK(in.at(cpu_id()).state_reason == "KeepLast");
    }
  }
  SUBCASE("an evaluation error maps to Error or keeps the last state") {
    GrafanaEvalResult failed{{}, std::string("connection refused")};
    SUBCASE("Error") {
      r.exec_err = ExecErrMapping::kError;
      eval_grafana_rule(in, r, failed, kT0 + 4 * kMin);
      CHECK(in.at(cpu_id()).state == GrafanaState::kError);
    }
    SUBCASE("KeepLast") {
      r.exec_err = ExecErrMapping::kKeepLast;
      eval_grafana_rule(in, r, failed, kT0 + 4 * kMin);
      CHECK(in.at(cpu_id()).state == GrafanaState::kAlerting);
    }
    SUBCASE("OK") {
      r.exec_err = ExecErrMapping::kOk;
      eval_grafana_rule(in, r, failed, kT0 + 4 * kMin);
      CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
    }
  }
}

TEST_CASE("a Grafana-like rule without instances raises DatasourceNoData after its for") {
  GrafanaInstances in;
  auto r = grafana_rule();
  eval_grafana_rule(in, r, GrafanaEvalResult{}, kT0);
  Labels id{{"alertname", "DatasourceNoData"}, {"rulename", "HighCPU"}};
  REQUIRE(in.contains(id));
  CHECK(in.at(id).state == GrafanaState::kPending);
  eval_grafana_rule(in, r, GrafanaEvalResult{}, kT0 + 2 * kMin);
  CHECK(in.at(id).state == GrafanaState::kNoData);
  // Data returns: the NoData instance resolves at once.
  eval_grafana_rule(in, r, cpu(10), kT0 + 3 * kMin);
  CHECK(in.at(id).state == GrafanaState::kNormal);
  CHECK(in.at(cpu_id()).state == GrafanaState::kNormal);
}

TEST_CASE("mapping names parse case-insensitively") {
  CHECK(no_data_mapping_from_string("nodata") == NoDataMapping::kNoData);
  CHECK(no_data_mapping_from_string("OK") == NoDataMapping::kOk);
  CHECK(no_data_mapping_from_string("keep_last") == NoDataMapping::kKeepLast);
  CHECK_FALSE(no_data_mapping_from_string("Error").has_value());
  CHECK(exec_err_mapping_from_string("error") == ExecErrMapping::kError);
  CHECK(exec_err_mapping_from_string("Alerting") == ExecErrMapping::kAlerting);
  CHECK_FALSE(exec_err_mapping_from_string("NoData").has_value());
}
