// msteams_configs (Alertmanager 0.26+) and msteamsv2_configs (0.28+): the configuration as those
// versions' UnmarshalYAML and Config checks define it, the default templates of their
// default.tmpl, and the exact JSON each renders (MessageCard / Adaptive Card), firing and
// resolved. amtool 0.25 cannot be the oracle here (it has no Teams receiver): the expected
// payloads are those of notify/msteams/msteams.go and notify/msteamsv2/msteamsv2.go.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "ruleeval/notifiers/notifier.hpp"
#include "fixtures.hpp"
#include "test_util.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;

namespace {

constexpr Millis kT0 = 1'795'482'037'491;

Result<NotifyConfig> am(const std::string& yaml, const std::string& dir = "") {
  return parse_alertmanager_config(yaml, "am.yml", dir);
}

rules::Alert teams_alert(const std::string& name, const std::string& summary = "down") {
  rules::Alert a;
  a.labels = Labels{{"alertname", name}, {"severity", "critical"}, {"team", "db"}};
  a.annotations = Labels{{"summary", summary}};
  a.starts_at = kT0;
  a.generator_url = "http://prom/graph";
  return a;
}

// Envelopes per integration id: the firing notification, then (resolve) the resolved one.
Envelopes teams_envelopes(NotifyConfig cfg, std::vector<rules::Alert> alerts, bool resolve) {
  return flush_envelopes(std::move(cfg), std::move(alerts), resolve, kT0, "http://am.test");
}

// The one request of the nth envelope of `id`.
const json& teams_request(const Envelopes& m, const std::string& id, size_t nth = 0) {
  const json& r = envelope_request(m, id, nth);
  REQUIRE(m.at(id)[nth]["requests"].size() == 1);
  return r;
}

// msteams.default.text / msteamsv2.default.text for teams_alert("A") (default.tmpl's
// __text_alert_list_markdown: blank lines around each block, two-space list indent).
const std::string kFiringText =
    "\n\n# Alerts Firing:\n\nLabels:\n  - alertname = A\n  - severity = critical\n  - team = db\n"
    "\nAnnotations:\n  - summary = down\n\nSource: http://prom/graph\n\n\n\n\n";
const std::string kResolvedText =
    "\n\n\n# Alerts Resolved:\n\nLabels:\n  - alertname = A\n  - severity = critical\n"
    "  - team = db\n\nAnnotations:\n  - summary = down\n\nSource: http://prom/graph\n\n\n\n";

}  // namespace

TEST_CASE("msteams: the MessageCard of Alertmanager 0.27+, red firing, green resolved") {
  auto c = am(R"(
route: {receiver: r}
receivers:
  - name: r
    msteams_configs:
      - webhook_url: https://example.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  REQUIRE(c->receivers[0].msteams.size() == 1);
  CHECK(c->receivers[0].msteams[0].send_resolved);
  auto m = teams_envelopes(std::move(*c), {teams_alert("A")}, true);
  const auto& req = teams_request(m, "r/msteams/0");
  CHECK(req["method"] == "POST");
  CHECK(req["url"] == "https://example.webhook.office.com/webhookb2/abc/IncomingWebhook/def/ghi");
  CHECK(req["content_type"] == "application/json");
  const std::string body = req["body"];
  // Field order, no omitted fields and json.Encoder's trailing newline.
  CHECK(body == R"j({"@context":"http://schema.org/extensions","type":"MessageCard",)j"
                R"j("title":"[FIRING:1]  (A critical db)","summary":"[FIRING:1]  (A critical db)",)j"
                R"j("text":)j" + json(kFiringText).dump() +
                    R"(,"themeColor":"8C1A1A"})" + "\n");
  auto resolved = json::parse(teams_request(m, "r/msteams/0", 1)["body"].get<std::string>());
  CHECK(resolved["themeColor"] == "2DC72D");
  CHECK(resolved["title"] == "[RESOLVED]  (A critical db)");
  CHECK(resolved["summary"] == "[RESOLVED]  (A critical db)");
  CHECK(resolved["text"] == kResolvedText);
}

TEST_CASE("msteams: title, summary and text templates; Go's HTML-safe JSON escapes") {
  auto c = am(R"(
route: {receiver: r, group_by: [alertname]}
receivers:
  - name: r
    msteams_configs:
      - webhook_url: https://teams.example.org/hook
        send_resolved: false
        title: '{{ .GroupLabels.alertname }} <{{ .Status }}>'
        summary: '{{ len .Alerts }} alert(s) & more'
        text: '{{ range .Alerts }}{{ .Annotations.summary }}{{ end }}'
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  auto m = teams_envelopes(std::move(*c), {teams_alert("A", "disk <90%> & \"full\"")}, true);
  REQUIRE(m["r/msteams/0"].size() == 1);  // send_resolved: false
  const std::string body = teams_request(m, "r/msteams/0")["body"];
  CHECK(body == R"j({"@context":"http://schema.org/extensions","type":"MessageCard",)j"
                R"j("title":"A \u003cfiring\u003e","summary":"1 alert(s) \u0026 more",)j"
                R"j("text":"disk \u003c90%\u003e \u0026 \"full\"","themeColor":"8C1A1A"})j"
                "\n");
}

TEST_CASE("msteamsv2: the Adaptive Card of Alertmanager 0.28.1+, Attention firing, Good resolved") {
  auto c = am(R"(
route: {receiver: r}
receivers:
  - name: r
    msteamsv2_configs:
      - webhook_url: https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  auto m = teams_envelopes(std::move(*c), {teams_alert("A")}, true);
  const auto& req = teams_request(m, "r/msteamsv2/0");
  CHECK(req["url"] ==
        "https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke"
        "?api-version=2016-06-01&sig=x");
  CHECK(req["content_type"] == "application/json");
  const std::string body = req["body"];
  CHECK(body ==
        R"j({"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",)j"
        R"j("contentUrl":null,"content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json",)j"
        R"j("type":"AdaptiveCard","version":"1.2","body":[{"type":"TextBlock",)j"
        R"j("text":"[FIRING:1]  (A critical db)","weight":"Bolder","size":"Medium","wrap":true,)j"
        R"j("style":"heading","color":"Attention"},{"type":"TextBlock","text":)j" +
            json(kFiringText).dump() + R"j(,"wrap":true}],"msteams":{"width":"full"}}}]})j" + "\n");
  auto resolved = json::parse(teams_request(m, "r/msteamsv2/0", 1)["body"].get<std::string>());
  const auto& blocks = resolved["attachments"][0]["content"]["body"];
  CHECK(blocks[0]["color"] == "Good");
  CHECK(blocks[0]["text"] == "[RESOLVED]  (A critical db)");
  CHECK(blocks[1]["text"] == kResolvedText);
}

TEST_CASE("msteams/msteamsv2: webhook_url_file is read at send time; one of the two is required") {
  auto c = am(R"(
route: {receiver: r}
receivers:
  - name: r
    msteams_configs:
      - webhook_url_file: secrets/teams.url
    msteamsv2_configs:
      - webhook_url_file: /run/secrets/flow.url
        title: T
        text: X
)",
              "/etc/am");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  CHECK(c->receivers[0].msteams[0].webhook_url_file == "/etc/am/secrets/teams.url");
  CHECK(c->receivers[0].msteamsv2[0].webhook_url_file == "/run/secrets/flow.url");
  auto m = teams_envelopes(std::move(*c), {teams_alert("A")}, false);
  // The URL is a placeholder filled from the file by the transport (not at load time).
  CHECK(m["r/msteams/0"][0]["secret_file"] == "/etc/am/secrets/teams.url");
  CHECK(m["r/msteamsv2/0"][0]["secret_file"] == "/run/secrets/flow.url");
  auto v2 = json::parse(teams_request(m, "r/msteamsv2/0")["body"].get<std::string>());
  CHECK(v2["attachments"][0]["content"]["body"][0]["text"] == "T");
  CHECK(v2["attachments"][0]["content"]["body"][1]["text"] == "X");

  struct Bad {
    const char* yaml;
    const char* want;
    uint32_t line;
  };
  for (const Bad& b : {
           Bad{"    msteams_configs:\n      - title: x\n",
               "one of webhook_url or webhook_url_file must be configured", 5},
           Bad{"    msteamsv2_configs:\n      - webhook_url: https://a.test/\n"
               "        webhook_url_file: /x\n",
               "at most one of webhook_url & webhook_url_file must be configured", 6},
           Bad{"    msteamsv2_configs:\n      - webhook_url: https://a.test/\n        summary: s\n",
               "field summary not found", 6},
           Bad{"    msteams_configs:\n      - webhook_url: ftp://a.test/\n",
               "unsupported scheme \"ftp\" for URL", 5},
           Bad{"    msteams_configs:\n      - webhook_url: https://a.test/\n        color: red\n",
               "field color not found", 6},
       }) {
    CAPTURE(b.yaml);
    auto bad = am(std::string("route: {receiver: r}\nreceivers:\n  - name: r\n") + b.yaml);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find(b.want) != std::string::npos);
    CHECK(bad.error().where.line == b.line);
  }
}

TEST_CASE("msteams: without its own http_config the global one applies (Alertmanager 0.28)") {
  auto c = am(R"(
global:
  http_config:
    authorization: {credentials: tok}
route: {receiver: r}
receivers:
  - name: r
    msteams_configs:
      - webhook_url: https://a.test/
    msteamsv2_configs:
      - webhook_url: https://b.test/
        http_config:
          follow_redirects: false
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  CHECK(c->receivers[0].msteams[0].http.bearer_token == "tok");
  CHECK(c->receivers[0].msteamsv2[0].http.bearer_token.empty());
  CHECK_FALSE(c->receivers[0].msteamsv2[0].http.follow_redirects);
}

TEST_CASE("inline ruleeval.yaml: msteams renders with the built-in default templates") {
  auto c = parse_notify_config(R"(
route: {receiver: r}
receivers:
  - name: r
    msteams_configs:
      - webhook_url: https://a.test/
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  auto m = teams_envelopes(std::move(*c), {teams_alert("A")}, false);
  auto card = json::parse(teams_request(m, "r/msteams/0")["body"].get<std::string>());
  CHECK(card["title"] == "[FIRING:1]  (A critical db)");
  CHECK(card["text"] == kFiringText);
}
