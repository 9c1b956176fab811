// HeapOptional: std::optional's behaviour for the rule model's large, mostly absent members.
#include <doctest/doctest.h>

#include <string>
#include <utility>

#include "ruleeval/rules/model.hpp"

using ruleeval::rules::GrafanaSpec;
using ruleeval::rules::HeapOptional;
using ruleeval::rules::Rule;

TEST_CASE("HeapOptional behaves like optional: empty, assigned, deep copies, moves, reset") {
  HeapOptional<std::string> a;
  CHECK_FALSE(a);
  CHECK_FALSE(a.has_value());
  a = std::string("x");
  REQUIRE(a);
  CHECK(*a == "x");
  HeapOptional<std::string> b = a;  // deep copy
  *b += "y";
  CHECK(*a == "x");
  CHECK(*b == "xy");
  CHECK(b->size() == 2);
  HeapOptional<std::string> c = std::move(b);
  CHECK(*c == "xy");
  a = c;
  CHECK(*a == "xy");
  a = std::nullopt;
  CHECK_FALSE(a);
  c.emplace(3, 'z');
  CHECK(*c == "zzz");
  c.reset();
  CHECK_FALSE(c);
}

TEST_CASE("a Rule without a Grafana spec does not carry its size, and copies keep the spec") {
  static_assert(sizeof(Rule) < sizeof(GrafanaSpec));
  Rule r;
  CHECK_FALSE(r.grafana);
  GrafanaSpec g;
  g.uid = "abc";
  r.grafana = std::move(g);
  Rule copy = r;
  REQUIRE(copy.grafana);
  CHECK(copy.grafana->uid == "abc");
  CHECK(&*copy.grafana != &*r.grafana);
}
