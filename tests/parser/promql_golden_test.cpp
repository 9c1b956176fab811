// Golden files under tests/testdata/promql/: ASTs as JSON (ast.golden) and rendered diagnostics
// (diagnostics.golden). Each case is a line `=== <input>` followed by the expected output.
// Regenerate with RULEEVAL_UPDATE_GOLDENS=1 after reviewing a deliberate change.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ruleeval/parser/promql.hpp"

namespace pq = ruleeval::promql;

namespace {

struct GoldenCase {
  std::string input;
  std::string expected;
};

std::string golden_path(const char* name) {
  return std::string(RULEEVAL_TESTDATA_DIR) + "/promql/" + name;
}

std::vector<GoldenCase> read_golden(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  std::vector<GoldenCase> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("=== ")) {
      out.push_back(GoldenCase{line.substr(4), ""});
    } else if (!out.empty()) {
      out.back().expected += line + "\n";
    }
  }
  return out;
}

void write_golden(const std::string& path, const std::vector<GoldenCase>& cases) {
  std::ofstream out(path);
  for (const auto& c : cases) out << "=== " << c.input << "\n" << c.expected;
}

bool updating() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the test binary never calls setenv
  const char* v = std::getenv("RULEEVAL_UPDATE_GOLDENS");
  return v && std::string(v) == "1";
}

template <class Fn>
void run_golden(const char* name, Fn&& render) {
  auto path = golden_path(name);
  auto cases = read_golden(path);
  REQUIRE(!cases.empty());
  for (auto& c : cases) {
    std::string got = render(c.input);
    if (updating()) {
      c.expected = got;
      continue;
    }
    INFO(name << ": " << c.input);
    CHECK(got == c.expected);
  }
  if (updating()) write_golden(path, cases);
}

}  // namespace

TEST_CASE("ASTs match the JSON goldens") {
  run_golden("ast.golden", [](const std::string& input) {
    pq::ParseOptions o;
    o = ruleeval::promql::ParseOptions::all();
    auto r = pq::parse(input, o);
    if (!r) return "unexpected error: " + pq::format_parse_error(r.error()) + "\n";
    return pq::format(**r) + "\n" + pq::to_json(**r) + "\n";
  });
}

TEST_CASE("diagnostics match the rendered-error goldens") {
  run_golden("diagnostics.golden", [](const std::string& input) {
    auto r = pq::parse(input);
    if (r) return std::string("unexpectedly parsed\n");
    return pq::render_parse_error(r.error(), input);
  });
}
