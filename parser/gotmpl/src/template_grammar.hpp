// Private: the Spirit X3 grammar of Go text/template and its X3-side AST. The grammar reads the
// text as a flat list of items (text runs and {{actions}}); template_parse.cpp lowers that list
// into the nested public tree, checking nesting, variables and function names.
#pragma once

#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/optional.hpp>
#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace ruleeval::tmpl::grammar {

namespace x3 = boost::spirit::x3;

// A term: tag says what it is, text carries its source/name.
//   '.' dot   'f' field (text = first field name)   '$' variable (text = name without '$')
//   'i' identifier   '"' quoted string (text with quotes)   '`' raw string (text with quotes)
//   '\'' char constant (with quotes)   'n' number   'b' bool   '0' nil
struct Tagged {
  char tag = 0;
  std::string text;
};

struct PipelineX;

struct OperandX {
  uint32_t pos = 0;
  x3::variant<Tagged, x3::forward_ast<PipelineX>> term;
  std::vector<std::string> fields;
};

struct DeclX {
  std::vector<std::string> vars;  // "$" or "$name"
  std::string op;                 // ":=" or "="
};

using CommandX = std::vector<OperandX>;

struct PipelineX {
  uint32_t pos = 0;
  boost::optional<DeclX> decl;
  std::vector<CommandX> cmds;
};

// if, elseif, elsewith, else, end, range, with, define, template, block, break, continue,
// comment. `name` is the quoted template name for define/template/block.
struct KeywordX {
  std::string kw;
  std::string name;
  PipelineX pipe;  // empty cmds when the keyword takes none
};

struct ActionX {
  uint32_t pos = 0;      // of "{{"
  uint32_t end_pos = 0;  // just past "}}"
  bool trim_left = false;
  x3::variant<KeywordX, PipelineX> body;
  bool trim_right = false;
};

struct TextX {
  uint32_t pos = 0;
  std::string text;
  char unused = 0;
};

using ItemX = x3::variant<TextX, ActionX>;
using ItemsX = std::vector<ItemX>;

// Parses the whole text. Throws x3::expectation_failure<const char*> on a syntax error; returns
// false when the input is not fully consumed (the caller reports the stop position).
bool parse_items(const char* first, const char* last, ItemsX& out, const char*& stop);
// The same, with item positions counted from `base` (<= first) instead of `first`.
bool parse_items(const char* base, const char* first, const char* last, ItemsX& out,
                 const char*& stop);

}  // namespace ruleeval::tmpl::grammar

BOOST_FUSION_ADAPT_STRUCT(ruleeval::tmpl::grammar::Tagged, tag, text)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::tmpl::grammar::OperandX, term, fields)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::tmpl::grammar::DeclX, vars, op)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::tmpl::grammar::PipelineX, decl, cmds)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::tmpl::grammar::KeywordX, kw, name, pipe)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::tmpl::grammar::ActionX, trim_left, body, trim_right)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::tmpl::grammar::TextX, text, unused)
