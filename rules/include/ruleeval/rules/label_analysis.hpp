// Label propagation over the PromQL AST: which labels can the series returned by an expression
// carry? Used by the alerts/template check to find `$labels.X` references that can never be set
// (e.g. `$labels.instance` after `sum by (job)`).
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "ruleeval/parser/promql_ast.hpp"

namespace ruleeval::rules {

struct LabelSetInfo {
  // open: the result may carry any label except `removed`; closed: only labels in `known`.
  bool open = true;
  std::set<std::string, std::less<>> known;
  std::set<std::string, std::less<>> removed;

  bool can_have(std::string_view name) const {
    return open ? !removed.contains(name) : known.contains(name);
  }
  // "job, instance" for closed sets; "any label except le" for open ones.
  std::string describe() const;
};

LabelSetInfo output_labels(const promql::Expr& e);

}  // namespace ruleeval::rules
