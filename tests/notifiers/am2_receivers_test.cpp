// SNS and WeChat receivers and http_config options of an alertmanager.yml: decoding with
// Alertmanager 0.25's defaults and global values, refusals, and the rendered outbox payloads
// (the byte-level comparison with a real Alertmanager is tests/integration/notify_am2_parity_test).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "test_util.hpp"
#include "ruleeval/notifiers/config.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;

namespace {

Result<NotifyConfig> am(const std::string& yaml) {
  return parse_alertmanager_config(yaml, "alertmanager.yml", "/etc/alertmanager");
}

// Renders one notification of `cfg` (receiver "r", one alert) and returns the outbox entries.
std::vector<Sent> render_config(NotifyConfig cfg, Labels labels, Labels annotations) {
  auto transport = std::make_shared<RecordingTransport>();
  auto clock = std::make_shared<FakeEnv>(1'700'000'000'000);
  auto n = create_notifier(std::move(cfg), driven_options(clock, transport));
  rules::Alert a;
  a.labels = std::move(labels);
  a.annotations = std::move(annotations);
  a.starts_at = clock->now_ms() - 60'000;
  a.ends_at = clock->now_ms() + 600'000;
  (*n)->send(std::vector<rules::Alert>{a}, clock->now_ms());
  (*n)->tick(clock->now_ms() + 60'000);
  REQUIRE((*n)->wait_idle(5000));
  (*n)->stop();
  return transport->sent();
}

// The same for the alertmanager.yml `yaml`.
std::vector<Sent> render(const std::string& yaml, Labels labels, Labels annotations) {
  auto c = am(yaml);
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  return render_config(std::move(*c), std::move(labels), std::move(annotations));
}

std::multimap<std::string, std::string> form(const std::string& body) {
  std::multimap<std::string, std::string> out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    std::string pair = body.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    auto eq = pair.find('=');
    out.emplace(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("sns_configs: Alertmanager's defaults, sigv4 and http_config from global") {
  auto c = am(R"(
global:
  http_config:
    authorization: {credentials: g}
route: {receiver: r}
receivers:
  - name: r
    sns_configs:
      - topic_arn: arn:aws:sns:eu-west-1:1:t
        sigv4: {region: eu-west-1, access_key: AK, secret_key: SK, profile: p}
        attributes: {a: b}
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  REQUIRE(c->receivers[0].sns.size() == 1);
  const auto& s = c->receivers[0].sns[0];
  CHECK(s.send_resolved);
  CHECK(s.subject == R"({{ template "sns.default.subject" . }})");
  CHECK(s.message == R"({{ template "sns.default.message" . }})");
  CHECK(s.region == "eu-west-1");
  CHECK(s.access_key == "AK");
  CHECK(s.secret_key == "SK");
  CHECK(s.profile == "p");
  CHECK(s.attributes.at("a") == "b");
  CHECK(s.http.bearer_token == "g");

  auto role = am("route: {receiver: r}\nreceivers:\n  - name: r\n    sns_configs:\n"
                 "      - topic_arn: t\n        sigv4: {role_arn: 'arn:aws:iam::1:role/x'}\n");
  REQUIRE_MESSAGE(role, (role ? "" : role.error().to_string()));  // assumed through AWS STS
  CHECK(role->receivers[0].sns.at(0).role_arn == "arn:aws:iam::1:role/x");

  auto none = am("route: {receiver: r}\nreceivers:\n  - name: r\n    sns_configs:\n"
                 "      - subject: x\n");
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("must provide either a Target ARN, Topic ARN, or Phone Number") !=
        std::string::npos);
}

TEST_CASE("sns payload: Publish form, sorted attributes, FIFO ids, SMS truncation") {
  std::string attrs;
  for (int i = 1; i <= 11; ++i) attrs += "          k" + std::to_string(i) + ": v" + std::to_string(i) + "\n";
  auto sent = render(R"(
route: {receiver: r, group_by: [alertname], group_wait: 1s}
receivers:
  - name: r
    sns_configs:
      - api_url: 'http://sns.test/{{ .CommonLabels.team }}'
        topic_arn: 'arn:aws:sns:us-east-1:1:{{ .CommonLabels.team }}.fifo'
        sigv4: {region: us-east-1}
        attributes:
)" + attrs + R"(
      - phone_number: '+15555550100'
        subject: ''
        message: '{{ .CommonAnnotations.long }}'
        sigv4: {region: us-east-1}
)",
                     Labels{{"alertname", "A"}, {"team", "db"}},
                     Labels{{"long", std::string(2000, 'x')}});
  REQUIRE(sent.size() == 2);
  json topic = json::parse(sent[0].entry.body), sms = json::parse(sent[1].entry.body);
  if (topic["body"].get<std::string>().find("PhoneNumber") != std::string::npos) std::swap(topic, sms);
  CHECK(topic["endpoint"] == "http://sns.test/db");
  const std::string tb = topic["body"];
  CHECK(tb.starts_with("Action=Publish&Message="));
  CHECK(tb.ends_with("&Version=2010-03-31"));
  auto f = form(tb);
  CHECK(f.find("TopicArn")->second == "arn%3Aaws%3Asns%3Aus-east-1%3A1%3Adb.fifo");
  // FIFO topic: deduplication id and group id are the sha256 of the group key.
  CHECK(f.find("MessageDeduplicationId")->second.size() == 64);
  CHECK(f.find("MessageGroupId")->second == f.find("MessageDeduplicationId")->second);
  // Attribute entries numbered over the sorted names (k1, k10, k11, k2, ...), keys then sorted
  // as url.Values.Encode sorts them.
  CHECK(f.find("MessageAttributes.entry.1.Name")->second == "k1");
  CHECK(f.find("MessageAttributes.entry.2.Name")->second == "k10");
  CHECK(f.find("MessageAttributes.entry.4.Name")->second == "k2");
  CHECK(f.find("MessageAttributes.entry.4.Value.StringValue")->second == "v2");
  CHECK(tb.find("MessageAttributes.entry.10.Name") < tb.find("MessageAttributes.entry.2.Name"));
  CHECK(f.find("Subject")->second.find("%5BFIRING%3A1%5D") == 0);

  auto sf = form(sms["body"]);
  CHECK(sms["endpoint"] == "");
  CHECK(sf.find("PhoneNumber")->second == "%2B15555550100");
  CHECK(sf.count("Subject") == 0);  // subject: '' sends none
  CHECK(sf.find("Message")->second == std::string(1600, 'x'));  // SMS: 1600 bytes
  CHECK(sf.find("MessageAttributes.entry.1.Name")->second == "truncated");
  CHECK(sf.find("MessageAttributes.entry.1.Value.StringValue")->second == "true");
}

TEST_CASE("wechat_configs: global wechat_api_*, defaults, trailing slash, message types") {
  auto c = am(R"(
global:
  wechat_api_secret: s
  wechat_api_corp_id: c
  wechat_api_url: http://wx.test/api
route: {receiver: r}
receivers:
  - name: r
    wechat_configs:
      - agent_id: '7'
      - api_url: http://wx2.test/x?y=1
        corp_id: c2
        api_secret: s2
        message_type: markdown
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  const auto& w = c->receivers[0].wechat;
  REQUIRE(w.size() == 2);
  CHECK_FALSE(w[0].send_resolved);
  CHECK(w[0].api_url == "http://wx.test/api/");
  CHECK(w[0].api_secret == "s");
  CHECK(w[0].corp_id == "c");
  CHECK(w[0].message_type == "text");
  CHECK(w[0].message == R"({{ template "wechat.default.message" . }})");
  CHECK(w[1].api_url == "http://wx2.test/x/?y=1");
  CHECK(w[1].corp_id == "c2");
  CHECK(w[1].message_type == "markdown");

  auto no_secret = am("route: {receiver: r}\nreceivers:\n  - name: r\n    wechat_configs:\n"
                      "      - corp_id: c\n");
  REQUIRE_FALSE(no_secret);
  CHECK(no_secret.error().message.find("no global Wechat ApiSecret set") != std::string::npos);
  auto bad_type = am("global: {wechat_api_secret: s, wechat_api_corp_id: c}\nroute: {receiver: r}\n"
                     "receivers:\n  - name: r\n    wechat_configs:\n      - message_type: html\n");
  REQUIRE_FALSE(bad_type);
  CHECK(bad_type.error().message.find("does not match valid options ^(text|markdown)$") !=
        std::string::npos);
}

TEST_CASE("wechat payload: Go's field order and HTML escaping, markdown content") {
  auto sent = render(R"(
global: {wechat_api_secret: s, wechat_api_corp_id: c}
route: {receiver: r, group_wait: 1s}
receivers:
  - name: r
    wechat_configs:
      - to_user: '@all'
        message: '<b>{{ .CommonLabels.alertname }}</b> & more'
      - message_type: markdown
        to_tag: '{{ .CommonLabels.team }}'
        message: '**{{ .CommonLabels.alertname }}**'
)",
                     Labels{{"alertname", "A"}, {"team", "db"}}, Labels{});
  REQUIRE(sent.size() == 2);
  std::vector<std::string> bodies;
  bodies.reserve(sent.size());
  for (const auto& s : sent) bodies.push_back(json::parse(s.entry.body)["body"]);
  std::sort(bodies.begin(), bodies.end());
  CHECK(bodies[0] ==
        "{\"text\":{\"content\":\"\"},\"totag\":\"db\",\"safe\":\"0\",\"msgtype\":\"markdown\","
        "\"markdown\":{\"content\":\"**A**\"}}\n");
  CHECK(bodies[1] ==
        "{\"text\":{\"content\":\"\\u003cb\\u003eA\\u003c/b\\u003e \\u0026 more\"},"
        "\"touser\":\"@all\",\"safe\":\"0\",\"msgtype\":\"text\",\"markdown\":{\"content\":\"\"}}\n");
}

TEST_CASE("http_config: oauth2, tls server_name and *_file secrets are decoded, not refused") {
  auto c = am(R"(
route: {receiver: r}
receivers:
  - name: r
    webhook_configs:
      - url: https://hook.test/
        http_config:
          oauth2:
            client_id: id
            client_secret_file: secret.txt
            token_url: https://sso.test/token
            scopes: [a, b]
            endpoint_params: {audience: x}
            tls_config: {insecure_skip_verify: true}
          tls_config:
            server_name: hook.internal
            ca_file: ca.pem
            min_version: TLS13
          proxy_url: http://proxy.test:3128
      - url: https://hook2.test/
        http_config:
          basic_auth: {username: u, password_file: /run/secrets/pw}
      - url: https://hook3.test/
        http_config:
          authorization: {type: Token, credentials_file: tok}
)");
  REQUIRE_MESSAGE(c, (c ? "" : c.error().to_string()));
  const auto& w = c->receivers[0].webhook;
  REQUIRE(w.size() == 3);
  const auto& o = w[0].http.oauth2;
  CHECK(o.client_id == "id");
  CHECK(o.client_secret_file == "/etc/alertmanager/secret.txt");
  CHECK(o.token_url == "https://sso.test/token");
  CHECK(o.scopes == std::vector<std::string>{"a", "b"});
  CHECK(o.endpoint_params.at("audience") == "x");
  CHECK(o.tls.insecure_skip_verify);
  CHECK(w[0].http.tls.server_name == "hook.internal");
  CHECK(w[0].http.tls.ca_file == "/etc/alertmanager/ca.pem");
  CHECK(w[0].http.tls.min_version == "TLS13");
  CHECK(w[0].http.proxy_url == "http://proxy.test:3128");
  // Files are kept as paths and read at every request (prometheus/common's behaviour), so a
  // missing file is not a load error.
  CHECK(w[1].http.basic_user == "u");
  CHECK(w[1].http.basic_password_file == "/run/secrets/pw");
  CHECK(w[2].http.authorization_type == "Token");
  CHECK(w[2].http.bearer_token_file == "/etc/alertmanager/tok");

  auto bad = am("route: {receiver: r}\nreceivers:\n  - name: r\n    webhook_configs:\n"
                "      - url: https://h.test/\n        http_config:\n          oauth2:\n"
                "            client_id: id\n            token_url: https://sso.test/t\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("either oauth2 client_secret or client_secret_file must be "
                                 "configured") != std::string::npos);
}

TEST_CASE("inline ruleeval.yaml: sns and wechat defaults render with the built-in templates") {
  // The same receivers in ruleeval.yaml (built-in templates) and in an alertmanager.yml, which
  // renders with Debian's default.tmpl (Alertmanager's own file): the same bytes from both.
  const std::string receivers = R"(
route: {receiver: r, group_wait: 1s}
receivers:
  - name: r
    sns_configs:
      - topic_arn: arn:aws:sns:eu-west-1:1:t
        sigv4: {region: eu-west-1}
    wechat_configs:
      - corp_id: c
        api_secret: s
)";
  const Labels labels{{"alertname", "Down"}}, annotations{{"summary", "it is down"}};
  auto sent = render_config(notify_config(receivers), labels, annotations);
  REQUIRE(sent.size() == 2);
  auto with_debian = render(receivers, labels, annotations);
  REQUIRE(with_debian.size() == 2);
  for (const auto& s : sent) {
    for (const auto& d : with_debian) {
      if (d.entry.kind == s.entry.kind) CHECK(d.entry.body == s.entry.body);
    }
  }
  for (const auto& s : sent) {
    json j = json::parse(s.entry.body);
    if (s.entry.kind == IntegrationKind::kSns) {
      auto f = form(j["body"]);
      // No group_by: Alertmanager's __subject puts the common labels in parentheses.
      CHECK(f.find("Subject")->second == "%5BFIRING%3A1%5D++%28Down%29");
      CHECK(f.find("Message")->second.starts_with("it+is+down%0A%0AAlerts+Firing%3A%0ALabels%3A"));
    } else {
      json msg = json::parse(j["body"].get<std::string>());
      std::string text = msg["text"]["content"];
      CHECK(text.starts_with("[FIRING:1]  (Down)\nit is down\nAlerts Firing:\nLabels:\n"));
      CHECK(text.find("AlertmanagerUrl:\n") != std::string::npos);
    }
  }
}
