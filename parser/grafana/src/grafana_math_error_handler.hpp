// Private: the error handler and annotation of the math grammar. Expectation failures are
// recorded (offset and what was expected) instead of printed; grafana_math_api.cpp turns them
// into "LINE:COL: message" errors. Successful rules stamp their node with its start offset.
#pragma once

#include <boost/spirit/home/x3.hpp>
#include <cstddef>
#include <string>
#include <type_traits>

#include "grafana_math_ast.hpp"

namespace ruleeval::grafana::mathx3 {

struct ErrorSink {
  const char* begin = nullptr;
  bool failed = false;
  size_t offset = 0;
  std::string expected;
};
struct error_sink_tag;

// Attached to the rule IDs (as X3's examples do with their error_handler base class).
struct error_handler {
  template <class Iterator, class Exception, class Context>
  x3::error_handler_result on_error(Iterator&, const Iterator&, const Exception& x,
                                    const Context& ctx) {
    ErrorSink& sink = x3::get<error_sink_tag>(ctx).get();
    if (!sink.failed) {  // the innermost failure is the most precise one
      sink.failed = true;
      sink.offset = static_cast<size_t>(x.where() - sink.begin);
      sink.expected = x.which();
    }
    return x3::error_handler_result::fail;
  }
};

struct annotate {
  template <class Iterator, class Context, class Node>
  void on_success(const Iterator& first, const Iterator&, Node& node, const Context& ctx) {
    if constexpr (std::is_base_of_v<Tagged, Node>) {
      const ErrorSink& sink = x3::get<error_sink_tag>(ctx).get();
      node.offset = static_cast<uint32_t>(first - sink.begin);
    }
  }
};

}  // namespace ruleeval::grafana::mathx3
