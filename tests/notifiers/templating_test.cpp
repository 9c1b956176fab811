#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../common/fake_env.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "fixtures.hpp"
#include "test_util.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;

namespace {

constexpr Millis kT0 = 1'795'482'037'491;

struct Run {
  Envelopes bodies;
  std::vector<IntegrationMetrics> metrics;
};

// One flush of `alerts` (starting at kT0) through a notifier with `yaml`.
Run run(const std::string& yaml, std::vector<rules::Alert> alerts) {
  Run r;
  r.bodies = flush_envelopes(
      notify_config(yaml), std::move(alerts), false, kT0, "http://127.0.0.1:19093", {},
      [](NotifierOptions& o) { o.slack_min_interval_ms = 0; }, &r.metrics);
  return r;
}

rules::Alert demo_alert() {
  return alert(Labels{{"alertgroup", "demo"}, {"alertname", "DemoAlwaysFiring"},
                      {"ruler", "vmalert"}, {"severity", "info"}, {"team", "ref"}},
               kT0, kT0 + 600'000, Labels{{"summary", "Always firing (value 1)"}});
}

}  // namespace

TEST_CASE("Slack templates render like the reference Alertmanager's sample") {
  std::ifstream in(std::string(RULEEVAL_SHARED_DIR) + "/ref/samples/alertmanager_slack.json");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  auto sample = json::parse(ss.str())["body"];
  // The reference stack's config (ref/stack.sh).
  auto r = run(R"(
route:
  receiver: slack
  group_by: [alertname, ruler]
receivers:
  - name: slack
    slack_configs:
      - api_url: http://127.0.0.1:1/slack
        channel: '#alerts'
        send_resolved: true
        username: '{{ template "slack.default.username" . }}'
        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}'
        text: '{{ range .Alerts }}{{ .Annotations.summary }}{{ "\n" }}{{ end }}'
)",
               {demo_alert()});
  auto body = r.bodies["slack/slack/0"].at(0);
  auto att = body["attachments"][0];
  auto satt = sample["attachments"][0];
  CHECK(body["channel"] == sample["channel"]);
  for (const char* k : {"title", "text", "color", "callback_id", "footer", "mrkdwn_in"}) {
    CHECK_MESSAGE(att[k] == satt[k], k);
  }
  // The same external URL and receiver name as the reference stack.
  CHECK(att["fallback"] == satt["fallback"]);
  CHECK(att["title_link"] == satt["title_link"]);
  CHECK(body["username"] == "ruleeval");
}

TEST_CASE("the default named templates agree with the built-in defaults") {
  auto r = run(R"(
route: {receiver: p, group_by: [alertname, ruler]}
receivers:
  - name: p
    pagerduty_configs:
      - routing_key: 'key-{{ .CommonLabels.team }}'
        url: http://127.0.0.1:1/pd
        description: '{{ template "pagerduty.default.description" . }}'
        details:
          firing: '{{ template "pagerduty.default.instances" .Alerts.Firing }}'
          count: '{{ .Alerts.Firing | len }} of {{ len .Alerts }}'
          labels: '{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}'
          removed: '{{ (.CommonLabels.Remove .GroupLabels.Names).Names | join "," }}'
          key: '{{ .GroupKey }}'
)",
               {demo_alert()});
  auto body = r.bodies["p/pagerduty/0"].at(0);
  CHECK(body["routing_key"] == "key-ref");
  CHECK(body["payload"]["summary"] == "[FIRING:1] DemoAlwaysFiring vmalert (demo info ref)");
  auto d = body["payload"]["custom_details"];
  CHECK(d["firing"] ==
        "Labels:\n - alertname = DemoAlwaysFiring\n - alertgroup = demo\n - ruler = vmalert\n"
        " - severity = info\n - team = ref\nAnnotations:\n - summary = Always firing (value 1)\n"
        "Source: http://prom/graph\n");
  CHECK(d["count"] == "1 of 1");
  CHECK(d["labels"] ==
        "alertname=DemoAlwaysFiring;alertgroup=demo;ruler=vmalert;severity=info;team=ref;");
  CHECK(d["removed"] == "alertgroup,severity,team");
  CHECK(d["key"] == R"({}:{alertname="DemoAlwaysFiring", ruler="vmalert"})");
}

TEST_CASE("template syntax errors are config errors naming the receiver and field") {
  auto c = parse_notify_config(R"(
route: {receiver: s}
receivers:
  - name: s
    slack_configs:
      - api_url: http://x/
        title: '{{ .Status '
)");
  REQUIRE(c);
  NotifierOptions o;
  o.start_threads = false;
  auto n = Notifier::create(std::move(*c), o);
  REQUIRE_FALSE(n);
  CHECK(n.error().message.find(R"(receiver "s" slack_configs[0].title: )") == 0);
  CHECK(n.error().where.line == 4);
}

TEST_CASE("a template that fails at run time is reported and nothing is sent") {
  auto r = run(R"(
route: {receiver: s}
receivers:
  - name: s
    slack_configs:
      - api_url: http://x/
        title: '{{ .NoSuchField }}'
)",
               {demo_alert()});
  CHECK(r.bodies.empty());
  REQUIRE(r.metrics.size() == 1);
  CHECK(r.metrics[0].failed == 1);
  CHECK(r.metrics[0].last_error.find("title: ") != std::string::npos);
  CHECK(r.metrics[0].last_error.find("NoSuchField") != std::string::npos);
}

TEST_CASE("subjects put alertname first, in the built-in default and in __subject alike") {
  auto r = run(R"(
route: {receiver: s, group_by: [alertgroup, alertname]}
receivers:
  - name: s
    slack_configs:
      - api_url: http://x/a
      - api_url: http://x/b
        title: '{{ template "__subject" . }}'
)",
               {demo_alert()});
  auto builtin = r.bodies["s/slack/0"].at(0)["attachments"][0]["title"];
  auto templated = r.bodies["s/slack/1"].at(0)["attachments"][0]["title"];
  CHECK(builtin == "[FIRING:1] DemoAlwaysFiring demo (vmalert info ref)");
  CHECK(templated == builtin);
}
