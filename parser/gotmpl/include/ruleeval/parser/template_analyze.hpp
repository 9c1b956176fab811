// Static analysis of parsed templates for the linter: the labels, $value, query and humanize
// functions a template uses. Pure functions.
#pragma once

#include <string>
#include <vector>
#include "ruleeval/common/error.hpp"
#include "ruleeval/parser/template_ast.hpp"

namespace ruleeval::tmpl {

struct LabelReference {
  std::string name;      // "instance" in $labels.instance / .Labels.instance / index $labels "x"
  SourceLocation where;  // relative to the user's text
};

struct TemplateUsage {
  std::vector<LabelReference> labels;  // in source order, duplicates kept
  bool uses_value = false;             // $value or .Value
  bool uses_query = false;             // the query function
  bool uses_humanize = false;          // any humanize* function
};

TemplateUsage analyze(const Template& t);

}  // namespace ruleeval::tmpl
