// opsgenie, victorops, pushover, telegram, discord and webex: config defaults and global
// defaults as Alertmanager 0.25 applies them, refusals, and the requests each renders (the
// outbox envelope), including truncation and the status-dependent parts.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
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

rules::Alert alert(const std::string& name, const Labels& extra_annotations = {}) {
  rules::Alert a;
  a.labels = Labels{{"alertname", name}, {"severity", "critical"}, {"team", "db"}};
  a.annotations = extra_annotations.empty() ? Labels{{"summary", "down"}} : extra_annotations;
  a.starts_at = kT0;
  a.generator_url = "http://prom/graph";
  return a;
}

// Flushes `alerts` through a notifier with `cfg` and returns the envelopes per integration id,
// firing first; with `resolve`, the same alerts are then resolved and flushed again.
Envelopes envelopes(NotifyConfig cfg, std::vector<rules::Alert> alerts, bool resolve = false) {
  return flush_envelopes(std::move(cfg), std::move(alerts), resolve, kT0, "http://am.test");
}

const json& request(const Envelopes& m, const std::string& id, size_t nth = 0, size_t req = 0) {
  return envelope_request(m, id, nth, req);
}

std::string header(const json& req, const std::string& name) { return request_header(req, name); }

NotifyConfig c2() {
  auto c = parse_alertmanager_config(R"(
route: {receiver: r}
receivers:
  - name: r
    discord_configs:
      - webhook_url: https://discord.example.org/x
        message: '{{ .CommonAnnotations.summary }}'
)",
                                     "am.yml", "");
  REQUIRE(c);
  return std::move(*c);
}

std::pair<NotifyConfig, rules::Alert> alert_with_control(NotifyConfig c) {
  return {std::move(c), alert("A", Labels{{"summary", "a\bb\fc\n<\\"}})};
}

std::string env_body(std::pair<NotifyConfig, rules::Alert> in, const std::string& id) {
  auto m = envelopes(std::move(in.first), {in.second});
  return request(m, id)["body"].get<std::string>();
}

}  // namespace

TEST_CASE("opsgenie: global URL and key, the '/' Alertmanager appends, defaults") {
  auto c = parse_am(R"(
global:
  opsgenie_api_url: https://og.example.org/base
  opsgenie_api_key: gk
route: {receiver: r}
receivers:
  - name: r
    opsgenie_configs:
      - {}
      - api_key: own
        api_url: https://other.example.org
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  const auto& og = c->receivers[0].opsgenie;
  REQUIRE(og.size() == 2);
  CHECK(og[0].api_url == "https://og.example.org/base/");
  CHECK(og[0].api_key == "gk");
  CHECK(og[0].send_resolved);
  CHECK(og[0].message == R"({{ template "opsgenie.default.message" . }})");
  CHECK(og[1].api_url == "https://other.example.org/");
  CHECK(og[1].api_key == "own");

  auto m = envelopes(std::move(*c), {alert("A")}, true);
  const auto& create = request(m, "r/opsgenie/0");
  CHECK(create["method"] == "POST");
  CHECK(create["url"] == "https://og.example.org/base/v2/alerts");
  CHECK(header(create, "Authorization") == "GenieKey gk");
  auto body = json::parse(create["body"].get<std::string>());
  CHECK(body["message"] == "[FIRING:1]  (A critical db)");  // no group_by: no group labels
  CHECK(body["source"] == "http://am.test/#/alerts?receiver=r");
  CHECK(body["details"] == json{{"alertname", "A"}, {"severity", "critical"}, {"team", "db"}});
  const auto& close = request(m, "r/opsgenie/0", 1);
  CHECK(close["url"].get<std::string>().find("/close?identifierType=alias") != std::string::npos);
  CHECK(json::parse(close["body"].get<std::string>()) ==
        json{{"source", "http://am.test/#/alerts?receiver=r"}});
}

TEST_CASE("opsgenie: message cut to 130 runes, api_key_file read at send time, missing key") {
  auto dir = std::filesystem::temp_directory_path() / ("ruleeval_og_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "key") << "k1\n";
  auto c = parse_am(R"(
route: {receiver: r}
receivers:
  - name: r
    opsgenie_configs:
      - api_key_file: key
        message: '{{ .CommonAnnotations.summary }}'
)",
              dir.string());
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  CHECK(c->receivers[0].opsgenie[0].api_key_file == (dir / "key").string());
  std::string long_summary;
  for (int i = 0; i < 200; ++i) long_summary += "é";
  auto m = envelopes(std::move(*c), {alert("A", Labels{{"summary", long_summary}})});
  const auto& env = m.at("r/opsgenie/0")[0];
  // The key is not in the outbox: the file is named and read for each attempt.
  CHECK(env["secret_file"] == (dir / "key").string());
  CHECK(env.dump().find("k1") == std::string::npos);
  auto body = json::parse(env["requests"][0]["body"].get<std::string>());
  std::string msg = body["message"];
  CHECK(msg.size() == 129 * 2 + 3);  // 129 runes of "é" and "…"
  CHECK(msg.substr(msg.size() - 3) == "…");
  std::filesystem::remove_all(dir);

  auto missing = parse_am(R"(
route: {receiver: r}
receivers:
  - name: r
    opsgenie_configs: [{}]
)");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("no global OpsGenie API Key set either inline or in a file") !=
        std::string::npos);
}

TEST_CASE("victorops: defaults, message_type rules, RECOVERY on resolve, key in the URL path") {
  auto c = parse_am(R"(
global:
  victorops_api_key: vk
route: {receiver: r, group_by: [alertname]}
receivers:
  - name: r
    victorops_configs:
      - routing_key: 'a b'
      - routing_key: rk
        api_url: http://vo.example.org/x
        message_type: info
        custom_fields: {extra: '{{ .CommonLabels.team }}'}
      - routing_key: rk
        message_type: WARNING
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  const auto& vo = c->receivers[0].victorops;
  CHECK(vo[0].api_url == "https://alert.victorops.com/integrations/generic/20131114/alert/");
  CHECK(vo[0].message_type == "CRITICAL");
  CHECK(vo[1].api_url == "http://vo.example.org/x/");
  auto m = envelopes(std::move(*c), {alert("A")}, true);
  CHECK(request(m, "r/victorops/0")["url"] ==
        "https://alert.victorops.com/integrations/generic/20131114/alert/vk/a%20b");
  auto b0 = json::parse(request(m, "r/victorops/0")["body"].get<std::string>());
  CHECK(b0["message_type"] == "CRITICAL");
  CHECK(b0["monitoring_tool"] == "Alertmanager");
  CHECK(b0["entity_display_name"] == "[FIRING:1] A (critical db)");
  // "info" is not one of INFO/WARNING/CRITICAL (case matters): a firing group sends CRITICAL.
  auto b1 = json::parse(request(m, "r/victorops/1")["body"].get<std::string>());
  CHECK(b1["message_type"] == "CRITICAL");
  CHECK(b1["extra"] == "db");
  auto b2 = json::parse(request(m, "r/victorops/2")["body"].get<std::string>());
  CHECK(b2["message_type"] == "WARNING");
  auto resolved = json::parse(request(m, "r/victorops/2", 1)["body"].get<std::string>());
  CHECK(resolved["message_type"] == "RECOVERY");

  auto reserved = parse_am(R"(
global: {victorops_api_key: vk}
route: {receiver: r}
receivers:
  - name: r
    victorops_configs:
      - routing_key: rk
        custom_fields: {entity_state: x}
)");
  REQUIRE_FALSE(reserved);
  CHECK(reserved.error().message.find("custom field entity_state") != std::string::npos);
}

TEST_CASE("pushover: Alertmanager 0.25's fixed URL, query parameters, durations, defaults") {
  auto c = parse_am(R"(
route: {receiver: r}
receivers:
  - name: r
    pushover_configs:
      - user_key: 'u k'
        token: t
        retry: 1m30s
        expire: 1.5h
        message: '   '
        sound: siren
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  const auto& po = c->receivers[0].pushover[0];
  CHECK(po.retry_s == 90);
  CHECK(po.expire_s == 5400);
  auto m = envelopes(std::move(*c), {alert("A")});
  const auto& req = request(m, "r/pushover/0");
  CHECK(req["content_type"] == "text/plain");
  CHECK(req["body"] == "");
  CHECK(req["url"] ==
        "https://api.pushover.net/1/messages.json?expire=5400&message=%28no+details%29&"
        "priority=2&retry=90&sound=siren&title=%5BFIRING%3A1%5D++%28A+critical+db%29&token=t&"
        "url=http%3A%2F%2Fam.test%2F%23%2Falerts%3Freceiver%3Dr&url_title=&user=u+k");

  // Keys of later Alertmanager versions are refused, as amtool 0.25 refuses them.
  for (const char* key : {"token_file", "user_key_file"}) {
    CAPTURE(key);
    auto bad = parse_am(std::string(R"(
route: {receiver: r}
receivers:
  - name: r
    pushover_configs:
      - user_key: u
        token: t
        )") + key + ": /x\n");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find(key) != std::string::npos);
  }
}

TEST_CASE("telegram: global API URL, parse_mode HTML escapes values, explicit empty parse_mode") {
  auto c = parse_am(R"(
global:
  telegram_api_url: http://tg.example.org
route: {receiver: r}
receivers:
  - name: r
    telegram_configs:
      - bot_token: 'b:t'
        chat_id: -5
        message: '{{ .CommonAnnotations.summary }}'
      - bot_token: bt
        chat_id: 7
        parse_mode: ''
        disable_notifications: true
        message: '{{ .CommonAnnotations.summary }}'
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  CHECK(c->receivers[0].telegram[0].parse_mode == "HTML");
  CHECK(c->receivers[0].telegram[1].parse_mode.empty());
  auto m = envelopes(std::move(*c), {alert("A", Labels{{"summary", "a<b & \"c\""}})});
  const auto& r0 = request(m, "r/telegram/0");
  CHECK(r0["url"] == "http://tg.example.org/botb:t/sendMessage");
  CHECK(json::parse(r0["body"].get<std::string>()) ==
        json{{"chat_id", "-5"},
             {"disable_web_page_preview", "true"},
             {"parse_mode", "HTML"},
             {"text", "a&lt;b &amp; &#34;c&#34;"}});
  // Go's encoder: HTML-safe escapes in the JSON text itself.
  CHECK(r0["body"].get<std::string>().find("\\u0026lt;") != std::string::npos);
  CHECK(json::parse(request(m, "r/telegram/1")["body"].get<std::string>()) ==
        json{{"chat_id", "7"},
             {"disable_notification", "true"},
             {"disable_web_page_preview", "true"},
             {"text", "a<b & \"c\""}});

  auto bad = parse_am(R"(
route: {receiver: r}
receivers:
  - name: r
    telegram_configs:
      - bot_token_file: /x
        chat_id: 1
)");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("bot_token_file") != std::string::npos);
}

TEST_CASE("discord: one embed, red firing and green resolved; webhook_url is required") {
  auto c = parse_am(R"(
route: {receiver: r}
receivers:
  - name: r
    discord_configs:
      - webhook_url: https://discord.example.org/api/webhooks/1/x
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  auto m = envelopes(std::move(*c), {alert("A")}, true);
  auto firing = json::parse(request(m, "r/discord/0")["body"].get<std::string>());
  CHECK(firing["content"] == "");
  CHECK(firing["embeds"][0]["title"] == "[FIRING:1]  (A critical db)");
  CHECK(firing["embeds"][0]["color"] == 0x992D22);
  CHECK(firing["embeds"][0]["description"].get<std::string>().find("Alerts Firing:") !=
        std::string::npos);
  // Go 1.19's encoding/json (Debian's Alertmanager 0.25): \b as \u0008, HTML-safe escapes.
  auto raw = env_body(alert_with_control(c2()), "r/discord/0");
  CHECK(raw.find(R"(a\u0008b\u000cc\n\u003c\\)") != std::string::npos);
  auto resolved = json::parse(request(m, "r/discord/0", 1)["body"].get<std::string>());
  CHECK(resolved["embeds"][0]["color"] == 0x2ECC71);
  CHECK(resolved["embeds"][0]["title"] == "[RESOLVED]  (A critical db)");

  auto bad = parse_am(R"(
route: {receiver: r}
receivers:
  - name: r
    discord_configs: [{title: x}]
)");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("no discord webhook URL provided") != std::string::npos);
}

TEST_CASE("webex: authorization required, message cut to 7439 bytes, room id not templated") {
  auto bad = parse_am(R"(
route: {receiver: r}
receivers:
  - name: r
    webex_configs: [{room_id: x}]
)");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("missing webex_configs.http_config.authorization") !=
        std::string::npos);

  auto c = parse_am(R"(
route: {receiver: r}
receivers:
  - name: r
    webex_configs:
      - room_id: '{{ .Status }}'
        message: '{{ .CommonAnnotations.summary }}'
        http_config: {authorization: {credentials: tok}}
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  CHECK(c->receivers[0].webex[0].api_url == "https://webexapis.com/v1/messages");
  CHECK(c->receivers[0].webex[0].http.bearer_token == "tok");
  std::string big(8000, 'x');
  big.replace(7435, 2, "é");  // a rune across the cut stays whole
  auto m = envelopes(std::move(*c), {alert("A", Labels{{"summary", big}})});
  auto body = json::parse(request(m, "r/webex/0")["body"].get<std::string>());
  CHECK(body["roomId"] == "{{ .Status }}");
  std::string md = body["markdown"];
  CHECK(md.size() == 7435 + 3);
  CHECK(md.substr(md.size() - 3) == "…");
}

TEST_CASE("the default templates of these receivers work in ruleeval.yaml's inline blocks too") {
  auto c = parse_notify_config(R"(
route: {receiver: r}
receivers:
  - name: r
    discord_configs:
      - webhook_url: https://discord.example.org/x
    webex_configs:
      - room_id: room
        http_config: {authorization: {credentials: tok}}
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  auto m = envelopes(std::move(*c), {alert("A")});
  auto d = json::parse(request(m, "r/discord/0")["body"].get<std::string>());
  CHECK(d["embeds"][0]["description"] ==
        "\n\nAlerts Firing:\nLabels:\n - alertname = A\n - severity = critical\n - team = db\n"
        "Annotations:\n - summary = down\nSource: http://prom/graph\n\n\n\n");
  auto w = json::parse(request(m, "r/webex/0")["body"].get<std::string>());
  CHECK(w["markdown"].get<std::string>().rfind("down\n\nAlerts Firing:\n", 0) == 0);
}
