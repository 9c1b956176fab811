// Grafana contact point types mapped onto the notifier's receivers (opsgenie, victorops,
// pushover, telegram, discord, webex, sns, wecom): Grafana's settings names and defaults, the
// requests each renders, the refusals (file:line:col), and the interpolation of $VAR, ${VAR},
// $__env{}, $__file{} and $$ in contact points and policies.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ruleeval/notifiers/grafana_provisioning.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "ruleeval/rules/grafana_interpolate.hpp"
#include "fixtures.hpp"
#include "test_util.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;

namespace {

constexpr Millis kT0 = 1'795'482'037'491;

Result<GrafanaNotifications> parse(const std::string& text) {
  return parse_grafana_notifications(text, "alerting.yaml", GrafanaSmtp{});
}

std::string err(const std::string& text) {
  auto r = parse(text);
  REQUIRE_FALSE(r);
  return r.error().to_string();
}

// A provisioning file with one contact point "cp" of one integration, and a policy tree on it.
std::string file(const std::string& type, const std::string& settings,
                 const std::string& extra = "") {
  return "apiVersion: 1\ncontactPoints:\n  - orgId: 1\n    name: cp\n    receivers:\n"
         "      - uid: cp-1\n        type: " +
         type + "\n" + extra + "        settings:\n" + settings +
         "policies:\n  - orgId: 1\n    receiver: cp\n    group_by: [alertname]\n";
}

NotifyConfig config(const std::string& text) {
  auto g = parse(text);
  REQUIRE_MESSAGE(g, (g ? "" : g.error().to_string()));
  NotifyConfig cfg;
  std::vector<GrafanaNotifications> parts;
  parts.push_back(std::move(*g));
  auto m = merge_grafana_notifications(cfg, false, std::move(parts), {});
  REQUIRE_MESSAGE(m, (m ? "" : m.error().to_string()));
  return cfg;
}

rules::Alert alert(const Labels& extra = {}) {
  rules::Alert a;
  LabelsBuilder b(Labels{{"alertname", "DiskFull"}, {"team", "db"}});
  for (const auto& l : extra) b.set(l.name, l.value);
  a.labels = b.build();
  a.annotations = Labels{{"summary", "disk is full"}};
  a.starts_at = kT0;
  a.generator_url = "http://grafana.test/alerting/grafana/r1/view";
  return a;
}

// The envelopes each integration rendered, firing first and (with `resolve`) then resolved.
Envelopes envelopes(NotifyConfig cfg, std::vector<rules::Alert> alerts, bool resolve = false) {
  return flush_envelopes(std::move(cfg), std::move(alerts), resolve, kT0, "http://ruleeval.test",
                         FlushTimes{60'000, 70'000, 900'000});
}

const json& request(const Envelopes& m, const std::string& id, size_t nth = 0, size_t req = 0) {
  return envelope_request(m, id, nth, req);
}

json body(const json& req) { return json::parse(req["body"].get<std::string>()); }

std::string header(const json& req, const std::string& name) { return request_header(req, name); }

}  // namespace

TEST_CASE("Grafana opsgenie: apiKey, apiUrl, tags, og_priority, responders, autoClose") {
  auto cfg = config(file("opsgenie", R"(          apiKey: og-key
          apiUrl: https://api.eu.opsgenie.com/v2/alerts
          message: '{{ .CommonLabels.alertname }} on {{ .CommonLabels.team }}'
          description: '{{ .CommonAnnotations.summary }}'
          sendTagsAs: both
          responders:
            - type: team
              name: dba
            - type: teams
              name: 'ops,sre'
)"));
  REQUIRE(cfg.receivers.size() == 1);
  const auto& og = cfg.receivers[0].opsgenie.at(0);
  CHECK(og.api_url == "https://api.eu.opsgenie.com/");
  CHECK(og.send_resolved);
  auto m = envelopes(std::move(cfg), {alert({{"og_priority", "P2"}})}, true);
  const auto& create = request(m, "cp/opsgenie/0");
  CHECK(create["url"] == "https://api.eu.opsgenie.com/v2/alerts");
  CHECK(header(create, "Authorization") == "GenieKey og-key");
  const json b = body(create);
  CHECK(b["message"] == "DiskFull on db");
  CHECK(b["description"] == "disk is full");
  CHECK(b["source"] == "Grafana");
  CHECK(b["priority"] == "P2");
  CHECK(b["tags"] == json{"alertname:DiskFull", "og_priority:P2", "team:db"});
  CHECK(b["details"]["url"] == "http://ruleeval.test/alerting/list");
  CHECK(b["details"]["team"] == "db");
  CHECK(b["responders"] == json::parse(R"([{"name":"dba","type":"team"},
      {"name":"ops","type":"team"},{"name":"sre","type":"team"}])"));
  // Resolved: the alert is closed by its alias.
  const auto& close = request(m, "cp/opsgenie/0", 1);
  CHECK(close["url"] == "https://api.eu.opsgenie.com/v2/alerts/" + b["alias"].get<std::string>() +
                            "/close?identifierType=alias");
  CHECK(body(close) == json{{"source", "Grafana"}});
}

TEST_CASE("Grafana opsgenie: defaults, an invalid og_priority, autoClose false, sendTagsAs details") {
  auto cfg = config(file("opsgenie", R"(          apiKey: k
          autoClose: false
          overridePriority: true
          sendTagsAs: details
)"));
  CHECK(cfg.receivers[0].opsgenie[0].api_url == "https://api.opsgenie.com/");
  CHECK_FALSE(cfg.receivers[0].opsgenie[0].send_resolved);  // autoClose: false
  auto m = envelopes(std::move(cfg), {alert({{"og_priority", "urgent"}})}, true);
  REQUIRE(m.at("cp/opsgenie/0").size() == 1);  // no close request
  const json b = body(request(m, "cp/opsgenie/0"));
  CHECK_FALSE(b.contains("priority"));  // not P1..P5
  CHECK_FALSE(b.contains("tags"));
  CHECK(b["details"]["alertname"] == "DiskFull");
  CHECK(b["message"].get<std::string>().starts_with("[FIRING:1] DiskFull"));
}

TEST_CASE("Grafana opsgenie: refusals at file:line:col") {
  CHECK(err(file("opsgenie", "          apiUrl: https://og.example.org/v2/alerts\n")) ==
        "alerting.yaml:9:11: opsgenie contact point: settings.apiKey is required");
  CHECK(err(file("opsgenie", "          apiKey: k\n          apiUrl: https://og.example.org/api\n"))
            .starts_with("alerting.yaml:10:19: opsgenie contact point: settings.apiUrl: "
                         "\"https://og.example.org/api\" does not end with /v2/alerts"));
  CHECK(err(file("opsgenie", "          apiKey: k\n          sendTagsAs: labels\n")) ==
        "alerting.yaml:10:23: opsgenie contact point: settings.sendTagsAs: invalid value for "
        "sendTagsAs: \"labels\" (tags, details or both)");
  CHECK(err(file("opsgenie", "          apiKey: k\n          responders: [{type: squad, id: x}]\n")) ==
        "alerting.yaml:10:24: responder at index [0] has unsupported type. Supported only: "
        "team,teams,user,escalation,schedule");
  CHECK(err(file("opsgenie", "          apiKey: k\n          responders: [{type: user}]\n")) ==
        "alerting.yaml:10:24: responder at index [0] must have at least one of id, username or "
        "name specified");
}

TEST_CASE("Grafana victorops: the REST endpoint URL holds the API key and routing key") {
  auto cfg = config(file("victorops", R"(          url: https://alert.victorops.com/integrations/generic/20131114/alert/vo-key/db-route
          messageType: warning
          title: '{{ .CommonLabels.alertname }}'
          description: '{{ .CommonAnnotations.summary }}'
)"));
  const auto& vo = cfg.receivers[0].victorops.at(0);
  CHECK(vo.api_url == "https://alert.victorops.com/integrations/generic/20131114/alert/");
  CHECK(vo.api_key == "vo-key");
  CHECK(vo.routing_key == "db-route");
  auto m = envelopes(std::move(cfg), {alert()}, true);
  const auto& fire = request(m, "cp/victorops/0");
  CHECK(fire["url"] ==
        "https://alert.victorops.com/integrations/generic/20131114/alert/vo-key/db-route");
  const json b = body(fire);
  CHECK(b["message_type"] == "WARNING");
  CHECK(b["entity_display_name"] == "DiskFull");
  CHECK(b["state_message"] == "disk is full");
  CHECK(b["alert_url"] == "http://ruleeval.test/alerting/list");
  CHECK(body(request(m, "cp/victorops/0", 1))["message_type"] == "RECOVERY");
  CHECK(err(file("victorops", "          url: https://alert.victorops.com\n")) ==
        "alerting.yaml:9:16: victorops contact point: settings.url: want VictorOps's REST "
        "endpoint URL ending in /<api key>/<routing key>");
}

TEST_CASE("Grafana pushover: priorities and sounds by status, the rule link, device refused") {
  auto cfg = config(file("pushover", R"(          userKey: u1
          apiToken: t1
          priority: 1
          okPriority: -1
          sound: siren
          okSound: magic
          retry: 30
          expire: 600
          uploadImage: false
          title: '{{ .CommonLabels.alertname }}'
          message: '{{ .CommonAnnotations.summary }}'
)"));
  auto m = envelopes(std::move(cfg), {alert()}, true);
  auto query = [](const json& req) { return req["url"].get<std::string>(); };
  const std::string fire = query(request(m, "cp/pushover/0"));
  CHECK(fire.find("token=t1") != std::string::npos);
  CHECK(fire.find("user=u1") != std::string::npos);
  CHECK(fire.find("title=DiskFull") != std::string::npos);
  CHECK(fire.find("message=disk+is+full") != std::string::npos);
  CHECK(fire.find("priority=1&") != std::string::npos);
  CHECK(fire.find("sound=siren") != std::string::npos);
  CHECK(fire.find("retry=30&") != std::string::npos);
  CHECK(fire.find("expire=600&") != std::string::npos);
  CHECK(fire.find("html=1") != std::string::npos);
  CHECK(fire.find("url_title=Show+alert+rule") != std::string::npos);
  const std::string ok = query(request(m, "cp/pushover/0", 1));
  CHECK(ok.find("priority=-1&") != std::string::npos);
  CHECK(ok.find("sound=magic") != std::string::npos);
  CHECK(err(file("pushover", "          userKey: u\n          apiToken: t\n          device: phone\n")) ==
        "alerting.yaml:11:19: pushover contact point: settings.device: ruleeval's Pushover "
        "notifier (Alertmanager 0.25's) sends to all of the user's devices; remove the setting");
  CHECK(err(file("pushover", "          userKey: u\n          apiToken: t\n          priority: high\n")) ==
        "alerting.yaml:11:21: pushover contact point: settings.priority: \"high\" is not an integer");
}

TEST_CASE("Grafana telegram, discord, webex") {
  auto cfg = config(file("telegram", R"(          bottoken: 123:abc
          chatid: '-1001234'
          parse_mode: None
          disable_notifications: true
          message: '{{ .CommonLabels.alertname }} <b>'
)"));
  auto m = envelopes(std::move(cfg), {alert()});
  const auto& tg = request(m, "cp/telegram/0");
  CHECK(tg["url"] == "https://api.telegram.org/bot123:abc/sendMessage");
  const json tb = body(tg);
  CHECK(tb["chat_id"] == "-1001234");
  CHECK(tb["text"] == "DiskFull <b>");  // parse_mode None: no HTML escaping
  CHECK_FALSE(tb.contains("parse_mode"));
  CHECK(tb["disable_notification"] == "true");
  CHECK(err(file("telegram", "          bottoken: x\n          chatid: '@ops'\n")) ==
        "alerting.yaml:10:19: telegram contact point: settings.chatid: \"@ops\" is not an integer "
        "chat id");
  CHECK(err(file("telegram", "          bottoken: x\n          chatid: 1\n          message_thread_id: 7\n"))
            .starts_with("alerting.yaml:11:30: telegram contact point: settings.message_thread_id"));

  auto d = config(file("discord", R"(          url: https://discord.com/api/webhooks/1/abc
          title: '{{ .CommonLabels.alertname }}'
          message: '{{ .CommonAnnotations.summary }}'
          use_discord_username: true
)"));
  auto dm = envelopes(std::move(d), {alert()});
  const auto& dr = request(dm, "cp/discord/0");
  CHECK(dr["url"] == "https://discord.com/api/webhooks/1/abc");
  CHECK(body(dr)["embeds"][0]["title"] == "DiskFull");
  CHECK(body(dr)["embeds"][0]["description"] == "disk is full");
  CHECK(err(file("discord", "          url: https://d/x\n          avatar_url: https://a/png\n"))
            .starts_with("alerting.yaml:10:23: discord contact point: settings.avatar_url"));
  CHECK(err(file("discord", "          url: https://d/x\n          use_embed_description: false\n"))
            .starts_with("alerting.yaml:10:34: discord contact point: settings.use_embed_description: "
                         "false is not supported"));

  auto w = config(file("webex", R"(          bot_token: wx-token
          room_id: room-1
          message: '{{ .CommonAnnotations.summary }}'
)"));
  CHECK(w.receivers[0].webex[0].http.bearer_token == "wx-token");  // Authorization: Bearer
  auto wm = envelopes(std::move(w), {alert()});
  const auto& wr = request(wm, "cp/webex/0");
  CHECK(wr["url"] == "https://webexapis.com/v1/messages");
  CHECK(body(wr) == json{{"markdown", "disk is full"}, {"roomId", "room-1"}});
  CHECK(err(file("webex", "          room_id: r\n")) ==
        "alerting.yaml:9:11: webex contact point: settings.bot_token is required");
}

TEST_CASE("Grafana sns and wecom") {
  auto cfg = config(file("sns", R"(          topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts
          subject: '{{ .CommonLabels.alertname }}'
          sigv4:
            region: eu-west-1
            access_key: AK
            secret_key: SK
          attributes:
            team: db
)"));
  const auto& sns = cfg.receivers[0].sns.at(0);
  CHECK(sns.topic_arn == "arn:aws:sns:eu-west-1:123456789012:alerts");
  CHECK(sns.region == "eu-west-1");
  CHECK(sns.access_key == "AK");
  CHECK(sns.subject == "{{ .CommonLabels.alertname }}");
  CHECK(sns.message == R"({{ template "sns.default.message" . }})");
  CHECK(sns.attributes.at("team") == "db");
  CHECK(err(file("sns", "          subject: x\n")) ==
        "alerting.yaml:9:11: sns contact point: settings.topic_arn, target_arn or phone_number is "
        "required");
  CHECK(err(file("sns", "          topic_arn: alerts\n")) ==
        "alerting.yaml:9:22: sns contact point: settings.topic_arn: invalid topic ARN provided");
  CHECK(config(file("sns",
                    "          phone_number: '+1'\n"
                    "          sigv4: {role_arn: arn:aws:iam::1:role/x}\n"))
            .receivers[0]
            .sns.at(0)
            .role_arn == "arn:aws:iam::1:role/x");

  auto wc = config(file("wecom", R"(          secret: s3
          corp_id: corp
          agent_id: '1000002'
          title: '{{ .CommonLabels.alertname }}'
          message: '{{ .CommonAnnotations.summary }}'
)"));
  const auto& we = wc.receivers[0].wechat.at(0);
  CHECK(we.api_url == "https://qyapi.weixin.qq.com/cgi-bin/");
  CHECK(we.to_user == "@all");
  CHECK(we.message_type == "markdown");
  CHECK(we.message == "# {{ .CommonLabels.alertname }}\n{{ .CommonAnnotations.summary }}\n");
  CHECK(err(file("wecom", "          url: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\n"))
            .starts_with("alerting.yaml:9:16: wecom contact point: settings.url: WeCom group robots"));
}

TEST_CASE("Grafana contact point types without a counterpart are refused, naming the type") {
  for (const char* t : {"googlechat", "kafka", "line", "threema", "sensugo", "oncall", "dingding",
                        "jira", "mqtt"}) {
    CAPTURE(t);
    CHECK(err(file(t, "          url: http://x\n"))
              .starts_with(std::string("alerting.yaml:6:9: contact point type \"") + t +
                           "\" is not supported by ruleeval's notifier (ruleeval's notifier has "
                           "no integration for it;"));
  }
  CHECK(err(file("carrier-pigeon", "          url: http://x\n"))
            .starts_with("alerting.yaml:6:9: contact point type \"carrier-pigeon\" is not supported "
                         "by ruleeval's notifier (not a Grafana contact point type ruleeval knows;"));
}

TEST_CASE("Grafana interpolation: $VAR, ${VAR}, $__env{}, $__file{}, $$") {
  // NOLINTBEGIN(concurrency-mt-unsafe): the tests run on one thread
  ::setenv("RULEEVAL_T_KEY", "secret-key", 1);
  ::setenv("RULEEVAL_T_HOST", "hooks.example.org", 1);
  ::unsetenv("RULEEVAL_T_UNSET");
  // NOLINTEND(concurrency-mt-unsafe)
  using rules::grafana_interpolate;
  CHECK(*grafana_interpolate("plain") == "plain");
  CHECK(*grafana_interpolate("$RULEEVAL_T_KEY") == "secret-key");
  CHECK(*grafana_interpolate("https://${RULEEVAL_T_HOST}/x") == "https://hooks.example.org/x");
  CHECK(*grafana_interpolate("$__env{RULEEVAL_T_KEY}!") == "secret-key!");
  CHECK(*grafana_interpolate("[$RULEEVAL_T_UNSET]") == "[]");  // unset: empty, as os.ExpandEnv
  CHECK(*grafana_interpolate("cost: $$5 $$RULEEVAL_T_KEY") == "cost: $5 $RULEEVAL_T_KEY");
  CHECK(*grafana_interpolate("a$") == "a$");
  CHECK(*grafana_interpolate("a $ b") == "a $ b");           // "$" before no name stays
  CHECK(*grafana_interpolate("x${}y") == "xy");              // bad syntax is eaten, as in Go
  // Go templates in settings lose their $variables unless written $$ (Grafana does the same).
  CHECK(*grafana_interpolate("{{ range $k, $v := .Labels }}") == "{{ range ,  := .Labels }}");
  CHECK(*grafana_interpolate("{{ range $$k, $$v := .Labels }}") == "{{ range $k, $v := .Labels }}");
  const auto dir = std::filesystem::temp_directory_path() / "ruleeval_grafana_interp";
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "key") << "  file-key\n"; }
  CHECK(*grafana_interpolate("$__file{" + (dir / "key").string() + "}") == "file-key");
  auto missing = grafana_interpolate("$__file{" + (dir / "nope").string() + "}");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("nope") != std::string::npos);
  auto vault = grafana_interpolate("$__vault{kv:path}");
  REQUIRE_FALSE(vault);
  CHECK(vault.error().message.find("`vault` expander is not available") != std::string::npos);

  // In a provisioning file: contact points and policies are interpolated, templates are not.
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the tests run on one thread
  ::setenv("RULEEVAL_T_CP", "cp", 1);
  const std::string text =
      "apiVersion: 1\ncontactPoints:\n  - orgId: 1\n    name: cp\n    receivers:\n"
      "      - uid: cp-1\n        type: opsgenie\n        settings:\n"
      "          apiKey: $RULEEVAL_T_KEY\n"
      "          apiUrl: https://${RULEEVAL_T_HOST}/v2/alerts\n"
      "          message: '{{ $$l := .CommonLabels }}{{ $$l.alertname }}'\n"
      "          description: $__file{" + (dir / "key").string() + "}\n"
      "policies:\n  - orgId: 1\n    receiver: $__env{RULEEVAL_T_CP}\n"
      "templates:\n  - name: t\n    template: '{{ define \"t\" }}$RULEEVAL_T_KEY{{ end }}'\n";
  auto g = parse(text);
  REQUIRE_MESSAGE(g, (g ? "" : g.error().to_string()));
  const auto& og = g->receivers.at(0).opsgenie.at(0);
  CHECK(og.api_key == "secret-key");
  CHECK(og.api_url == "https://hooks.example.org/");
  CHECK(og.message == "{{ $l := .CommonLabels }}{{ $l.alertname }}");
  CHECK(og.description == "file-key");
  REQUIRE(g->route);
  CHECK(g->route->receiver == "cp");
  CHECK(g->template_defs.find("$RULEEVAL_T_KEY") != std::string::npos);
  // An alias shares its anchor's node: "$$" is unescaped once, not expanded on the second visit.
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the tests run on one thread
  ::setenv("RULEEVAL_T_HOME", "/home/x", 1);
  auto aliased = parse(file("opsgenie", "          apiKey: &k 'key$$RULEEVAL_T_HOME'\n"
                                        "          description: *k\n"));
  REQUIRE_MESSAGE(aliased, (aliased ? "" : aliased.error().to_string()));
  CHECK(aliased->receivers[0].opsgenie[0].api_key == "key$RULEEVAL_T_HOME");
  CHECK(aliased->receivers[0].opsgenie[0].description == "key$RULEEVAL_T_HOME");
  // A file that cannot be read is an error at the value.
  CHECK(err(file("webhook", "          url: $__file{" + (dir / "nope").string() + "}\n"))
            .starts_with("alerting.yaml:9:16: $__file{"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("Grafana slack: mentions in the pretext, endpointUrl with a token, the rule link") {
  auto cfg = config(file("slack", R"(          token: xoxb-1
          recipient: '#db'
          endpointUrl: https://slack-proxy.example.org/api/chat.postMessage
          mentionChannel: here
          mentionUsers: 'U1, U2'
          mentionGroups: S1
          title: '{{ .CommonLabels.alertname }}'
          text: '{{ .CommonAnnotations.summary }}'
)"));
  const auto& sl = cfg.receivers[0].slack.at(0);
  CHECK(sl.api_url == "https://slack-proxy.example.org/api/chat.postMessage");
  CHECK(sl.http.bearer_token == "xoxb-1");
  auto m = envelopes(std::move(cfg), {alert()});
  REQUIRE(m.count("cp/slack/0"));
  const json& b = m.at("cp/slack/0")[0];
  CHECK(b["channel"] == "#db");
  const json& att = b["attachments"][0];
  CHECK(att["pretext"] == "<!here|here> <!subteam^S1> <@U1><@U2>");
  CHECK(att["mrkdwn_in"] == json{"pretext"});
  CHECK(att["title"] == "DiskFull");
  CHECK(att["title_link"] == "http://ruleeval.test/alerting/list");
  CHECK(att["text"] == "disk is full");
  CHECK(err(file("slack", "          url: https://hooks.slack.com/x\n          mentionChannel: all\n")) ==
        "alerting.yaml:10:27: slack contact point: settings.mentionChannel: invalid value for "
        "mentionChannel: \"all\" (here or channel)");
}

TEST_CASE("Grafana pagerduty: Grafana's defaults and details merged over the default details") {
  auto cfg = config(file("pagerduty", R"(          integrationKey: pd-key
          severity: Warning
          details:
            runbook: https://runbooks.example.org/disk
)"));
  const auto& pd = cfg.receivers[0].pagerduty.at(0);
  CHECK(pd.severity == "warning");
  CHECK(pd.class_ == "default");
  CHECK(pd.component == "Grafana");
  CHECK(pd.group == "default");
  CHECK(pd.client == "Grafana");
  CHECK_FALSE(pd.source.empty());  // the host name, as Grafana
  auto m = envelopes(std::move(cfg), {alert()});
  REQUIRE(m.count("cp/pagerduty/0"));
  const json& b = m.at("cp/pagerduty/0")[0];
  CHECK(b["routing_key"] == "pd-key");
  CHECK(b["client"] == "Grafana");
  CHECK(b["client_url"] == "http://ruleeval.test");
  CHECK(b["links"] == json::parse(R"([{"href":"http://ruleeval.test","text":"External URL"}])"));
  CHECK(b["payload"]["severity"] == "warning");
  CHECK(b["payload"]["class"] == "default");
  CHECK(b["payload"]["custom_details"]["runbook"] == "https://runbooks.example.org/disk");
  CHECK(b["payload"]["custom_details"]["num_firing"] == "1");
  CHECK(b["payload"]["custom_details"]["firing"].get<std::string>().find("alertname = DiskFull") !=
        std::string::npos);
  // A severity PagerDuty does not know is sent as Grafana sends it: critical.
  auto odd = config(file("pagerduty", "          integrationKey: k\n          severity: sev1\n"));
  CHECK(odd.receivers[0].pagerduty[0].severity == "critical");
}

TEST_CASE("Grafana webhook title/message and email message are refused, not ignored") {
  CHECK(err(file("webhook", "          url: http://x\n          title: '{{ .CommonLabels.alertname }}'\n"))
            .starts_with("alerting.yaml:10:18: webhook contact point: settings.title: Grafana adds "
                         "it to its own webhook payload"));
  CHECK(err(file("webhook", "          url: http://x\n          message: hi\n"))
            .starts_with("alerting.yaml:10:20: webhook contact point: settings.message:"));
  GrafanaSmtp smtp;
  smtp.smarthost = "127.0.0.1:25";
  smtp.from = "g@example.org";
  auto r = parse_grafana_notifications(
      file("email", "          addresses: a@example.org\n          message: hi\n"), "alerting.yaml",
      smtp);
  REQUIRE_FALSE(r);
  CHECK(r.error().to_string().starts_with(
      "alerting.yaml:10:20: email contact point: settings.message: Grafana renders it"));
}

TEST_CASE("Grafana contact point templates are checked when the files are merged") {
  auto merged = [](const std::vector<std::string>& texts) {
    NotifyConfig cfg;
    std::vector<GrafanaNotifications> parts;
    for (const auto& t : texts) {
      auto g = parse(t);
      REQUIRE_MESSAGE(g, (g ? "" : g.error().to_string()));
      parts.push_back(std::move(*g));
    }
    return merge_grafana_notifications(cfg, false, std::move(parts), {});
  };
  // Grafana's own default.message is not provided: an error at the setting, not at send time.
  auto r = merged({file("discord", "          url: https://d/x\n"
                                   "          message: '{{ template \"default.message\" . }}'\n")});
  REQUIRE_FALSE(r);
  CHECK(r.error().to_string().starts_with(
      "alerting.yaml:10:20: template \"default.message\" is not defined: Grafana's "
      "default.message is not provided by ruleeval"));
  // A template defined in another file's `templates`, and the receivers' default templates, are
  // fine.
  CHECK(merged({file("discord", "          url: https://d/x\n"
                                "          title: '{{ template \"discord.default.title\" . }}'\n"
                                "          message: '{{ template \"team.msg\" . }}'\n"),
                "apiVersion: 1\ntemplates:\n  - name: team\n"
                "    template: '{{ define \"team.msg\" }}{{ .Status }}{{ end }}'\n"}));
  auto missing = merged({file("discord", "          url: https://d/x\n"
                                         "          message: '{{ template \"nope\" . }}'\n")});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().to_string() ==
        "alerting.yaml:10:20: template \"nope\" is not defined (not in `templates` nor among the "
        "default templates)");
  // A Go template variable eaten by the environment interpolation ($k unset): a syntax error at
  // load time, where Grafana would fail at send time.
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the tests run on one thread
  ::unsetenv("k");
  auto eaten = merged({file("discord", "          url: https://d/x\n"
                                       "          message: '{{ range $k, $v := .CommonLabels }}{{ end }}'\n")});
  REQUIRE_FALSE(eaten);
  CHECK(eaten.error().to_string().starts_with("alerting.yaml:10:20: invalid template: "));
}

TEST_CASE("Grafana's default.title: the default title, with the resolved count of a firing group") {
  auto cfg = config(file("discord", "          url: https://discord.com/api/webhooks/1/abc\n"
                                    "          message: '{{ template \"default.title\" . }}!'\n"));
  auto a = alert();
  auto b = alert({{"disk", "sdb"}});
  b.ends_at = kT0 + 10'000;  // resolved before the flush
  auto m = envelopes(std::move(cfg), {a, b});
  const json embed = body(request(m, "cp/discord/0"))["embeds"][0];
  // Grafana's subject: "[FIRING:1, RESOLVED:1] <group labels> (<other common labels>)".
  CHECK(embed["title"] == "[FIRING:1, RESOLVED:1] DiskFull (db)");
  CHECK(embed["description"] == "[FIRING:1, RESOLVED:1] DiskFull (db)!");
}
