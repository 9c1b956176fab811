// Microsoft Teams delivered over HTTP by ruleeval's transport to a local receiver that checks
// the payloads documented by Alertmanager 0.26+/0.28+ (notify/msteams, notify/msteamsv2) and
// answers like Teams does. No Alertmanager with Teams is installed (Debian ships 0.25), so the
// receiver checks the documented shape: a MessageCard for msteams, a Power Automate message with
// one Adaptive Card for msteamsv2, JSON posted with Content-Type application/json. Retries are
// Alertmanager's plain Retrier: 5xx retried, every other non-2xx not; a 2xx is a success whatever
// the body says (Alertmanager does not read it, so Teams' "200 with an error text" counts as
// delivered there too); webhook_url_file is read again at every attempt.
#include <doctest/doctest.h>

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "notify_servers.hpp"
#include "ruleeval/notifiers/notifier.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
using namespace ruleeval::notifiers::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

rules::Alert teams_alert(const std::string& name, Millis starts, Millis ends) {
  rules::Alert a;
  a.labels = Labels{{"alertname", name}, {"severity", "critical"}, {"team", "db"}};
  a.annotations = Labels{{"summary", "database <db-1> down & \"out\""}};
  a.starts_at = starts;
  a.ends_at = ends;
  a.generator_url = "http://prometheus.test/graph?g0.expr=up%3D%3D0";
  return a;
}

// What the receiver found wrong with a payload ("" = the documented shape).
std::string check_message_card(const json& j) {
  if (!j.is_object() || j.size() != 6) return "want exactly 6 fields";
  if (j["@context"] != "http://schema.org/extensions") return "@context";
  if (j["type"] != "MessageCard") return "type";
  for (const char* k : {"title", "summary", "text", "themeColor"}) {
    if (!j[k].is_string()) return k;
  }
  if (j["themeColor"] != "8C1A1A" && j["themeColor"] != "2DC72D") return "themeColor";
  return {};
}

std::string check_adaptive_card(const json& j) {
  if (!j.is_object() || j["type"] != "message") return "type";
  if (!j["attachments"].is_array() || j["attachments"].size() != 1) return "attachments";
  const auto& a = j["attachments"][0];
  if (a["contentType"] != "application/vnd.microsoft.card.adaptive") return "contentType";
  if (!a.contains("contentUrl") || !a["contentUrl"].is_null()) return "contentUrl";
  const auto& c = a["content"];
  if (c["$schema"] != "http://adaptivecards.io/schemas/adaptive-card.json") return "$schema";
  if (c["type"] != "AdaptiveCard" || c["version"] != "1.2") return "card type/version";
  if (c["msteams"] != json{{"width", "full"}}) return "msteams.width";
  if (!c["body"].is_array() || c["body"].size() != 2) return "body";
  const auto& h = c["body"][0];
  if (h["type"] != "TextBlock" || h["weight"] != "Bolder" || h["size"] != "Medium" ||
      h["wrap"] != true || h["style"] != "heading") {
    return "heading block";
  }
  if (h["color"] != "Attention" && h["color"] != "Good") return "heading color";
  if (c["body"][1]["type"] != "TextBlock" || c["body"][1]["wrap"] != true) return "text block";
  return {};
}

}  // namespace

TEST_CASE("msteams and msteamsv2 over HTTP: documented payloads, retries, webhook_url_file") {
  const auto dir = fresh_dir("ruleeval_msteams_");
  std::mutex mu;
  std::map<std::string, int> seen;
  std::vector<std::string> problems;
  std::string sink_url;
  HttpSink sink([&](const Request& r, httplib::Response& res, int) {
    const std::string what = r.path.substr(1, r.path.find('/', 1) - 1);
    int nth;
    {
      std::lock_guard lock(mu);
      nth = ++seen[what];
    }
    auto body = json::parse(r.body, nullptr, false);
    std::string bad = r.header("Content-Type") != "application/json" ? "Content-Type"
                      : what.rfind("flow", 0) == 0                    ? check_adaptive_card(body)
                                                                       : check_message_card(body);
    if (!bad.empty()) {
      std::lock_guard lock(mu);
      problems.push_back(what + ": " + bad + ": " + r.body);
      res.status = 400;
      return;
    }
    res.set_content("1", "text/plain");  // the O365 connector's success answer
    if (what == "teams-429") {
      res.status = 429;  // Teams' rate limit: Alertmanager's Retrier does not retry it
    } else if (what == "teams-200err") {
      // Connectors may answer 200 with an error text; Alertmanager does not read the body.
      res.set_content("Webhook message delivery failed with error: Microsoft Teams endpoint "
                      "returned HTTP error 429",
                      "text/plain");
    } else if (what == "flow-503" && nth == 1) {
      res.status = 503;
    } else if (what == "file-a") {
      res.status = 502;  // retried; the next attempt reads the file again
      std::ofstream(dir / "teams.url") << sink_url << "/file-b/hook \n";
    } else if (what == "flow") {
      res.status = 202;  // Power Automate answers 202 Accepted
    }
  });
  sink_url = sink.url("");
  std::ofstream(dir / "teams.url") << sink_url << "/file-a/hook\n";
  std::string yaml = R"(
route: {receiver: r, group_by: [alertname], group_wait: 0s, group_interval: 1s}
receivers:
  - name: r
    msteams_configs:
      - webhook_url: SINK/teams-ok/webhookb2/x
      - webhook_url: SINK/teams-429/x
      - webhook_url: SINK/teams-200err/x
      - webhook_url_file: DIR/teams.url
    msteamsv2_configs:
      - webhook_url: SINK/flow/workflows/x?api-version=2016-06-01&sig=s
      - webhook_url: SINK/flow-503/x
)";
  for (size_t p; (p = yaml.find("SINK")) != std::string::npos;) yaml.replace(p, 4, sink_url);
  for (size_t p; (p = yaml.find("DIR")) != std::string::npos;) yaml.replace(p, 3, dir.string());
  auto cfg = parse_alertmanager_config(yaml, "am.yml", dir.string());
  REQUIRE_MESSAGE(cfg, (cfg ? "" : cfg.error().to_string()));
  NotifierOptions o;
  o.external_url = "http://alertmanager.test:9093";
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 100;
  auto n = Notifier::create(std::move(*cfg), std::move(o));
  REQUIRE(n);
  Millis now = Env::Default()->now_ms();
  (*n)->send(std::vector<rules::Alert>{teams_alert("Teams", now - 1000, now + 600'000)}, now);
  // ok 1, 429 1, 200err 1, file-a 1 + file-b 1, flow 1, flow-503 2
  for (int i = 0; i < 500 && sink.all().size() < 8; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE((*n)->wait_idle(10'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    std::lock_guard lock(mu);
    for (const auto& p : problems) FAIL_CHECK(p);
    CHECK(seen["teams-ok"] == 1);
    CHECK(seen["teams-429"] == 1);
    CHECK(seen["teams-200err"] == 1);
    CHECK(seen["file-a"] == 1);
    CHECK(seen["file-b"] == 1);
    CHECK(seen["flow"] == 1);
    CHECK(seen["flow-503"] == 2);
  }
  std::map<std::string, Request> first;
  for (const auto& r : sink.all()) first.emplace(r.path.substr(1, r.path.find('/', 1) - 1), r);
  CHECK(first["flow"].path == "/flow/workflows/x");
  auto card = json::parse(first["teams-ok"].body);
  CHECK(card["themeColor"] == "8C1A1A");
  CHECK(card["title"] == "[FIRING:1] Teams (critical db)");
  CHECK(card["summary"] == "[FIRING:1] Teams (critical db)");
  CHECK(card["text"].get<std::string>().find("  - summary = database <db-1> down & \"out\"\n") !=
        std::string::npos);
  // Go's json.Encoder: HTML-safe escapes on the wire.
  CHECK(first["teams-ok"].body.find(R"(\u003cdb-1\u003e down \u0026)") != std::string::npos);
  auto flow = json::parse(first["flow"].body);
  CHECK(flow["attachments"][0]["content"]["body"][0]["color"] == "Attention");

  std::map<std::string, uint64_t> sent, failed;
  for (const auto& x : (*n)->metrics()) {
    sent[x.integration] += x.sent;
    failed[x.integration] += x.failed;
  }
  CHECK(sent["msteams"] == 3);  // ok, 200 with an error text, file-b
  CHECK(failed["msteams"] >= 1);  // 429
  CHECK(sent["msteamsv2"] == 2);

  // Resolved: green / Good, sent by default (send_resolved defaults to true).
  now = Env::Default()->now_ms();
  (*n)->send(std::vector<rules::Alert>{teams_alert("Teams", now - 2000, now)}, now);
  auto flow_count = [&] {
    std::lock_guard lock(mu);
    return seen["flow"];
  };
  for (int i = 0; i < 500 && flow_count() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE((*n)->wait_idle(10'000));
  std::vector<Request> ok_reqs, flow_reqs;
  for (const auto& r : sink.all()) {
    if (r.path.rfind("/teams-ok/", 0) == 0) ok_reqs.push_back(r);
    if (r.path.rfind("/flow/", 0) == 0) flow_reqs.push_back(r);
  }
  REQUIRE(ok_reqs.size() == 2);
  REQUIRE(flow_reqs.size() == 2);
  CHECK(json::parse(ok_reqs[1].body)["themeColor"] == "2DC72D");
  CHECK(json::parse(ok_reqs[1].body)["title"] == "[RESOLVED] Teams (critical db)");
  CHECK(json::parse(flow_reqs[1].body)["attachments"][0]["content"]["body"][0]["color"] == "Good");
  (*n)->stop();
  fs::remove_all(dir);
}
