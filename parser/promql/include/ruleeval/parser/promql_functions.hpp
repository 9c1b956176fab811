// The PromQL function table: name, argument types, return type. Lookup is case-sensitive, as in
// Prometheus.
#pragma once

#include <span>
#include <string_view>

#include "ruleeval/parser/promql_ast.hpp"

namespace ruleeval::promql {

struct FunctionInfo {
  std::string_view name;
  std::span<const ValueType> arg_types;
  // -1: exactly arg_types.size() args, but trailing args from `min_args` on are optional.
  // >0: the last arg type may repeat; this is the max total (0x7fff = unbounded).
  int variadic = 0;
  int min_args = 0;
  ValueType return_type = ValueType::Vector;
  bool experimental = false;
};

// nullptr if `name` is not a function.
const FunctionInfo* find_function(std::string_view name);
std::span<const FunctionInfo> all_functions();

}  // namespace ruleeval::promql
