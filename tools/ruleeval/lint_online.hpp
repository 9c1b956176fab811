// `ruleeval lint --datasource URL|NAME`: runs the online checks (engine/online_lint.hpp) and adds
// their diagnostics. Kept apart from cmd_lint.cpp so the offline path stays as it is.
#pragma once

#include <string>
#include <vector>

#include "ruleeval/rules/diagnostic.hpp"
#include "ruleeval/rules/model.hpp"

namespace ruleeval::cli {

struct OnlineLintFlags {
  std::string datasource;  // URL, or a datasource name in `run_config`
  std::string run_config = "ruleeval.yaml";
  std::string lookback = "7d";
  double pages_per_day = 5;
  size_t concurrency = 4;
  std::string query_timeout = "30s";
};

// Appends the online diagnostics to `diags`. Returns an error message (the backend cannot be
// reached, or bad flags) and leaves `diags` as it is; the caller still reports the offline ones.
std::string add_online_diagnostics(const OnlineLintFlags& f,
                                   const std::vector<const rules::RuleFile*>& files,
                                   std::vector<rules::Diagnostic>& diags);

}  // namespace ruleeval::cli
