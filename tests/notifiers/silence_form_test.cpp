// The status page's silence form without JavaScript (application/x-www-form-urlencoded): parsed
// into a postableSilence and validated exactly as POST /api/v2/silences.
#include <doctest/doctest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "ruleeval/notifiers/silences_api.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;

namespace {
constexpr Millis kNow = 1'700'000'000'000;
using Form = std::multimap<std::string, std::string>;
}  // namespace

TEST_CASE("silence form: the page's fields create a silence") {
  auto s = Silences::open("");
  REQUIRE(s);
  Form f{{"matchers", "alertname=DiskFull\r\n  job=\"node\"  \n\ninstance=~\"db-.*\"\nteam!=web\n"},
         {"hours", "1.5"},
         {"createdBy", " alice "},
         {"comment", "disk replaced"}};
  auto r = silences_create_form(**s, f, kNow);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  auto list = (*s)->list();
  REQUIRE(list.size() == 1);
  const auto& sil = list[0];
  CHECK(nlohmann::json::parse(r.body)["silenceID"] == sil.id);
  CHECK(sil.created_by == "alice");
  CHECK(sil.comment == "disk replaced");
  CHECK(sil.starts_at == kNow);
  CHECK(sil.ends_at == kNow + Millis{90} * 60'000);
  CHECK(matchers_to_string(sil.matchers) ==
        R"({alertname="DiskFull",job="node",instance=~"db-.*",team!="web"})");
}

TEST_CASE("silence form: what the API refuses, the form refuses, with the reason") {
  auto s = Silences::open("");
  REQUIRE(s);
  Form ok{{"matchers", "alertname=X"}, {"hours", "2"}, {"createdBy", "me"}, {"comment", "c"}};
  auto with = [&](const std::string& k, const std::string& v) {
    Form f = ok;
    f.erase(k);
    f.emplace(k, v);
    return silences_create_form(**s, f, kNow);
  };
  auto r = with("createdBy", "  ");
  CHECK(r.status == 400);
  CHECK(reply_reason(r) == "created by: required (who is silencing)");
  r = with("comment", "");
  CHECK(r.status == 400);
  CHECK(reply_reason(r) == "comment: required (why)");
  r = with("matchers", "\n \n");
  CHECK(r.status == 400);
  CHECK(reply_reason(r).find("at least one matcher") != std::string::npos);
  r = with("matchers", "alertname=X\na b=c");
  CHECK(r.status == 400);
  CHECK(reply_reason(r).find("matchers, line 2 (\"a b=c\")") == 0);
  r = with("matchers", "instance=~\"(\"");
  CHECK(r.status == 400);
  r = with("matchers", "a=~\".*\"");  // would silence everything: the API's rule
  CHECK(r.status == 400);
  CHECK(reply_reason(r) == "at least one matcher must not match the empty string");
  for (const char* h : {"0", "-1", "abc", "1e9", "2h"}) {
    r = with("hours", h);
    CHECK_MESSAGE(r.status == 400, h);
    CHECK(reply_reason(r).find("duration") == 0);
  }
  CHECK((*s)->list().empty());
  CHECK(nlohmann::json::parse(error_json("a \"b\""))["error"] == "a \"b\"");
}
