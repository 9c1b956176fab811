// SLO lint checks (slo/burn-rate, slo/recording, slo/ratio); see slo_checks.cpp.
#pragma once

#include <span>
#include <vector>

#include "ruleeval/rules/diagnostic.hpp"
#include "ruleeval/rules/model.hpp"

namespace ruleeval::rules {

void check_slo_rules(std::span<const RuleFile* const> files, std::vector<Diagnostic>& out);

}  // namespace ruleeval::rules
