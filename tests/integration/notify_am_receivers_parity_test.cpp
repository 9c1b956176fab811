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
#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kExternalUrl = "http://alertmanager.test:9093";

struct Call {
  std::string method, target, content_type, authorization, body;
};

// Records POST and PUT requests with their raw target (path and query). Telegram's Bot API
// answers {"ok":true,"result":<message>}, which telebot requires; everything else gets "ok".
class Sink {
 public:
  Sink() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      Call c{req.method, req.target, req.get_header_value("Content-Type"),
             req.get_header_value("Authorization"), req.body};
      if (req.path.find("/sendMessage") != std::string::npos) {
        res.set_content(
            R"({"ok":true,"result":{"message_id":7,"date":1700000000,"chat":{"id":-1001,"type":"group"}}})",
            "application/json");
      } else {
        res.set_content("ok", "text/plain");
      }
      std::lock_guard lock(mu_);
      calls_.push_back(std::move(c));
    };
    server_.Post(R"(/.*)", handler);
    server_.Put(R"(/.*)", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~Sink() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Call> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  bool wait(size_t n, int timeout_ms) const {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
      if (calls().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return calls().size() >= n;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
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
std::vector<Call> under(const std::vector<Call>& calls, const std::string& prefix) {
  std::vector<Call> out;
  for (const auto& c : calls) {
    if (c.target.rfind(prefix, 0) == 0) out.push_back(c);
  }
  return out;
}

}  // namespace

TEST_CASE("opsgenie, victorops, telegram, discord, webex: the requests of a real Alertmanager") {
  Sink am_sink, re_sink;
  auto dir = fs::temp_directory_path() / ("ruleeval_am_recv_" + std::to_string(getpid()));
  fs::remove_all(dir);
  for (const char* sub : {"am", "re"}) {
    fs::create_directories(dir / sub);
    // Alertmanager 0.25 sends an opsgenie key file's content as is (a trailing newline would
    // make an invalid header); victorops trims it.
    std::ofstream(dir / sub / "og.key") << "og-file-key";
    std::ofstream(dir / sub / "vo.key") << "vo-file-key\n";
  }
  std::ofstream(dir / "am" / "alertmanager.yml") << am_yaml(am_sink.url(), (dir / "am").string());
  std::ofstream(dir / "re" / "alertmanager.yml") << am_yaml(re_sink.url(), (dir / "re").string());

  int port = free_port();
  ChildProcess am(alertmanager_argv((dir / "am" / "alertmanager.yml").string(),
                                    (dir / "am" / "data").string(), port, kExternalUrl),
                  (dir / "am.log").string());
  REQUIRE(wait_port(port, 15'000));

  NotifierOptions o;
  o.state_dir = (dir / "re" / "state").string();
  o.external_url = kExternalUrl;
  auto n = load_notifier((dir / "re" / "alertmanager.yml").string(), std::move(o));

  const std::vector<std::string> names{"OpsGenieDefaults", "OpsGenieFull",     "VictorOpsDefaults",
                                       "VictorOpsFull",    "TelegramDefaults", "TelegramMarkdown",
                                       "Discord",          "Webex"};
  // Firing: opsgenie-full sends create + 2 updates, discord and webex two integrations each.
  constexpr size_t kFiring = 1 + 3 + 1 + 1 + 1 + 1 + 2 + 2;
  Millis now = SystemClock().now();
  Millis starts = now - 30'000 - now % 1000 + 123;
  std::vector<rules::Alert> alerts;
  alerts.reserve(names.size());
  for (const auto& name : names) alerts.push_back(make(name, starts, now + 600'000));
  httplib::Client client("127.0.0.1", port);
  auto res = client.Post("/api/v2/alerts", post_body(alerts).dump(), "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  (*n)->send(alerts, SystemClock().now());
  REQUIRE(am_sink.wait(kFiring, 20'000));
  REQUIRE(re_sink.wait(kFiring, 20'000));

  // Resolved: every one of these receivers sends resolved notifications by default (opsgenie
  // closes its alert, the others send a RECOVERY / resolved message).
  Millis end = SystemClock().now();
  for (auto& a : alerts) a.ends_at = end;
  res = client.Post("/api/v2/alerts", post_body(alerts).dump(), "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  (*n)->send(alerts, end);
  constexpr size_t kResolved = 1 + 1 + 1 + 1 + 1 + 1 + 2 + 2;
  REQUIRE(am_sink.wait(kFiring + kResolved, 20'000));
  REQUIRE(re_sink.wait(kFiring + kResolved, 20'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  auto am_calls = am_sink.calls();
  auto re_calls = re_sink.calls();
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
      CHECK(r[i].content_type == a[i].content_type);
      CHECK(r[i].authorization == a[i].authorization);
      CHECK_MESSAGE(r[i].body == a[i].body, "Alertmanager: " << a[i].body
                                                             << "\nruleeval:     " << r[i].body);
    }
  }
  // Spot checks of what the comparison covered.
  auto og = under(am_calls, "/og-full/");
  REQUIRE(og.size() == 4);
  CHECK(og[0].authorization == "GenieKey og-file-key");
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
  auto dir = fs::temp_directory_path() / ("ruleeval_am_retry_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
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
  Millis now = SystemClock().now();
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

namespace {

// Pushover has a fixed https URL in Alertmanager 0.25, so both sides reach it through
// http_config.proxy_url: this proxy answers CONNECT, terminates TLS with a throw-away certificate
// for api.pushover.net (trusted through tls_config.ca_file) and logs each request as a JSON line.
constexpr const char* kMitmProxy = R"PY(
import json, socket, ssl, sys, threading
port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
lock = threading.Lock()
def read_head(f):
    lines = []
    while True:
        line = f.readline()
        if not line or line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))
def serve(conn):
    try:
        f = conn.makefile("rb")
        head = read_head(f)
        if not head or not head[0].startswith("CONNECT "):
            conn.close()
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        tls = ctx.wrap_socket(conn, server_side=True)
        tf = tls.makefile("rb")
        head = read_head(tf)
        method, target, _ = head[0].split(" ", 2)
        headers = {}
        for h in head[1:]:
            k, v = h.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        body = tf.read(int(headers.get("content-length", "0")))
        with lock, open(log, "a") as out:
            out.write(json.dumps({"method": method, "target": target,
                                  "content_type": headers.get("content-type", ""),
                                  "body": body.decode("utf-8", "replace")}) + "\n")
        tls.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n'
                    b'Content-Length: 26\r\nConnection: close\r\n\r\n{"status":1,"request":"x"}')
        tls.close()
    except Exception as e:
        sys.stderr.write("proxy: %r\n" % (e,))
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
)PY";

std::vector<json> read_lines(const fs::path& p) {
  std::vector<json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

}  // namespace

TEST_CASE("pushover: the same requests as a real Alertmanager (through a TLS-terminating proxy)") {
  auto dir = fs::temp_directory_path() / ("ruleeval_am_pushover_" + std::to_string(getpid()));
  fs::remove_all(dir);
  for (const char* sub : {"am", "re"}) fs::create_directories(dir / sub);
  std::ofstream(dir / "proxy.py") << kMitmProxy;
  const std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string gen = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=api.pushover.net"
                    " -addext subjectAltName=DNS:api.pushover.net -keyout " +
                    key + " -out " + cert + " >/dev/null 2>&1";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): runs a test-owned command; the tests run on one thread
  REQUIRE(std::system(gen.c_str()) == 0);
  int am_proxy_port = free_port(), re_proxy_port = free_port();
  ChildProcess am_proxy({"/usr/bin/python3", (dir / "proxy.py").string(),
                         std::to_string(am_proxy_port), cert, key, (dir / "am.jsonl").string()},
                        (dir / "am-proxy.log").string());
  ChildProcess re_proxy({"/usr/bin/python3", (dir / "proxy.py").string(),
                         std::to_string(re_proxy_port), cert, key, (dir / "re.jsonl").string()},
                        (dir / "re-proxy.log").string());
  REQUIRE(wait_port(am_proxy_port, 10'000));
  REQUIRE(wait_port(re_proxy_port, 10'000));
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
  std::ofstream(dir / "am" / "alertmanager.yml") << yaml(am_proxy_port);
  std::ofstream(dir / "re" / "alertmanager.yml") << yaml(re_proxy_port);
  int port = free_port();
  ChildProcess am(alertmanager_argv((dir / "am" / "alertmanager.yml").string(),
                                    (dir / "am" / "data").string(), port, kExternalUrl),
                  (dir / "am.log").string());
  REQUIRE(wait_port(port, 15'000));
  NotifierOptions o;
  o.external_url = kExternalUrl;
  auto n = load_notifier((dir / "re" / "alertmanager.yml").string(), std::move(o));

  Millis now = SystemClock().now();
  std::vector<rules::Alert> alerts{make("PushoverParity", now - 30'000, now + 600'000)};
  httplib::Client client("127.0.0.1", port);
  auto wait_lines = [&](const char* file, size_t count) {
    for (int i = 0; i < 1000 && read_lines(dir / file).size() < count; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return read_lines(dir / file).size() >= count;
  };
  auto res = client.Post("/api/v2/alerts", post_body(alerts).dump(), "application/json");
  REQUIRE(res);
  (*n)->send(alerts, SystemClock().now());
  REQUIRE(wait_lines("am.jsonl", 2));
  REQUIRE(wait_lines("re.jsonl", 2));
  Millis end = SystemClock().now();
  alerts[0].ends_at = end;
  res = client.Post("/api/v2/alerts", post_body(alerts).dump(), "application/json");
  REQUIRE(res);
  (*n)->send(alerts, end);
  REQUIRE(wait_lines("am.jsonl", 4));
  REQUIRE(wait_lines("re.jsonl", 4));
  auto a = read_lines(dir / "am.jsonl");
  auto r = read_lines(dir / "re.jsonl");
  REQUIRE(a.size() == 4);
  REQUIRE(r.size() == 4);
  // The two integrations deliver concurrently: compare in a stable order.
  auto key_of = [](const json& j) { return j["target"].get<std::string>(); };
  std::sort(a.begin(), a.end(), [&](auto& x, auto& y) { return key_of(x) < key_of(y); });
  std::sort(r.begin(), r.end(), [&](auto& x, auto& y) { return key_of(x) < key_of(y); });
  for (size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(r[i]["method"] == a[i]["method"]);
    CHECK(r[i]["content_type"] == a[i]["content_type"]);
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
