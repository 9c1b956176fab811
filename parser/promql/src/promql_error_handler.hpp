// Errors of the PromQL grammar (error_handler.hpp in Spirit X3's examples). Expectation points
// (`>`) raise x3::expectation_failure, which the top rule's handler records; semantic errors are
// thrown as detail::Failure by the actions. parse() turns either, or a rest the grammar did not
// consume, into an Error (kind kParse) with Prometheus's message and position (promql_parse.cpp).
#pragma once

#include <cstddef>

#include "promql_grammar_config.hpp"

namespace ruleeval::promql::detail::grammar {

// The error handler of the outermost rule: remember where an expectation failed and what was
// expected; parse() turns it into an Error.
struct error_handler_base {
  template <class Iterator, class Exception, class Context>
  x3::error_handler_result on_error(Iterator&, const Iterator&, const Exception& x,
                                    const Context& ctx) {
    auto& b = bld(ctx);
    b.have_expect_error = true;
    b.expect_pos = static_cast<size_t>(x.where() - b.input.data());
    b.expect_what = x.which();
    return x3::error_handler_result::fail;
  }
};

}  // namespace ruleeval::promql::detail::grammar
