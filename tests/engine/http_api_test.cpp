#include <doctest/doctest.h>

#include <cmath>

#include "ruleeval/engine/http_api.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;

namespace {

constexpr Millis kT0 = 1'795'914'040'858;  // 2026-11-29T01:00:40.858Z

std::vector<GroupView> sample_groups(AlertMap& alerts) {
  ActiveAlert firing;
  firing.labels = Labels{{"alertname", "Down"}, {"instance", "a"}};
  firing.annotations = Labels{{"summary", "a is down"}};
  firing.state = AlertState::kFiring;
  firing.active_at = kT0;
  firing.value = 1;
  ActiveAlert pending = firing;
  pending.labels = Labels{{"alertname", "Down"}, {"instance", "b"}};
  pending.state = AlertState::kPending;
  pending.value = 0.25;
  pending.keep_firing_since = kT0 + 1000;
  ActiveAlert resolved = firing;
  resolved.labels = Labels{{"alertname", "Down"}, {"instance", "c"}};
  resolved.state = AlertState::kInactive;
  for (auto* a : {&firing, &pending, &resolved}) put_alert(alerts, *a);

  GroupView g;
  g.name = "demo";
  g.file = "rules/demo.yml";
  g.interval = 15'000;
  g.eval_seconds = 0.5;
  g.last_eval = kT0;
  RuleView alert;
  alert.name = "Down";
  alert.query = "up == 0";
  alert.duration = 30'000;
  alert.labels = Labels{{"severity", "page"}};
  alert.annotations = Labels{{"summary", "{{ $labels.instance }} is down"}};
  alert.alerts = &alerts;
  alert.health = "ok";
  alert.eval_seconds = 0.25;
  alert.last_eval = kT0;
  RuleView rec;
  rec.type = RuleView::Type::kRecording;
  rec.name = "job:up:sum";
  rec.query = "sum by (job) (up)";
  rec.health = "err";
  rec.last_error = "boom";
  g.rules = {alert, rec};
  GroupView other;
  other.name = "other";
  other.file = "rules/other.yml";
  return {g, other};
}

}  // namespace

TEST_CASE("times and values are formatted the way Prometheus's API writes them") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(1'700'000'000'123) == "2023-11-14T22:13:20.123Z");
  CHECK(format_rfc3339(1'700'000'000'500) == "2023-11-14T22:13:20.5Z");
  CHECK(format_rfc3339(kNoTime) == "0001-01-01T00:00:00Z");
  CHECK(format_go_float_e(1) == "1e+00");
  CHECK(format_go_float_e(0.25) == "2.5e-01");
  CHECK(format_go_float_e(1234.5) == "1.2345e+03");
  CHECK(format_go_float_e(0) == "0e+00");
  CHECK(format_go_float_e(NAN) == "NaN");
  CHECK(format_go_float_e(-INFINITY) == "-Inf");
  CHECK(format_go_float_e(1e100) == "1e+100");
}

TEST_CASE("/api/v1/alerts lists pending and firing alerts only") {
  AlertMap alerts;
  auto groups = sample_groups(alerts);
  CHECK(render_alerts(groups) ==
        R"({"status":"success","data":{"alerts":[)"
        R"({"labels":{"alertname":"Down","instance":"a"},"annotations":{"summary":"a is down"},)"
        R"("state":"firing","activeAt":"2026-11-29T01:00:40.858Z","value":"1e+00"},)"
        R"({"labels":{"alertname":"Down","instance":"b"},"annotations":{"summary":"a is down"},)"
        R"("state":"pending","activeAt":"2026-11-29T01:00:40.858Z",)"
        R"("keepFiringSince":"2026-11-29T01:00:41.858Z","value":"2.5e-01"}]}})");
}

TEST_CASE("/api/v1/rules has Prometheus's shape and filters") {
  AlertMap alerts;
  auto groups = sample_groups(alerts);

  SUBCASE("everything") {
    std::string json = render_rules(groups);
    CHECK(json.starts_with(
        R"({"status":"success","data":{"groups":[{"name":"demo","file":"rules/demo.yml","rules":[{"state":"firing","name":"Down","query":"up == 0","duration":30,"keepFiringFor":0,"labels":{"severity":"page"},"annotations":{"summary":"{{ $labels.instance }} is down"},"alerts":[{)"));
    CHECK(
        json.find(
            R"("health":"ok","evaluationTime":0.25,"lastEvaluation":"2026-11-29T01:00:40.858Z","type":"alerting"})") !=
        std::string::npos);
    CHECK(
        json.find(
            R"j({"name":"job:up:sum","query":"sum by (job) (up)","labels":{},"health":"err","lastError":"boom","evaluationTime":0.0,"lastEvaluation":"0001-01-01T00:00:00Z","type":"recording"})j") !=
        std::string::npos);
    CHECK(
        json.find(
            R"("interval":15,"limit":0,"evaluationTime":0.5,"lastEvaluation":"2026-11-29T01:00:40.858Z"})") !=
        std::string::npos);
    CHECK(json.find(R"({"name":"other","file":"rules/other.yml","rules":[])") != std::string::npos);
  }
  SUBCASE("type=record drops alerting rules and empty groups") {
    RulesFilter f;
    f.type = parse_rule_type("record").value();
    std::string json = render_rules(groups, f);
    CHECK(json.find("\"Down\"") == std::string::npos);
    CHECK(json.find("job:up:sum") != std::string::npos);
    CHECK(json.find("\"other\"") == std::string::npos);
  }
  SUBCASE("exclude_alerts and rule_group") {
    RulesFilter f;
    f.exclude_alerts = true;
    f.rule_groups = {"demo"};
    std::string json = render_rules(groups, f);
    CHECK(json.find("\"alerts\"") == std::string::npos);
    CHECK(json.find("\"other\"") == std::string::npos);
  }
  SUBCASE("a bad type is Prometheus's bad_data message") {
    auto t = parse_rule_type("alerts");
    REQUIRE_FALSE(t.has_value());
    CHECK(
        render_error("bad_data", t.error().message) ==
        R"({"status":"error","errorType":"bad_data","error":"invalid query parameter type='alerts', allowed values are 'alert' and 'record'"})");
  }
}
