#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "ruleeval/engine/status_page.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
using namespace ruleeval::engine::status;

namespace {

constexpr Millis kNow = 1'795'914'040'858;  // 2026-11-29T01:00:40.858Z

size_t count(const std::string& hay, std::string_view needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

AlertItem alert(std::string name, std::string state, Millis active_at) {
  AlertItem a;
  a.group = "g";
  a.rule = name;
  a.state = std::move(state);
  a.labels = {{"alertname", name}, {"job", "api"}, {"severity", "page"}};
  a.annotations = {{"summary", "api is failing"},
                   {"runbook_url", "https://runbooks.example/x"}};
  a.value = 0.15087290265606962;
  a.active_at = active_at;
  a.for_ms = Millis{5} * 60'000;
  a.generator_url = "http://prom:9090/graph?g0.expr=up";
  return a;
}

}  // namespace

TEST_CASE("status page: a firing alert shows its story") {
  PageData d;
  d.now = kNow;
  auto a = alert("HighErrorRate", "firing", kNow - Millis{12} * 60'000);
  a.fired_at = kNow - Millis{7} * 60'000;
  d.alerts.push_back(a);
  std::string html = render_status_page(d);
  CHECK(html.find("<strong>HighErrorRate</strong>") != std::string::npos);
  // Prometheus's formatting of the value (Go's shortest float), humanize in the tooltip.
  CHECK(html.find("title=\"150.9m\">0.15087290265606962</span>") != std::string::npos);
  CHECK(html.find("active since <time datetime=\"2026-11-29T00:48:40.858Z\" "
                  "title=\"2026-11-29T00:48:40.858Z\">12m ago</time>") != std::string::npos);
  CHECK(html.find(">7m ago</time>") != std::string::npos);
  CHECK(html.find("<div class=\"an summary\">api is failing</div>") != std::string::npos);
  CHECK(html.find("<a class=\"runbook\" href=\"https://runbooks.example/x\"") != std::string::npos);
  CHECK(html.find("<a class=\"source\" href=\"http://prom:9090/graph?g0.expr=up\"") !=
        std::string::npos);
  CHECK(html.find("<span class=\"lb\">severity=&#34;page&#34;</span>") != std::string::npos);
  CHECK(html.find("Firing (1)") != std::string::npos);
  CHECK(html.find("<meta http-equiv=\"refresh\" content=\"30\">") != std::string::npos);
  // No external resources.
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("<link rel=\"stylesheet\"") == std::string::npos);
  CHECK(html.find("<link rel=\"icon\" href=\"data:,\">") != std::string::npos);
  CHECK(html.find("href=\"//") == std::string::npos);
}

TEST_CASE("status page: pending alerts say when they fire; resolved ones are listed last") {
  PageData d;
  d.now = kNow;
  d.alerts.push_back(alert("P", "pending", kNow - (2 * 60'000 + 50'000)));  // for 5m: 2m10s left
  auto r = alert("R", "resolved", kNow - 3600'000);
  r.resolved_at = kNow - Millis{4} * 60'000;
  d.alerts.push_back(r);
  std::string html = render_status_page(d);
  CHECK(html.find("fires in 2m10s unless it clears") != std::string::npos);
  CHECK(html.find("Resolved in the last 15 minutes (1)") != std::string::npos);
  CHECK(html.find("resolved <time") != std::string::npos);
  CHECK(html.find("Pending (1)") < html.find("Resolved in the last"));
}

TEST_CASE("status page: labels and annotations with markup are escaped") {
  PageData d;
  d.now = kNow;
  auto a = alert("<script>alert(1)</script>", "firing", kNow - 1000);
  a.labels.emplace_back("x<script>", "\"><img src=x onerror=alert(1)>");
  a.annotations = {{"summary", "<script>evil()</script>"},
                   {"runbook_url", "javascript:alert(1)"},
                   {"note'", "it's & <b>"}};
  a.group = "<g>";
  d.alerts.push_back(a);
  d.notifier = true;
  d.silences.push_back({"id\"1", "{a=\"<b>\"}", kNow - 1000, kNow + 1000, "<me>", "<c>", "active"});
  d.receivers.push_back({"<r>", "webhook", 0, 3, 3, 1, 3, "<html>502</html>"});
  GroupItem g;
  g.name = "<group>";
  g.file = "a&b.yaml";
  RuleItem rule;
  rule.name = "<rule>";
  rule.query = "up{job=\"<script>\"} > 0 # </pre><script>";
  rule.last_error = "<err>";
  g.rules.push_back(rule);
  d.groups.push_back(g);
  std::string html = render_status_page(d);
  // The only <script> is the page's own inline script, at the end.
  CHECK(count(html, "<script>") == 1);
  CHECK(html.find("<script>") > html.find("id=\"rules\""));
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;evil()&lt;/script&gt;") != std::string::npos);
  // A javascript: runbook is shown as text, never as a link.
  CHECK(html.find("href=\"javascript:") == std::string::npos);
  CHECK(html.find("<code>javascript:alert(1)</code>") != std::string::npos);
  CHECK(html.find("note&#39;: it&#39;s &amp; &lt;b&gt;") != std::string::npos);
  CHECK(html.find("name=\"id\" value=\"id&#34;1\"") != std::string::npos);
  CHECK(html.find("&lt;html&gt;502&lt;/html&gt;") != std::string::npos);
  CHECK(html.find("&lt;/pre&gt;&lt;script&gt;") != std::string::npos);
  CHECK(html.find("last error: &lt;err&gt;") != std::string::npos);
  // The silence form's textarea is prefilled with the labels, escaped.
  CHECK(html.find("alertname=&lt;script&gt;alert(1)&lt;/script&gt;\njob=api") != std::string::npos);
}

TEST_CASE("status page: a failing receiver is at the top, before the alerts") {
  PageData d;
  d.now = kNow;
  d.notifier = true;
  d.receivers.push_back({"ok-recv", "slack", 5, 0, 0, 0, 0, ""});
  d.receivers.push_back({"pager", "pagerduty", 1, 4, 4, 2, 4, "connection refused"});
  d.alerts.push_back(alert("A", "firing", kNow - 60'000));
  d.deliveries.push_back({"{}:{alertname=\"A\", job=\"api\"}", "pager", "pager/pagerduty/0",
                          kNow - 30'000, 1, 0, "retrying", "connection refused", ""});
  d.deliveries.push_back({"{}:{alertname=\"B\"}", "ok-recv", "ok-recv/slack/0", kNow - 30'000, 1,
                          0, "sent", "", ""});
  std::string html = render_status_page(d);
  size_t banner = html.find("Receiver pager (pagerduty) is failing");
  REQUIRE(banner != std::string::npos);
  CHECK(banner < html.find("id=\"alerts\""));
  CHECK(html.find("ok-recv (slack) is failing") == std::string::npos);
  // The alert shows the delivery of its own group only.
  size_t card = html.find("<div class=\"card firing\">");
  size_t end = html.find("</section>", card);
  std::string c = html.substr(card, end - card);
  CHECK(c.find("<strong>pager</strong>") != std::string::npos);
  CHECK(c.find("retrying") != std::string::npos);
  CHECK(c.find("ok-recv") == std::string::npos);
  // In the receivers table the failing one comes first.
  CHECK(html.find("<td>pager</td>") < html.find("<td>ok-recv</td>"));
}

TEST_CASE("status page: filters from the URL query") {
  std::vector<std::string> errs;
  auto f = parse_filter("firing", {"severity=page", "bad"}, "API", "0", &errs);
  CHECK(f.state == "firing");
  REQUIRE(f.labels.size() == 1);
  CHECK(f.labels[0] == std::pair<std::string, std::string>{"severity", "page"});
  CHECK(f.refresh_seconds == 0);
  CHECK(errs.size() == 1);
  PageData d;
  d.now = kNow;
  d.alerts.push_back(alert("A", "firing", kNow - 1000));
  auto b = alert("B", "firing", kNow - 1000);
  b.labels[2].second = "ticket";
  d.alerts.push_back(b);
  d.alerts.push_back(alert("C", "pending", kNow - 1000));
  std::string html = render_status_page(d, f);
  CHECK(html.find("<strong>A</strong>") != std::string::npos);
  CHECK(html.find("<strong>B</strong>") == std::string::npos);
  CHECK(html.find("<strong>C</strong>") == std::string::npos);
  CHECK(html.find("http-equiv=\"refresh\"") == std::string::npos);
  CHECK(html.find("id=\"refresh\">") != std::string::npos);  // toggle unchecked
  f = parse_filter("", {}, "nomatch", "", nullptr);
  html = render_status_page(d, f);
  CHECK(html.find("<strong>A</strong>") == std::string::npos);
}

TEST_CASE("status page: PromQL highlighting from the parser") {
  CHECK(highlight_promql("sum by (job) (rate(http_requests_total{code=~\"5..\"}[5m])) > 0.05") ==
        "<span class=\"k\">sum</span> by (job) (<span class=\"f\">rate</span>(<span "
        "class=\"m\">http_requests_total</span>{<span class=\"l\">code=~&#34;5..&#34;</span>}"
        "[5m])) &gt; <span class=\"n\">0.05</span>");
  // Unparsable text is only escaped.
  CHECK(highlight_promql("sum(<b>") == "sum(&lt;b&gt;");
  CHECK(highlight_promql("label_replace(up, \"a\", \"$1\", \"b\", \"(.*)\")")
            .find("<span class=\"s\">&#34;a&#34;</span>") != std::string::npos);
}

TEST_CASE("status page: ages, group keys") {
  CHECK(format_age(45'000) == "45s");
  CHECK(format_age(130'000) == "2m10s");
  CHECK(format_age(Millis{12} * 60'000) == "12m");
  CHECK(format_age(3 * 3600'000 + 5 * 60'000) == "3h5m");
  CHECK(format_age(Millis{52} * 3600'000) == "2d4h");
  auto k = group_key_labels("{}/{severity=\"page\"}:{alertname=\"A\", job=\"a\\\"b\"}");
  REQUIRE(k.size() == 2);
  CHECK(k[0] == std::pair<std::string, std::string>{"alertname", "A"});
  CHECK(k[1] == std::pair<std::string, std::string>{"job", "a\"b"});
}

TEST_CASE("status page: very long label sets and 1,000 alerts") {
  PageData d;
  d.now = kNow;
  auto big = alert("Big", "firing", kNow - 1000);
  for (int i = 0; i < 200; ++i)
    big.labels.emplace_back("label_" + std::to_string(i), std::string(100, 'x'));
  d.alerts.push_back(big);
  for (int i = 0; i < 999; ++i)
    d.alerts.push_back(alert("A" + std::to_string(i), i % 3 ? "firing" : "pending", kNow - Millis{i} * 1000));
  auto t0 = std::chrono::steady_clock::now();
  std::string html = render_status_page(d);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  CHECK(count(html, "<div class=\"card firing\">") == 667);
  CHECK(count(html, "<div class=\"card pending\">") == 333);
  CHECK(html.find("label_199=&#34;" + std::string(100, 'x')) != std::string::npos);
  // Generous bound for debug/sanitizer builds; tools/bench/bench_status_page measures it.
  CHECK(ms < 2000);
}

TEST_CASE("status page: the rule's state strip draws its pending and firing bands") {
  PageData d;
  d.now = kNow;
  GroupItem g;
  g.name = "g";
  RuleItem r;
  r.name = "A";
  r.query = "up == 0";
  // Pending 10m..8m ago, firing 8m ago until now: the window is 1.25 x 10m -> clamped to 15m.
  r.bands = {{kNow - Millis{10} * 60'000, kNow - Millis{8} * 60'000, "pending"},
             {kNow - Millis{8} * 60'000, kNow, "firing"}};
  g.rules.push_back(r);
  RuleItem rec;
  rec.name = "rec";
  rec.alerting = false;
  rec.query = "sum(up)";
  g.rules.push_back(rec);
  d.groups.push_back(g);
  std::string html = render_status_page(d);
  // 300 px for 15 minutes: pending from x=100 (5m in) 40 px wide, firing from x=140 160 px wide.
  CHECK(html.find("<rect x=\"100.0\" width=\"40.0\" height=\"14\" fill=\"#f9a825\">") !=
        std::string::npos);
  CHECK(html.find("<rect x=\"140.0\" width=\"160.0\" height=\"14\" fill=\"#c62828\">") !=
        std::string::npos);
  CHECK(html.find("last 15m: green inactive") != std::string::npos);
  // Recording rules get no strip.
  CHECK(count(html, "<svg") == 1);
}
