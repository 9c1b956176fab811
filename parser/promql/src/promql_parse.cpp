// parse(): runs the PromQL grammar (promql_grammar.hpp) over the text, then the checker; turns what
// the error handler recorded, a semantic Failure or an unconsumed rest into an Error (kind kParse).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "promql_grammar.hpp"

namespace ruleeval::promql {
namespace detail {

using grammar::Builder;
using grammar::builder_tag;
using grammar::expression;
using grammar::It;
using grammar::Item;
using grammar::kBlank;
namespace x3 = boost::spirit::x3;

Error parse_error_at(std::string_view input, Span span, std::string message) {
  uint32_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < span.begin && i < input.size(); ++i) {
    if (input[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  SourceLocation at;
  at.line = line;
  at.col = static_cast<uint32_t>(span.begin - line_start + 1);
  if (span.end > span.begin) at.end_col = at.col + (span.end - span.begin);
  return Error(ErrorKind::kParse, std::move(message), std::move(at));
}

namespace {

Error unexpected_at(std::string_view input, size_t pos, const std::string& expected) {
  pos = skip_blank(input, pos);
  size_t len = 0;
  std::string tok = describe_token(input, pos, &len);
  std::string msg;
  std::string expected_text = expected;
  if (expected_text.find("boost") != std::string::npos) expected_text.clear();
  if (expected == "closing quote") {
    msg = "unterminated quoted string";
  } else if (expected == "closing backtick") {
    msg = "unterminated raw string";
  } else if (tok.starts_with("character: ") || expected == "end of input") {
    msg = "unexpected " + tok;
  } else {
    msg = "unexpected " + tok;
    if (!expected_text.empty()) msg += ", expected " + expected_text;
  }
  return parse_error_at(input, make_span(pos, pos + len), std::move(msg));
}

}  // namespace

Result<ExprPtr> parse_impl(std::string_view input, const ParseOptions& opts) {
  if (input.size() > 0xFFFFFFF0u) {
    return std::unexpected(parse_error_at(input, Span{}, "input too large"));
  }
  if (skip_blank(input, 0) >= input.size()) {
    return std::unexpected(
        parse_error_at(input, make_span(input.size(), input.size()), "no expression found in input"));
  }
  Builder b;
  b.input = input;
  b.opts = opts;
  // The operand stack's storage is kept between a thread's parses: a fresh 16-item block (~2 KB,
  // past malloc's per-thread cache) for each of a 10,000-rule file's expressions showed in
  // lint's profile.
  thread_local std::vector<Item> spare;
  struct KeepStorage {
    std::vector<Item>& items;
    std::vector<Item>& spare;
    ~KeepStorage() {
      items.clear();
      if (items.capacity() <= 1024) spare.swap(items);
    }
  } keep{b.items, spare};
  b.items.swap(spare);
  b.items.reserve(16);
  It first = input.data();
  It last = input.data() + input.size();
  auto const& skipper = kBlank;
  try {
    auto const grammar = x3::with<builder_tag>(&b)[expression()];
    bool ok = x3::phrase_parse(first, last, grammar, skipper);
    if (!ok) {
      if (b.have_expect_error) {
        return std::unexpected(unexpected_at(input, b.expect_pos, b.expect_what));
      }
      return std::unexpected(unexpected_at(input, static_cast<size_t>(first - input.data()), ""));
    }
    if (b.items.size() != 1 || b.items.back().kind != Item::Kind::Operand || !b.items[0].expr) {
      return std::unexpected(parse_error_at(input, Span{}, "internal error: unbalanced parse"));
    }
    ExprPtr e = std::move(b.items[0].expr);
    check(input, *e);
    return e;
  } catch (const Failure& f) {
    return std::unexpected(parse_error_at(input, f.span, f.message));
  } catch (const x3::expectation_failure<It>& x) {
    return std::unexpected(
        unexpected_at(input, static_cast<size_t>(x.where() - input.data()), x.which()));
  }
}

}  // namespace detail
}  // namespace ruleeval::promql
