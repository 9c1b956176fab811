// Status page (issue 19): delivery outcomes including "failed to the fallback", and filter
// errors shown on the page instead of being ignored.
#include <doctest/doctest.h>

// GCC 12's -Wrestrict false positive on short std::string assignments at -O2 (GCC PR 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include <string>

#include "ruleeval/engine/status_page.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
using namespace ruleeval::engine::status;

namespace {

constexpr Millis kNow = 1'795'914'040'858;  // 2026-11-29T01:00:40.858Z

AlertItem alert(std::string name, std::string state) {
  AlertItem a;
  a.group = "g";
  a.rule = name;
  a.state = std::move(state);
  a.labels = {{"alertname", name}, {"severity", "page"}};
  a.active_at = kNow - 60'000;
  return a;
}

std::string card_of(const std::string& html, const std::string& name) {
  size_t at = html.find("<strong>" + name + "</strong>");
  REQUIRE(at != std::string::npos);
  size_t begin = html.rfind("<div class=\"card", at);
  size_t end = html.find("<div class=\"card", at);
  if (end == std::string::npos) end = html.find("</section>", at);
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  return std::string(html.data() + begin, html.data() + end);
}

}  // namespace

TEST_CASE("status page: a notification that failed to the fallback says so, per alert group") {
  PageData d;
  d.now = kNow;
  d.notifier = true;
  d.alerts.push_back(alert("DiskFull", "firing"));
  d.alerts.push_back(alert("Web<1>", "firing"));
  DeliveryItem failed{"{}:{alertname=\"DiskFull\"}", "mail", "mail/email/0", kNow - 30'000, 1, 0,
                      "failed", "cannot render the notification: <.NoSuchField>", "ops"};
  DeliveryItem failed_no_fallback{"{}:{alertname=\"Web<1>\"}", "hook", "hook/webhook/0",
                                  kNow - 20'000, 1, 0, "failed", "unexpected status code 400", ""};
  d.deliveries = {failed, failed_no_fallback};
  std::string html = render_status_page(d);
  // Golden fragments: the alert's card and the per-group table.
  CHECK(card_of(html, "DiskFull")
            .find("<div>→ <strong>mail</strong> (mail/email/0) <time datetime=\"2026-11-29T01:00:"
                  "10.858Z\" title=\"2026-11-29T01:00:10.858Z\">30s ago</time>: <span class=\"err "
                  "outcome\">failed to the fallback <strong>ops</strong></span> — <span "
                  "class=\"err\">cannot render the notification: &lt;.NoSuchField&gt;</span></div>") !=
        std::string::npos);
  std::string web = card_of(html, "Web&lt;1&gt;");
  CHECK(web.find("<span class=\"err outcome\">failed</span> — <span class=\"err\">unexpected "
                 "status code 400</span>") != std::string::npos);
  CHECK(web.find("fallback") == std::string::npos);
  size_t table = html.find("<h3>Notifications per alert group</h3>");
  REQUIRE(table != std::string::npos);
  CHECK(html.find("<td><span class=\"err outcome\">failed to the fallback <strong>ops</strong>"
                  "</span>",
                  table) != std::string::npos);
}

TEST_CASE("status page: queued, retrying and sent outcomes") {
  PageData d;
  d.now = kNow;
  d.notifier = true;
  d.alerts.push_back(alert("A", "firing"));
  d.deliveries = {
      {"{}:{alertname=\"A\"}", "r", "r/slack/0", kNow - 1000, 1, 0, "retrying", "HTTP 503", ""},
      {"{}:{alertname=\"A\"}", "r", "r/webhook/0", kNow - 1000, 1, 0, "queued", "", ""},
      {"{}:{alertname=\"A\"}", "r", "r/email/0", kNow - 1000, 1, 0, "sent", "", ""}};
  std::string c = card_of(render_status_page(d), "A");
  CHECK(c.find("<span class=\"err outcome\">retrying</span> — <span class=\"err\">HTTP 503</span>") !=
        std::string::npos);
  CHECK(c.find("<span class=\"warn outcome\">queued</span></div>") != std::string::npos);
  CHECK(c.find("<span class=\"ok outcome\">sent</span></div>") != std::string::npos);
}

TEST_CASE("status page: filter errors are shown on the page, not ignored") {
  auto f = parse_filter("burning", {"severity=page", "a b=c", "novalue", "team!=db", "job=~api"},
                        "", "soon");
  CHECK(f.state.empty());
  REQUIRE(f.labels.size() == 1);
  CHECK(f.labels[0].first == "severity");
  CHECK(f.refresh_seconds == 30);
  REQUIRE(f.errors.size() == 6);
  PageData d;
  d.now = kNow;
  d.alerts.push_back(alert("A", "firing"));
  std::string html = render_status_page(d, f);
  const std::string golden =
      "<div class=\"banner err\" id=\"filter-errors\" role=\"alert\"><strong>Filter "
      "problems:</strong><ul>"
      "<li>state=&#34;burning&#34; is not a state (firing, pending or resolved): showing every "
      "state</li>"
      "<li>label=&#34;a b=c&#34; has an invalid label name &#34;a b&#34;: this filter is ignored</li>"
      "<li>label=&#34;novalue&#34; is not name=value: this filter is ignored</li>"
      "<li>label=&#34;team!=db&#34; uses an operator other than = (only exact matches are "
      "supported): this filter is ignored</li>"
      "<li>label=&#34;job=~api&#34; uses an operator other than = (only exact matches are "
      "supported): this filter is ignored</li>"
      "<li>refresh=&#34;soon&#34; is not 0, off or a number of seconds from 5 to 86400: "
      "refreshing every 30s</li></ul></div>";
  CHECK(html.find(golden) != std::string::npos);
  CHECK(html.find(golden) < html.find("id=\"alerts\""));
  // The invalid values stay in the form so they can be corrected.
  CHECK(html.find("<input name=\"label\" value=\"a b=c\" size=\"16\" aria-invalid=\"true\">") !=
        std::string::npos);
  // The valid part still filters.
  CHECK(html.find("<strong>A</strong>") != std::string::npos);

  // Markup in a bad parameter is escaped.
  f = parse_filter("<script>", {}, "", "");
  html = render_status_page(d, f);
  CHECK(html.find("state=&#34;&lt;script&gt;&#34;") != std::string::npos);
  // A valid query has no error banner; refresh accepts seconds.
  f = parse_filter("firing", {"severity=\"page\""}, "x", "60");
  CHECK(f.errors.empty());
  CHECK(f.refresh_seconds == 60);
  CHECK(render_status_page(d, f).find("filter-errors") == std::string::npos);
}

TEST_CASE("status page forms: same-origin posts only (CSRF), and they work without JavaScript") {
  CHECK(cross_site_reason("http://127.0.0.1:9095", "", "127.0.0.1:9095").empty());
  CHECK(cross_site_reason("", "http://127.0.0.1:9095/?state=firing", "127.0.0.1:9095").empty());
  CHECK(cross_site_reason("https://ruleeval.example", "", "ruleeval.example").empty());
  CHECK(cross_site_reason("http://evil.example", "", "127.0.0.1:9095") ==
        "the request comes from another site");
  CHECK(cross_site_reason("null", "", "127.0.0.1:9095") == "the request comes from another site");
  // Origin wins over a forged-looking Referer.
  CHECK(!cross_site_reason("http://evil.example", "http://127.0.0.1:9095/", "127.0.0.1:9095")
             .empty());
  CHECK(!cross_site_reason("http://127.0.0.1:9095.evil.example", "", "127.0.0.1:9095").empty());
  CHECK(!cross_site_reason("", "", "127.0.0.1:9095").empty());
  CHECK(!cross_site_reason("http://127.0.0.1:9095", "", "").empty());

  PageData d;
  d.now = kNow;
  d.notifier = true;
  d.alerts.push_back(alert("A", "firing"));
  d.silences.push_back({"s\"1", "{a=\"b\"}", kNow - 1000, kNow + 1000, "me", "c", "active"});
  std::string html = render_status_page(d);
  // Plain HTML forms posting to this server: the silence form and an expire form per silence.
  CHECK(html.find("<form class=\"silence f1\" method=\"post\" action=\"/silences\">") !=
        std::string::npos);
  CHECK(html.find("<input name=\"createdBy\" value=\"\" required>") != std::string::npos);
  CHECK(html.find("<input name=\"comment\" value=\"\" required>") != std::string::npos);
  CHECK(html.find("<form class=\"expire\" method=\"post\" action=\"/silences/expire\"><input "
                  "type=\"hidden\" name=\"id\" value=\"s&#34;1\"><button class=\"expire\" "
                  "type=\"submit\">Expire</button></form>") != std::string::npos);
  std::string notice = render_notice_page("Silence not created", "comment: <required>", true);
  CHECK(notice.find("<p class=\"err notice\">comment: &lt;required&gt;</p>") != std::string::npos);
  CHECK(notice.find("<a href=\"/\">Back to the status page</a>") != std::string::npos);
}
