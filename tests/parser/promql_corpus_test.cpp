// Conformance corpus: every `eval` expression in Prometheus's promqltest scripts (read from
// $RULEEVAL_SHARED_DIR, never copied) must parse and round-trip through format(), except those
// whose expectation is a parse error, which must be rejected.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "ruleeval/parser/promql.hpp"

namespace pq = ruleeval::promql;
namespace fs = std::filesystem;

namespace {

struct Eval {
  std::string file;
  int line = 0;
  std::string expr;
  bool expect_parse_error = false;
};

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// A failure message that comes from the parser rather than the engine.
bool is_parse_error_message(const std::string& msg) {
  static const std::regex kParse(R"(^\d+:\d+: parse error|parse error)");
  return std::regex_search(msg, kParse);
}

std::vector<Eval> load_evals() {
  static const std::regex kInstant(R"(^eval(_fail|_warn|_ordered|_info)?\s+instant\s+at\s+\S+\s+(.*)$)");
  static const std::regex kRange(
      R"(^eval(_fail|_warn|_ordered|_info)?\s+range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+\s+(.*)$)");
  static const std::regex kExpectFail(R"(^expect\s+fail(?:\s+(?:msg|regex):\s*(.*))?$)");
  static const std::regex kLegacyMsg(R"(^expected_fail_(?:message|regexp)\s+(.*)$)");
  std::vector<Eval> out;
  fs::path dir = fs::path(RULEEVAL_SHARED_DIR) / "conformance" / "promqltest";
  std::vector<fs::path> files;
  for (const auto& ent : fs::directory_iterator(dir)) {
    if (ent.path().extension() == ".test") files.push_back(ent.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string raw;
    int lineno = 0;
    Eval* current = nullptr;
    bool legacy_fail = false;
    while (std::getline(in, raw)) {
      ++lineno;
      std::string line = trim(raw);
      std::smatch m;
      if (std::regex_match(line, m, kInstant) || std::regex_match(line, m, kRange)) {
        out.push_back(Eval{f.filename().string(), lineno, trim(m[2].str()), false});
        current = &out.back();
        legacy_fail = m[1].str() == "_fail";
        continue;
      }
      if (line.empty() || line.starts_with("load") || line.starts_with("clear")) {
        current = nullptr;
        continue;
      }
      if (!current) continue;
      if (std::regex_match(line, m, kExpectFail)) {
        if (m[1].matched && is_parse_error_message(m[1].str())) current->expect_parse_error = true;
      } else if (legacy_fail && std::regex_match(line, m, kLegacyMsg)) {
        if (is_parse_error_message(m[1].str())) current->expect_parse_error = true;
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every eval expression of the PromQL conformance corpus parses and round-trips") {
  auto evals = load_evals();
  MESSAGE("conformance evals: " << evals.size());
  REQUIRE(evals.size() > 800);  // 829 in the shared corpus
  pq::ParseOptions opts;
  opts = ruleeval::promql::ParseOptions::all();  // the corpus uses sort_by_label, step(), min_of, ...
  size_t parsed = 0;
  size_t rejected = 0;
  for (const auto& ev : evals) {
    INFO(ev.file << ":" << ev.line << ": " << ev.expr);
    auto r = pq::parse(ev.expr, opts);
    if (ev.expect_parse_error) {
      CHECK_FALSE(r.has_value());
      if (!r) ++rejected;
      continue;
    }
    if (!r) {
      FAIL_CHECK("parse error: " << pq::format_parse_error(r.error()));
      continue;
    }
    ++parsed;
    std::string printed = pq::format(**r);
    auto again = pq::parse(printed, opts);
    INFO("formatted: " << printed);
    REQUIRE(again.has_value());
    CHECK(**again == **r);
    CHECK(pq::format(**again) == printed);
  }
  MESSAGE("parsed " << parsed << ", rejected as expected " << rejected);
}
