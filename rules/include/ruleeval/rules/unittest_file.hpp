// promtool's rule unit-test file format (`promtool test rules`), decoded strictly like promtool v3
// (unknown fields are errors unless ignore_unknown_fields), plus ruleeval's additions:
// `exp_state` on expected alerts (firing|pending) to assert pending alerts too.
// Plain values with 1-based positions; no yaml-cpp types.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"

namespace ruleeval::rules {

struct UnitTestPos {
  uint32_t line = 0;
  uint32_t col = 0;
};

struct InputSeries {
  std::string series;  // `metric{a="b"}`
  std::string values;  // expanding notation
  UnitTestPos pos;
};

struct ExpectedAlert {
  Labels labels;       // exp_labels (alertname is added by the runner)
  Labels annotations;  // exp_annotations
  std::string state = "firing";  // ruleeval extension: exp_state firing|pending
  UnitTestPos pos;
};

struct AlertTestCase {
  int64_t eval_time_ms = 0;
  std::string alertname;
  std::vector<ExpectedAlert> exp_alerts;
  UnitTestPos pos;
};

struct ExpectedSample {
  std::string labels;  // series notation, parsed by the runner
  double value = 0;
  std::string histogram;  // native histogram expectation (not supported by the engine)
  UnitTestPos pos;
};

struct PromqlTestCase {
  std::string expr;
  int64_t eval_time_ms = 0;
  std::vector<ExpectedSample> exp_samples;
  UnitTestPos pos;
};

struct UnitTestGroup {
  std::string name;
  int64_t interval_ms = 0;  // 0 = evaluation_interval
  int64_t start_ms = 0;     // start_timestamp (RFC3339 or Unix seconds)
  Labels external_labels;
  std::string external_url;
  std::vector<InputSeries> input_series;
  std::vector<AlertTestCase> alert_rule_test;
  std::vector<PromqlTestCase> promql_expr_test;
  UnitTestPos pos;
};

struct UnitTestFile {
  std::string path;
  std::vector<std::string> rule_files;  // as written (globs, relative to the test file)
  int64_t evaluation_interval_ms = 60'000;
  std::vector<std::string> group_eval_order;
  bool fuzzy_compare = false;
  std::vector<UnitTestGroup> tests;
};

struct UnitTestLoadOptions {
  bool ignore_unknown_fields = false;
};

// Reads and decodes a test file. Every problem is reported (file:line:col: message); the file is
// returned only when there was none.
std::expected<UnitTestFile, std::vector<Error>> load_unittest_file(
    const std::string& path, const UnitTestLoadOptions& opts = {});
std::expected<UnitTestFile, std::vector<Error>> load_unittest_text(
    const std::string& text, const std::string& path, const UnitTestLoadOptions& opts = {});

// RFC3339 ("2024-01-01T00:00:00Z", with optional fraction and offset) or Unix seconds (integer or
// float) to Unix milliseconds.
std::optional<int64_t> parse_timestamp(const std::string& s);

}  // namespace ruleeval::rules
