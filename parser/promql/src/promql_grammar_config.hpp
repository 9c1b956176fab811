// What the PromQL grammar is instantiated for (config.hpp in Spirit X3's examples): the iterator,
// the skipper and the parse context, which carries the Builder the semantic actions fill.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "promql_builder.hpp"

namespace ruleeval::promql::detail::grammar {

namespace x3 = boost::spirit::x3;

// The skipper: whitespace and `#` comments, consumed in one call (a primitive X3 parser; the
// generic `space | '#' >> *(char_ - eol)` spent a fifth of the parse time in isspace()).
struct BlankParser : x3::parser<BlankParser> {
  using attribute_type = x3::unused_type;
  [[maybe_unused]] static bool const has_attribute = false;
  template <class Iterator, class Context, class RContext, class Attribute>
  bool parse(Iterator& first, const Iterator& last, const Context&, RContext&, Attribute&) const {
    Iterator i = first;
    while (i != last) {
      char c = *i;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (c == '#') {
        while (i != last && *i != '\n') ++i;
      } else {
        break;
      }
    }
    if (i == first) return false;
    first = i;
    return true;
  }
};
const BlankParser kBlank{};

struct builder_tag;

using iterator_type = It;
using phrase_context_type = x3::phrase_parse_context<BlankParser>::type;
using context_type = x3::context<builder_tag, Builder*, phrase_context_type>;

// The Builder of the parse, from a context inside the grammar.
template <class Ctx>
Builder& bld(const Ctx& ctx) {
  return *x3::get<builder_tag>(ctx);
}

}  // namespace ruleeval::promql::detail::grammar
