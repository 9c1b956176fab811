// Public entry points: parse(), parse_series_selector(), ParseError rendering.
#include <algorithm>

#include "promql_internal.hpp"

namespace ruleeval::promql {
namespace detail {
std::expected<ExprPtr, ParseError> parse_impl(std::string_view input, const ParseOptions& opts);
}  // namespace detail

std::expected<ExprPtr, ParseError> parse(std::string_view input, const ParseOptions& opts) {
  return detail::parse_impl(input, opts);
}

std::expected<ExprPtr, ParseError> parse_series_selector(std::string_view input) {
  auto r = detail::parse_impl(input, ParseOptions{});
  if (!r) return r;
  if (!(*r)->is<VectorSelector>()) {
    ParseError e;
    e.message = "expected a series selector such as metric{label=\"value\"}";
    e.span = (*r)->span;
    e.line = 1;
    e.col = (*r)->span.begin + 1;
    for (uint32_t i = 0; i < (*r)->span.begin && i < input.size(); ++i) {
      if (input[i] == '\n') {
        ++e.line;
        e.col = (*r)->span.begin - i;
      }
    }
    return std::unexpected(std::move(e));
  }
  return r;
}

std::string ParseError::to_string() const {
  return std::to_string(line) + ":" + std::to_string(col) + ": parse error: " + message;
}

std::string ParseError::render(std::string_view input) const {
  std::string out = to_string();
  out += '\n';
  size_t begin = std::min<size_t>(span.begin, input.size());
  size_t line_start = input.rfind('\n', begin == 0 ? std::string_view::npos : begin - 1);
  line_start = (line_start == std::string_view::npos || begin == 0) ? 0 : line_start + 1;
  if (begin > 0 && input[begin - 1] == '\n') line_start = begin;
  size_t line_end = input.find('\n', begin);
  if (line_end == std::string_view::npos) line_end = input.size();
  std::string_view line_text = input.substr(line_start, line_end - line_start);
  out += "  ";
  for (char c : line_text) out += (c == '\t') ? ' ' : c;
  out += "\n  ";
  out.append(begin - line_start, ' ');
  size_t width = 1;
  if (span.end > span.begin) {
    width = std::min<size_t>(span.end, line_end) - begin;
    if (width == 0) width = 1;
  }
  out += '^';
  if (width > 1) out.append(width - 1, '~');
  out += '\n';
  return out;
}

}  // namespace ruleeval::promql
