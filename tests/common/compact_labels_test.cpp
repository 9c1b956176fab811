#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ruleeval/common/compact_labels.hpp"

using ruleeval::CompactLabels;
using ruleeval::Labels;

TEST_CASE("a packed label set keeps the identity of the labels it was made from") {
  Labels l{{"job", "api"}, {"instance", "10.0.0.1:9100"}, {"alertname", "InstanceDown"}};
  CompactLabels c(l);
  CHECK(c.size() == 3);
  CHECK(c.hash() == l.hash());
  CHECK(c == l);
  CHECK(c.to_labels() == l);
  CHECK(c.to_string() == l.to_string());
  CHECK(c.get("instance") == "10.0.0.1:9100");
  CHECK(c.get("alertname") == "InstanceDown");
  CHECK(c.get("zone").empty());
  CHECK(c.get("a").empty());
  CHECK(c.has("job"));
  CHECK_FALSE(c.has("team"));

  std::vector<std::string> names;
  for (auto v : c) names.emplace_back(v.name);
  CHECK(names == std::vector<std::string>{"alertname", "instance", "job"});
}

TEST_CASE("empty, copied and moved packed label sets") {
  CompactLabels e;
  CHECK(e.empty());
  CHECK(e.begin() == e.end());
  CHECK(e == Labels{});
  CHECK(e.to_labels().empty());

  CompactLabels a(Labels{{"x", "1"}});
  CompactLabels b = a;  // deep copy
  CHECK(a == b);
  CompactLabels c = std::move(a);
  CHECK(c == b);
  a = c;
  CHECK(a == c);
  a = CompactLabels(Labels{{"x", "2"}});
  CHECK_FALSE(a == c);
  CHECK(c.get("x") == "1");
}

TEST_CASE("packed label sets sort like Labels") {
  std::vector<Labels> ls{
      Labels{{"a", "2"}}, Labels{{"a", "1"}, {"b", "1"}},
      Labels{{"a", "1"}}, Labels{{"b", "0"}},
      Labels{},           Labels{{"a", "10"}},
  };
  std::vector<CompactLabels> cs(ls.begin(), ls.end());
  std::sort(ls.begin(), ls.end());
  std::sort(cs.begin(), cs.end());
  REQUIRE(ls.size() == cs.size());
  for (size_t i = 0; i < ls.size(); ++i) CHECK(cs[i] == ls[i]);
}

TEST_CASE("values of any length and UTF-8 survive packing") {
  std::string long_value(100000, 'v');
  Labels l{{"summary", long_value}, {"städte", "Zürich ☃"}};
  CompactLabels c(l);
  CHECK(c.get("summary") == long_value);
  CHECK(c.get("städte") == "Zürich ☃");
  CHECK(c.to_labels() == l);
}
