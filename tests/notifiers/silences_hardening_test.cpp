// Regression tests for the hardening of silences and the outbox (issue 13): JSON depth and body
// limits, Alertmanager's validation, corrupt files, size limits, incremental writes, file modes.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "../common/fake_env.hpp"
#include "../support/temp_dir.hpp"
#include "ruleeval/common/json_limits.hpp"
#include "ruleeval/notifiers/outbox.hpp"
#include "ruleeval/notifiers/silences.hpp"
#include "ruleeval/notifiers/silences_api.hpp"

using namespace ruleeval;
using namespace ruleeval::notifiers;
namespace fs = std::filesystem;

namespace {

constexpr Millis kNow = 1'700'000'000'000;

struct Dir : ruleeval::testing::TempDir {
  Dir() : TempDir("sil") {}
};

std::string body(const std::string& matchers, const std::string& extra = "") {
  return R"({"matchers":)" + matchers +
         R"(,"startsAt":"2023-11-14T22:13:20Z","endsAt":"2030-01-01T00:00:00Z",)"
         R"("createdBy":"me","comment":"c")" +
         extra + "}";
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("silences API: a body nested 100,000 levels deep is a 400, not a crash") {
  auto s = Silences::open("");
  REQUIRE(s);
  std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto r = silences_create(**s, body(deep), kNow);
  CHECK(r.status == 400);
  CHECK(r.body.find("nested") != std::string::npos);
  CHECK(json_nesting_depth(deep) == 100'000);
  CHECK(json_nesting_depth(R"({"a":"[[[[[["})") == 1);  // brackets in strings do not count
  // A body over the size limit.
  std::string big = body(R"([{"name":"a","value":"b","isRegex":false}])",
                         R"(,"x":")" + std::string(kMaxSilenceBodyBytes, 'x') + "\"");
  CHECK(silences_create(**s, big, kNow).status == 413);
}

TEST_CASE("silences API validates as Alertmanager does") {
  Dir d;
  const std::string path = d.path + "/silences.json";
  auto s = Silences::open(path, kNow);
  REQUIRE(s);
  SUBCASE("an invalid label name is a 400 with the reason, and nothing is saved") {
    auto r = silences_create(**s, body(R"([{"name":"a b","value":"x","isRegex":false}])"), kNow);
    CHECK(r.status == 400);
    CHECK(r.body.find("invalid label name") != std::string::npos);
    CHECK((*s)->list().empty());
    // ruleeval starts again with the file as it is.
    CHECK(Silences::open(path, kNow));
  }
  SUBCASE("an invalid regex is a 400") {
    auto r = silences_create(**s, body(R"([{"name":"a","value":"(","isRegex":true}])"), kNow);
    CHECK(r.status == 400);
    CHECK(r.body.find("regular expression") != std::string::npos);
  }
  SUBCASE("a matcher that is not an object is a 400") {
    CHECK(silences_create(**s, body(R"([[1]])"), kNow).status == 400);
    CHECK(silences_create(**s, body(R"({"a":1})"), kNow).status == 400);
  }
  SUBCASE("an update of an unknown id is a 404; of a known one keeps the id") {
    auto r = silences_create(
        **s, body(R"([{"name":"a","value":"x","isRegex":false}])", R"(,"id":"nope")"), kNow);
    CHECK(r.status == 404);
    auto c = silences_create(**s, body(R"([{"name":"a","value":"x","isRegex":false}])"), kNow);
    REQUIRE(c.status == 200);
    const std::string id = nlohmann::json::parse(c.body)["silenceID"];
    auto u = silences_create(
        **s, body(R"([{"name":"a","value":"y","isRegex":false}])", R"(,"id":")" + id + "\""), kNow);
    CHECK(u.status == 200);
    REQUIRE((*s)->list().size() == 1);
    CHECK((*s)->list()[0].matchers[0].value() == "y");
    auto again = Silences::open(path, kNow);
    REQUIRE(again);
    REQUIRE((*again)->list().size() == 1);
    CHECK((*again)->list()[0].matchers[0].value() == "y");
    CHECK(silences_expire(**s, "nope", kNow).status == 404);
  }
  SUBCASE("size limits: a 100 MB comment, too many matchers") {
    Silence big;
    big.matchers = *parse_matchers(R"(a="b")");
    big.ends_at = kNow + 60'000;
    big.comment = std::string(Silences::kMaxSilenceBytes + 1, 'c');
    auto r = (*s)->create(big, kNow);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("too large") != std::string::npos);
    Silence many;
    many.ends_at = kNow + 60'000;
    for (size_t i = 0; i <= Silences::kMaxMatchers; ++i) {
      many.matchers.push_back(*Matcher::make("l" + std::to_string(i), MatchOp::kEqual, "v"));
    }
    auto m = (*s)->create(many, kNow);
    REQUIRE_FALSE(m);
    CHECK(m.error().message.find("too many matchers") != std::string::npos);
  }
}

TEST_CASE("silences are written incrementally and compacted") {
  Dir d;
  const std::string path = d.path + "/silences.json";
  auto s = Silences::open(path, kNow);
  REQUIRE(s);
  Silence x;
  x.matchers = *parse_matchers(R"(a="b")");
  x.ends_at = kNow + 3600'000;
  REQUIRE((*s)->create(x, kNow));
  // The first change is one appended line, not a rewrite of the whole file.
  CHECK_FALSE(fs::exists(path));
  const std::string log1 = slurp(path + ".log");
  CHECK(std::count(log1.begin(), log1.end(), '\n') == 1);
  REQUIRE((*s)->create(x, kNow));
  const std::string log2 = slurp(path + ".log");
  CHECK(log2.starts_with(log1));
  CHECK(std::count(log2.begin(), log2.end(), '\n') == 2);
  // A torn last line (a crash during an append) is ignored.
  { std::ofstream(path + ".log", std::ios::app) << R"({"id":"torn","matc)"; }
  auto re = Silences::open(path, kNow);
  REQUIRE(re);
  CHECK((*re)->list().size() == 2);
  CHECK((*re)->load_warning().empty());
  // Many changes: the file is compacted and the log stays short.
  for (int i = 0; i < 300; ++i) REQUIRE((*re)->create(x, kNow));
  CHECK(fs::exists(path));
  auto after = Silences::open(path, kNow);
  REQUIRE(after);
  CHECK((*after)->list().size() == 302);
}

TEST_CASE("a corrupt silences file is moved aside and start-up goes on") {
  Dir d;
  const std::string path = d.path + "/silences.json";
  { std::ofstream(path) << R"({"seq":1,"silences":[{"id":"x","matchers":["a b=\"c\""]}]})"; }
  auto s = Silences::open(path, kNow);
  REQUIRE(s);
  CHECK((*s)->list().empty());
  CHECK((*s)->load_warning().find("is corrupt") != std::string::npos);
  CHECK(fs::exists(path + ".corrupt-" + std::to_string(kNow)));
  CHECK_FALSE(fs::exists(path));
  // Not JSON at all.
  { std::ofstream(path) << "{ not json"; }
  auto t = Silences::open(path, kNow + 1);
  REQUIRE(t);
  CHECK_FALSE((*t)->load_warning().empty());
}

TEST_CASE("outbox files are readable by the owner only, and failed/ is bounded") {
  Dir d;
  auto ob = Outbox::open(d.path + "/outbox");
  REQUIRE(ob);
  struct stat st {};
  REQUIRE(::stat((d.path + "/outbox").c_str(), &st) == 0);
  CHECK((st.st_mode & 0077) == 0);
}

#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "fixtures.hpp"

TEST_CASE("/metrics has one series per receiver and integration kind, however many configs") {
  notifiers::testing::DrivenNotifier h(notifiers::testing::notify_config(R"(
route: {receiver: two, group_wait: 0s, group_interval: 1s}
receivers:
  - name: two
    webhook_configs:
      - url: http://127.0.0.1:1/a
      - url: http://127.0.0.1:1/b
)"),
                                       kNow);
  rules::Alert a;
  a.labels = Labels{{"alertname", "A"}};
  a.starts_at = kNow;
  a.ends_at = kNow + 3600'000;
  h.fire({a});
  h.at(10'000);
  const std::string text = h.n->metrics_text();
  const std::string series =
      R"(ruleeval_notifications_sent_total{receiver="two",integration="webhook"})";
  const size_t first = text.find(series);
  REQUIRE(first != std::string::npos);
  CHECK(text.find(series, first + 1) == std::string::npos);
  CHECK(text.find(series + " 2\n") != std::string::npos);
}

TEST_CASE("silences API: createdBy, comment and the other required fields, as Alertmanager 0.25") {
  // Alertmanager answers the first missing required property (comment, createdBy, endsAt,
  // matchers, matchers.N.{isRegex,name,value}, startsAt) with a 422; tests/integration's
  // silences_am_parity_test.py compares these with the real binary.
  auto s = Silences::open("");
  REQUIRE(s);
  const std::string m = R"("matchers":[{"name":"a","value":"x","isRegex":false}])";
  const std::string t = R"("startsAt":"2023-11-14T22:13:20Z","endsAt":"2030-01-01T00:00:00Z")";
  auto check = [&](const std::string& b, int status, const std::string& message) {
    auto r = silences_create(**s, b, kNow);
    CHECK_MESSAGE(r.status == status, b, " -> ", r.body);
    if (!message.empty()) {
      auto j = nlohmann::json::parse(r.body);
      CHECK(j["message"] == message);
      CHECK(j["code"] == (status == 422 && message.find("at least") == std::string::npos ? 602 : 612));
    }
  };
  check("{" + m + "," + t + R"(,"createdBy":"me"})", 422, "comment in body is required");
  check("{" + m + "," + t + R"(,"comment":"c"})", 422, "createdBy in body is required");
  check("{" + m + "," + t + "}", 422, "comment in body is required");
  check("{" + m + "," + t + R"(,"comment":null,"createdBy":"me"})", 422,
        "comment in body is required");
  check("{" + m + R"(,"startsAt":"2023-11-14T22:13:20Z","comment":"c","createdBy":"me"})", 422,
        "endsAt in body is required");
  check("{" + m + R"(,"endsAt":"2030-01-01T00:00:00Z","comment":"c","createdBy":"me"})", 422,
        "startsAt in body is required");
  check("{" + t + R"(,"comment":"c","createdBy":"me"})", 422, "matchers in body is required");
  check(R"({"matchers":[],)" + t + R"(,"comment":"c","createdBy":"me"})", 422,
        "matchers in body should have at least 1 items");
  check(R"({"matchers":[{"name":"a","value":"x"}],)" + t + R"(,"comment":"c","createdBy":"me"})",
        422, "matchers.0.isRegex in body is required");
  check(R"({"matchers":[{"value":"x","isRegex":false}],)" + t +
            R"(,"comment":"c","createdBy":"me"})",
        422, "matchers.0.name in body is required");
  CHECK((*s)->list().empty());
  // Empty strings are accepted, as Alertmanager accepts them.
  check("{" + m + "," + t + R"(,"comment":"","createdBy":""})", 200, "");
  check("{" + m + "," + t + R"(,"comment":"c","createdBy":"me"})", 200, "");
  CHECK((*s)->list().size() == 2);
  // A wrong type is a 400, as Alertmanager's JSON decoding error.
  check("{" + m + "," + t + R"(,"comment":"c","createdBy":5})", 400, "");
}
