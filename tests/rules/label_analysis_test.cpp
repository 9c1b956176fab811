#include <doctest/doctest.h>

#include "ruleeval/parser/promql.hpp"
#include "ruleeval/rules/label_analysis.hpp"

using namespace ruleeval::rules;

namespace {
LabelSetInfo labels_of(const char* q) {
  auto e = ruleeval::promql::parse(q);
  REQUIRE_MESSAGE(e.has_value(), q);
  return output_labels(**e);
}
}  // namespace

TEST_CASE("selectors can return any label") {
  auto s = labels_of("up{job=\"api\"}");
  CHECK(s.open);
  CHECK(s.can_have("instance"));
  CHECK(s.describe() == "any label");
}

TEST_CASE("aggregations keep only their by labels, or drop their without labels") {
  auto by = labels_of("sum by (job) (rate(http_requests_total[5m]))");
  CHECK_FALSE(by.open);
  CHECK(by.can_have("job"));
  CHECK_FALSE(by.can_have("instance"));
  CHECK(by.describe() == "job");
  auto without = labels_of("sum without (instance) (up)");
  CHECK(without.open);
  CHECK(without.can_have("job"));
  CHECK_FALSE(without.can_have("instance"));
  CHECK(without.describe() == "any label except instance");
  CHECK(labels_of("count(up)").describe() == "no labels");
  CHECK(labels_of("sum by (job) (sum by (instance) (up))").describe() == "no labels");
  CHECK(labels_of("count_values by (job) (\"version\", build_info)").describe() == "job, version");
  CHECK(labels_of("topk(3, sum by (job) (up))").describe() == "job");
}

TEST_CASE("binary operators follow Prometheus's vector matching") {
  CHECK(labels_of("sum by (job) (a) / sum by (job) (b) > 0.05").describe() == "job");
  CHECK(labels_of("a > on (job) b").describe() == "job");
  auto ign = labels_of("a / ignoring (code) b");
  CHECK_FALSE(ign.can_have("code"));
  CHECK(ign.can_have("instance"));
  auto gl = labels_of("sum by (job) (a) * on (job) group_left (team) info");
  CHECK(gl.can_have("team"));
  CHECK(gl.can_have("job"));
  CHECK_FALSE(gl.can_have("instance"));
  CHECK(labels_of("sum by (job) (a) and on (job) b").describe() == "job");
  CHECK(labels_of("sum by (job) (a) or sum by (env) (b)").describe() == "env, job");
  auto mixed = labels_of("sum by (job) (a) or b");
  CHECK(mixed.open);
  CHECK(labels_of("2 * sum by (job) (a)").describe() == "job");
}

TEST_CASE("functions keep, add or drop labels") {
  CHECK(labels_of("absent(up{job=\"api\", env=~\"p.*\"})").describe() == "job");
  CHECK(labels_of("vector(1)").describe() == "no labels");
  auto lr = labels_of("label_replace(sum by (job) (up), \"svc\", \"$1\", \"job\", \"(.*)\")");
  CHECK(lr.describe() == "job, svc");
  auto hq = labels_of("histogram_quantile(0.9, sum by (le, job) (rate(x_bucket[5m])))");
  CHECK(hq.describe() == "job");
  CHECK(labels_of("abs(sum by (job) (up))").describe() == "job");
  CHECK(labels_of("time() - 5").describe() == "no labels");
}
