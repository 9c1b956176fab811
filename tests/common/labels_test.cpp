#include <doctest/doctest.h>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"

using ruleeval::Label;
using ruleeval::Labels;
using ruleeval::LabelsBuilder;

TEST_CASE("labels are sorted, deduplicated and drop empty values") {
  Labels l{{"b", "2"}, {"a", "1"}, {"c", ""}, {"a", "3"}};
  REQUIRE(l.size() == 2);
  CHECK(l.items()[0] == Label{"a", "3"});
  CHECK(l.items()[1] == Label{"b", "2"});
  CHECK(l.get("a") == "3");
  CHECK(l.get("c").empty());
  CHECK_FALSE(l.has("zzz"));
}

TEST_CASE("equal label sets hash equal and different ones do not") {
  Labels a{{"job", "api"}, {"instance", "x:1"}};
  Labels b{{"instance", "x:1"}, {"job", "api"}};
  Labels c{{"instance", "x:2"}, {"job", "api"}};
  CHECK(a == b);
  CHECK(a.hash() == b.hash());
  CHECK(a.hash() != c.hash());
  CHECK(a != c);
}

TEST_CASE("hash_for and hash_without select the labels used for matching") {
  Labels a{{"__name__", "up"}, {"job", "api"}, {"instance", "1"}};
  Labels b{{"__name__", "down"}, {"job", "api"}, {"instance", "2"}};
  std::vector<std::string> job{"job"};
  std::vector<std::string> inst{"instance"};
  CHECK(a.hash_for(job) == b.hash_for(job));
  CHECK(a.hash_for(inst) != b.hash_for(inst));
  // hash_without always ignores the metric name.
  CHECK(a.hash_without(inst) == b.hash_without(inst));
}

TEST_CASE("to_string prints Prometheus's series notation") {
  CHECK(Labels{{"__name__", "up"}}.to_string() == "up");
  CHECK(Labels{{"__name__", "up"}, {"job", "a\"b"}}.to_string() == "up{job=\"a\\\"b\"}");
  CHECK(Labels{{"b", "1"}, {"a", "x\ny"}}.to_string() == "{a=\"x\\ny\", b=\"1\"}");
  CHECK(Labels{}.to_string() == "{}");
}

TEST_CASE("builder sets, replaces and deletes labels") {
  Labels base{{"a", "1"}, {"b", "2"}};
  auto l = LabelsBuilder(base).set("c", "3").set("a", "9").del("b").build();
  CHECK(l == Labels{{"a", "9"}, {"c", "3"}});
  CHECK(LabelsBuilder(base).set("a", "").build() == Labels{{"b", "2"}});
}

TEST_CASE("label order follows Prometheus: name by name, then value") {
  Labels a{{"a", "1"}};
  Labels b{{"a", "2"}};
  Labels c{{"a", "1"}, {"b", "1"}};
  CHECK(a < b);
  CHECK(a < c);
  CHECK_FALSE(b < a);
}

TEST_CASE("go_quote escapes like strconv.Quote") {
  CHECK(ruleeval::go_quote("plain") == "\"plain\"");
  CHECK(ruleeval::go_quote("tab\there") == "\"tab\\there\"");
  CHECK(ruleeval::go_quote(std::string("\x01", 1)) == "\"\\x01\"");
  CHECK(ruleeval::go_quote("\xff") == "\"\\xff\"");
  CHECK(ruleeval::go_quote("h\xc3\xa9") == "\"h\xc3\xa9\"");
}

TEST_CASE("errors render their location in front of the message") {
  ruleeval::Error e("bad thing", {"rules.yaml", 3, 7});
  CHECK(e.to_string() == "rules.yaml:3:7: bad thing");
  CHECK(ruleeval::Error("x").to_string() == "x");
  CHECK(ruleeval::SourceLocation{"f", 2, 0}.to_string() == "f:2");
}
