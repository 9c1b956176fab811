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
  CompactLabels b = a;  // shares the block
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

TEST_CASE("copies share one block, which outlives the value it was copied from") {
  std::string value(300, 'q');  // lengths of 128 and more take two varint bytes
  Labels l{{"summary", value}, {std::string(130, 'n'), "x"}, {"a", ""}};
  std::vector<CompactLabels> copies;
  {
    CompactLabels original(l);
    for (int i = 0; i < 4; ++i) copies.push_back(original);
    auto first = copies.front().begin();
    CHECK((*first).name.data() == (*original.begin()).name.data());  // no copy of the text
  }  // the original is gone; its block lives on in the copies
  for (const auto& c : copies) {
    CHECK(c == l);
    CHECK(c.hash() == l.hash());
    CHECK(c.size() == 2);
    CHECK(c.get("summary") == value);
    CHECK(c.to_labels() == l);
  }
  copies[1] = copies[2];  // self-shared assignment
  copies[3] = std::move(copies[0]);
  CHECK(copies[3] == l);
  CHECK(copies[1] == copies[3]);
  copies.clear();
}

TEST_CASE("an empty packed set keeps the hash of the empty Labels it was made from") {
  Labels empty = Labels::from_vector({});
  CompactLabels c(empty);
  CHECK(c.empty());
  CHECK(c.hash() == empty.hash());
  CHECK(c == empty);
  CHECK(c.to_labels() == empty);
}
