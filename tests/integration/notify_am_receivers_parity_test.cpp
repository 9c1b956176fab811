// Alertmanager as the oracle for the opsgenie, victorops, telegram, discord and webex receivers:
// a real Alertmanager 0.25 and ruleeval load the same alertmanager.yml (global API URLs and keys,
// api_key_file, default templates, custom fields), get the same alerts firing and then resolved,
// and each delivers to its own local sink. The requests are compared one by one: method, path
// and query, Content-Type, Authorization and the body byte for byte.
#include <doctest/doctest.h>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "notify_alerts.hpp"
#include "notify_parity.hpp"
#include "notify_scripts.hpp"
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Telegram's Bot API answers {"ok":true,"result":<message>}, which telebot requires; everything
// else gets "ok". The sinks record POST and PUT requests with their raw target (path and query).
void answer_like_telegram(const Request& r, httplib::Response& res, int /*nth*/) {
  if (r.path.find("/sendMessage") != std::string::npos) {
    res.set_content(
        R"({"ok":true,"result":{"message_id":7,"date":1700000000,"chat":{"id":-1001,"type":"group"}}})",
        "application/json");
  }
}

struct Sink : HttpSink {
  Sink() : HttpSink(answer_like_telegram, {"POST", "PUT"}) {}
};

std::string am_yaml(const std::string& sink, const std::string& dir) {
  std::string s = R"(
global:
  opsgenie_api_url: SINK/og-global
  opsgenie_api_key: og-global-key
  victorops_api_url: SINK/vo-global/
  victorops_api_key_file: DIR/vo.key
  telegram_api_url: SINK/tg
  webex_api_url: SINK/webex-global
route:
  receiver: og-defaults
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
  repeat_interval: 1h
  routes:
    - receiver: og-full
      matchers: [alertname="OpsGenieFull"]
    - receiver: vo-defaults
      matchers: [alertname="VictorOpsDefaults"]
    - receiver: vo-full
      matchers: [alertname="VictorOpsFull"]
    - receiver: tg-defaults
      matchers: [alertname="TelegramDefaults"]
    - receiver: tg-markdown
      matchers: [alertname="TelegramMarkdown"]
    - receiver: discord
      matchers: [alertname="Discord"]
    - receiver: webex
      matchers: [alertname="Webex"]
receivers:
  - name: og-defaults
    opsgenie_configs:
      - {}
  - name: og-full
    opsgenie_configs:
      - api_url: SINK/og-full/
        api_key_file: DIR/og.key
        message: '{{ .CommonLabels.alertname }} on {{ .CommonLabels.instance }} {{ .CommonAnnotations.summary }}'
        description: '{{ .CommonAnnotations.summary }}'
        source: ruleeval-parity
        details:
          team: '{{ .CommonLabels.team }}'
          severity: overridden
        entity: '{{ .CommonLabels.instance }}'
        responders:
          - {name: 'ops-team', type: Team}
          - {username: 'oncall@example.org', type: user}
          - {name: 'a, b ,c', type: teams}
          - {id: '{{ .CommonLabels.missing }}', type: '{{ .CommonLabels.missing }}'}
        actions: 'restart, page ,'
        tags: ' db, {{ .CommonLabels.severity }},'
        note: 'see runbook'
        priority: P1
        update_alerts: true
  - name: vo-defaults
    victorops_configs:
      - routing_key: team ops/db
  - name: vo-full
    victorops_configs:
      - api_key: vo-inline
        api_url: SINK/vo-full
        routing_key: '{{ .CommonLabels.team }}'
        message_type: '{{ if eq .CommonLabels.severity "critical" }}WARNING{{ else }}BOGUS{{ end }}'
        entity_display_name: '{{ .CommonLabels.alertname }}'
        state_message: '{{ .CommonAnnotations.summary }}'
        monitoring_tool: parity
        custom_fields:
          runbook: '{{ .CommonAnnotations.runbook_url }}'
          zzz: last
  - name: tg-defaults
    telegram_configs:
      - bot_token: 123456:ABC-parity
        chat_id: -1001
  - name: tg-markdown
    telegram_configs:
      - bot_token: 123456:ABC-md
        api_url: SINK/tg-md
        chat_id: 42
        parse_mode: MarkdownV2
        disable_notifications: true
        message: '*{{ .Status }}* {{ .CommonAnnotations.summary }}'
  - name: discord
    discord_configs:
      - webhook_url: SINK/discord/api/webhooks/1/token
      - webhook_url: SINK/discord2
        title: '{{ .GroupLabels.alertname }} & co'
        message: '{{ range .Alerts }}{{ .Labels.instance }} {{ end }}'
  - name: webex
    webex_configs:
      - room_id: room-1
        http_config:
          authorization: {credentials: webex-token}
      - room_id: room-2
        api_url: SINK/webex-own
        message: '{{ .CommonAnnotations.summary }}'
        http_config:
          authorization: {type: Token, credentials: other}
)";
  for (size_t p; (p = s.find("SINK")) != std::string::npos;) s.replace(p, 4, sink);
  for (size_t p; (p = s.find("DIR")) != std::string::npos;) s.replace(p, 3, dir);
  return s;
}

rules::Alert make(const std::string& name, Millis starts, Millis ends) {
  rules::Alert a;
  a.labels = Labels{{"alertname", name},
                    {"severity", "critical"},
                    {"instance", "db-1:9100"},
                    {"team", "db"}};
  // HTML- and JSON-special characters on purpose (telegram renders HTML, JSON escapes them).
  a.annotations = Labels{{"summary", "database <db-1> down & \"out\" + 'gone'"},
                         {"runbook_url", "https://runbooks.example.org/db?x=1&y=2"}};
  a.starts_at = starts;
  a.ends_at = ends;
  a.generator_url = "http://prometheus.test/graph?g0.expr=up%3D%3D0";
  return a;
}

// The calls of one receiver path prefix, in arrival order.
std::vector<Request> under(const std::vector<Request>& calls, const std::string& prefix) {
  std::vector<Request> out;
  for (const auto& c : calls) {
    if (c.target.rfind(prefix, 0) == 0) out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("opsgenie, victorops, telegram, discord, webex: the requests of a real Alertmanager") {
  Sink am_sink, re_sink;
  const auto dir = fresh_dir("ruleeval_am_recv_");
  for (const char* sub : {"am", "re"}) {
    fs::create_directories(dir / sub);
    // Alertmanager 0.25 sends an opsgenie key file's content as is (a trailing newline would
    // make an invalid header); victorops trims it.
    std::ofstream(dir / sub / "og.key") << "og-file-key";
    std::ofstream(dir / sub / "vo.key") << "vo-file-key\n";
  }
  std::ofstream(dir / "am" / "alertmanager.yml") << am_yaml(am_sink.url(), (dir / "am").string());
  std::ofstream(dir / "re" / "alertmanager.yml") << am_yaml(re_sink.url(), (dir / "re").string());

  const Alertmanager am(dir, kExternalUrl);

  auto n = load_parity_notifier(dir);

  const std::vector<std::string> names{"OpsGenieDefaults", "OpsGenieFull",     "VictorOpsDefaults",
                                       "VictorOpsFull",    "TelegramDefaults", "TelegramMarkdown",
                                       "Discord",          "Webex"};
  // Firing: opsgenie-full sends create + 2 updates, discord and webex two integrations each.
  constexpr size_t kFiring = 1 + 3 + 1 + 1 + 1 + 1 + 2 + 2;
  Millis now = Env::Default()->now_ms();
  Millis starts = now - 30'000 - now % 1000 + 123;
  std::vector<rules::Alert> alerts;
  alerts.reserve(names.size());
  for (const auto& name : names) alerts.push_back(make(name, starts, now + 600'000));
  am.post(alerts);
  (*n)->send(alerts, Env::Default()->now_ms());
  REQUIRE(am_sink.wait_all(kFiring, 20'000));
  REQUIRE(re_sink.wait_all(kFiring, 20'000));

  // Resolved: every one of these receivers sends resolved notifications by default (opsgenie
  // closes its alert, the others send a RECOVERY / resolved message).
  Millis end = Env::Default()->now_ms();
  for (auto& a : alerts) a.ends_at = end;
  am.post(alerts);
  (*n)->send(alerts, end);
  constexpr size_t kResolved = 1 + 1 + 1 + 1 + 1 + 1 + 2 + 2;
  REQUIRE(am_sink.wait_all(kFiring + kResolved, 20'000));
  REQUIRE(re_sink.wait_all(kFiring + kResolved, 20'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  auto am_calls = am_sink.all();
  auto re_calls = re_sink.all();
  CHECK(am_calls.size() == kFiring + kResolved);
  CHECK(re_calls.size() == am_calls.size());
  for (const char* prefix : {"/og-global/", "/og-full/", "/vo-global/", "/vo-full/",
                             "/tg/bot123456:ABC-parity/", "/tg-md/", "/discord/", "/discord2",
                             "/webex-global", "/webex-own"}) {
    CAPTURE(prefix);
    auto a = under(am_calls, prefix);
    auto r = under(re_calls, prefix);
    REQUIRE(!a.empty());
    REQUIRE(a.size() == r.size());
    // Requests of one notification arrive in order; the two notifications (firing, resolved)
    // are compared in order too.
    for (size_t i = 0; i < a.size(); ++i) {
      CAPTURE(i);
      CHECK(r[i].method == a[i].method);
      CHECK(r[i].target == a[i].target);
      CHECK(r[i].header("Content-Type") == a[i].header("Content-Type"));
      CHECK(r[i].header("Authorization") == a[i].header("Authorization"));
      CHECK_MESSAGE(r[i].body == a[i].body, "Alertmanager: " << a[i].body
                                                             << "\nruleeval:     " << r[i].body);
    }
  }
  // Spot checks of what the comparison covered.
  auto og = under(am_calls, "/og-full/");
  REQUIRE(og.size() == 4);
  CHECK(og[0].header("Authorization") == "GenieKey og-file-key");
  CHECK(og[1].method == "PUT");
  CHECK(og[3].target.find("/close?identifierType=alias") != std::string::npos);
  auto vo = under(am_calls, "/vo-global/");
  REQUIRE(!vo.empty());
  // cppcheck-suppress containerOutOfBounds ; REQUIRE above ends the test when vo is empty
  CHECK(vo[0].target == "/vo-global/vo-file-key/team%20ops/db");
  (*n)->stop();
  fs::remove_all(dir);
}

TEST_CASE("retries follow Alertmanager per receiver; api_key_file is read at every attempt") {
  const auto dir = fresh_dir("ruleeval_am_retry_");
  std::ofstream(dir / "og.key") << "one";
  std::mutex mu;
  std::map<std::string, int> seen;  // per path prefix
  HttpSink sink([&](const Request& r, httplib::Response& res, int) {
    std::string what = r.path.substr(1, r.path.find('/', 1) - 1);
    int nth;
    {
      std::lock_guard lock(mu);
      nth = ++seen[what];
    }
    if (what == "og" && nth == 1) {
      res.status = 429;  // opsgenie retries 429 (and 5xx); the key file changes meanwhile
      std::ofstream(dir / "og.key") << "two";
    } else if (what == "discord" && nth == 1) {
      res.status = 429;  // discord retries 5xx only
    } else if (what == "vo" && nth == 1) {
      res.status = 400;  // not retried
    } else if (what == "webex" && nth == 1) {
      res.status = 503;  // retried
    } else if (what == "tg") {
      // telebot looks at the JSON answer only, and Alertmanager retries any telegram error.
      res.status = nth == 1 ? 400 : 200;
      res.set_content(nth == 1 ? R"({"ok":false,"error_code":400,"description":"Bad Request"})"
                               : R"({"ok":true,"result":{"message_id":1,"chat":{"id":5}}})",
                      "application/json");
    }
  });
  std::string yaml = R"(
route: {receiver: r, group_by: [alertname], group_wait: 0s}
receivers:
  - name: r
    opsgenie_configs:
      - {api_url: SINK/og/, api_key_file: DIR/og.key}
    discord_configs:
      - {webhook_url: SINK/discord/x}
    victorops_configs:
      - {api_url: SINK/vo/, api_key: k, routing_key: rk}
    webex_configs:
      - {api_url: SINK/webex/, room_id: x, http_config: {authorization: {credentials: t}}}
    telegram_configs:
      - {api_url: SINK/tg, bot_token: 'b:t', chat_id: 5}
)";
  for (size_t p; (p = yaml.find("SINK")) != std::string::npos;) yaml.replace(p, 4, sink.url(""));
  for (size_t p; (p = yaml.find("DIR")) != std::string::npos;) yaml.replace(p, 3, dir.string());
  auto cfg = parse_alertmanager_config(yaml, "am.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  NotifierOptions o;
  o.external_url = kExternalUrl;
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 100;
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE(n);
  Millis now = Env::Default()->now_ms();
  (*n)->send(std::vector<rules::Alert>{make("Retry", now - 1000, now + 600'000)}, now);
  // og 2, discord 1, vo 1, webex 2, tg 2
  for (int i = 0; i < 500 && sink.all().size() < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE((*n)->wait_idle(10'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::map<std::string, std::vector<Request>> by;
  for (const auto& r : sink.all()) by[r.path.substr(1, r.path.find('/', 1) - 1)].push_back(r);
  REQUIRE(by["og"].size() == 2);
  CHECK(by["og"][0].header("Authorization") == "GenieKey one");
  CHECK(by["og"][1].header("Authorization") == "GenieKey two");
  CHECK(by["discord"].size() == 1);
  CHECK(by["vo"].size() == 1);
  CHECK(by["webex"].size() == 2);
  CHECK(by["webex"][0].header("Authorization") == "Bearer t");
  CHECK(by["tg"].size() == 2);
  std::map<std::string, IntegrationMetrics> m;
  for (const auto& x : (*n)->metrics()) m[x.integration] = x;
  CHECK(m["opsgenie"].sent == 1);
  CHECK(m["discord"].sent == 0);
  CHECK(m["victorops"].sent == 0);
  CHECK(m["webex"].sent == 1);
  CHECK(m["telegram"].sent == 1);
  CHECK(m["telegram"].retried == 1);
  (*n)->stop();
  fs::remove_all(dir);
}

TEST_CASE("pushover: the same requests as a real Alertmanager (through a TLS-terminating proxy)") {
  const auto dir = fresh_dir("ruleeval_am_pushover_");
  for (const char* sub : {"am", "re"}) fs::create_directories(dir / sub);
  // Pushover has a fixed https URL in Alertmanager 0.25, so both sides reach it through
  // http_config.proxy_url: a proxy that terminates the CONNECT tunnels with a throw-away
  // certificate for api.pushover.net (trusted through tls_config.ca_file) and logs each request.
  const CertFiles tls = self_signed_cert(dir, "api.pushover.net", "DNS:api.pushover.net");
  const std::string cert = tls.cert;
  const LoggingProxy am_proxy(dir, "am-proxy", tls), re_proxy(dir, "re-proxy", tls);
  auto yaml = [&](int proxy_port) {
    std::string http = "        http_config:\n          proxy_url: http://127.0.0.1:" +
                       std::to_string(proxy_port) + "\n          tls_config: {ca_file: " + cert +
                       "}\n";
    return R"(
route:
  receiver: po
  group_by: [alertname]
  group_wait: 1s
  group_interval: 3s
receivers:
  - name: po
    pushover_configs:
      - user_key: u-key
        token: t-token
)" + http + R"(      - user_key: u2
        token: '{{ .CommonLabels.team }}'
        html: true
        title: '{{ .CommonLabels.alertname }} {{ .CommonAnnotations.summary }}'
        message: '{{ .CommonAnnotations.summary }}'
        sound: siren
        priority: '{{ if eq .Status "firing" }}1{{ else }}-1{{ end }}'
        retry: 90s
        expire: 1h30m
        url_title: Runbook
        url: '{{ .CommonAnnotations.runbook_url }}'
)" + http;
  };
  std::ofstream(dir / "am" / "alertmanager.yml") << yaml(am_proxy.port);
  std::ofstream(dir / "re" / "alertmanager.yml") << yaml(re_proxy.port);
  const Alertmanager am(dir, kExternalUrl);
  NotifierOptions o;
  o.external_url = kExternalUrl;
  auto n = load_notifier((dir / "re" / "alertmanager.yml").string(), std::move(o));

  Millis now = Env::Default()->now_ms();
  std::vector<rules::Alert> alerts{make("PushoverParity", now - 30'000, now + 600'000)};
  // The requests each side sent through its proxy (the tunnels' CONNECT lines left out).
  auto wait_lines = [&](const LoggingProxy& proxy, size_t count) {
    for (int i = 0; i < 1000 && proxy.tunneled().size() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return proxy.tunneled().size() >= count;
  };
  am.post(alerts);
  (*n)->send(alerts, Env::Default()->now_ms());
  REQUIRE(wait_lines(am_proxy, 2));
  REQUIRE(wait_lines(re_proxy, 2));
  Millis end = Env::Default()->now_ms();
  alerts[0].ends_at = end;
  am.post(alerts);
  (*n)->send(alerts, end);
  REQUIRE(wait_lines(am_proxy, 4));
  REQUIRE(wait_lines(re_proxy, 4));
  auto a = am_proxy.tunneled();
  auto r = re_proxy.tunneled();
  REQUIRE(a.size() == 4);
  REQUIRE(r.size() == 4);
  // The two integrations deliver concurrently: compare in a stable order.
  auto key_of = [](const json& j) { return j["target"].get<std::string>(); };
  std::sort(a.begin(), a.end(), [&](auto& x, auto& y) { return key_of(x) < key_of(y); });
  std::sort(r.begin(), r.end(), [&](auto& x, auto& y) { return key_of(x) < key_of(y); });
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(r[i]["method"] == a[i]["method"]);
    CHECK(r[i]["headers"].value("content-type", "") == a[i]["headers"].value("content-type", ""));
    CHECK(r[i]["body"] == a[i]["body"]);
    CHECK_MESSAGE(r[i]["target"] == a[i]["target"], "Alertmanager: " << a[i]["target"]
                                                                     << "\nruleeval:     "
                                                                     << r[i]["target"]);
  }
  // What the comparison covered: firing and resolved of both integrations, HTML and plain.
  std::string all;
  for (const auto& x : a) all += x["target"].get<std::string>() + "\n";
  CAPTURE(all);
  CHECK(all.find("/1/messages.json?expire=5400&html=1&message=database+%26lt%3Bdb-1%26gt%3B") !=
        std::string::npos);
  CHECK(all.find("priority=-1&retry=90") != std::string::npos);
  CHECK(all.find("priority=0&retry=60") != std::string::npos);
  CHECK(all.find("token=t-token&url=http%3A%2F%2Falertmanager.test%3A9093%2F%23%2Falerts") !=
        std::string::npos);
  (*n)->stop();
  fs::remove_all(dir);
}
