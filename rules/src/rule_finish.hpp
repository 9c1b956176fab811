// Post-decoding steps shared by the loaders (private to rules/src): deciding a rule's kind,
// checking Grafana-style fields, and finishing a file (PromQL and template parsing, control
// comments, rule extents).
#pragma once

#include <string>

#include "ruleeval/rules/model.hpp"
#include "yaml_util.hpp"

namespace ruleeval::rules {

// Sets rule.kind/name from the record/alert fields, reporting "rule/format" errors when both or
// neither are set.
void finish_rule_kind(YamlContext& ctx, Rule& rule, const Scalar& record, const Scalar& alert,
                      const std::string& group);
// Checks the combination of Grafana-style fields of the concise format.
void check_grafana_spec(YamlContext& ctx, const Rule& rule, const GrafanaSpec& spec,
                        const std::string& group);
// Parses every expression and template, reads `# ruleeval disable` comments.
void finish_file(YamlContext& ctx);

// Grafana provisioning (apiVersion: 1): grafana_convert.cpp.
void decode_grafana_provisioning(YamlContext& ctx, const yml::Node& doc);

}  // namespace ruleeval::rules
