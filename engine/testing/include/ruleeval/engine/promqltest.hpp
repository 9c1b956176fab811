// A runner for Prometheus's PromQL `.test` script format (promql/promqltest): load, clear,
// eval instant / eval range with expect lines, including the harness re-runs Prometheus does
// (every instant eval again with `@ <t>` pinned at other times, and as a range query whose
// middle step must equal the instant result).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/engine/engine.hpp"

namespace ruleeval::engine {

struct PromqlTestFailure {
  uint32_t line = 0;   // 1-based line of the eval (or offending) command
  std::string expr;    // the query, empty for non-eval problems
  std::string message; // what went wrong, including expected and got
};

struct PromqlTestReport {
  std::string file;
  size_t passed = 0;
  size_t failed = 0;
  size_t skipped = 0;  // evals on a skip-list line
  size_t histogram_samples_loaded = 0;  // native-histogram samples in `load` blocks
  std::vector<PromqlTestFailure> failures;
};

struct PromqlTestOptions {
  EngineOptions engine;
  std::set<uint32_t> skip_lines;  // eval lines not to run
  bool at_modifier_variants = true;
  bool range_mode_check = true;
};

// Runs one script. Problems in the script itself (bad syntax) are reported as failures at their
// line; the run never stops early.
PromqlTestReport run_promql_test(std::string_view file_name, std::string_view content,
                                 const PromqlTestOptions& opts = {});

// Prometheus's util/almost.Equal: relative tolerance, NaN equals NaN, StaleNaN only equals
// StaleNaN.
bool almost_equal(double a, double b, double epsilon = 1e-6);

}  // namespace ruleeval::engine
