// Public entry points: parse(), parse_series_selector(), parse error formatting.
#include <algorithm>

#include "promql_internal.hpp"

namespace ruleeval::promql {
namespace detail {
Result<ExprPtr> parse_impl(std::string_view input, const ParseOptions& opts);
}  // namespace detail

Result<ExprPtr> parse(std::string_view input, const ParseOptions& opts) {
  return detail::parse_impl(input, opts);
}

Result<ExprPtr> parse_series_selector(std::string_view input) {
  auto r = detail::parse_impl(input, ParseOptions{});
  if (!r) return r;
  if (!(*r)->is<VectorSelector>()) {
    Error e = detail::parse_error_at(
        input, (*r)->span, "expected a series selector such as metric{label=\"value\"}");
    return std::unexpected(std::move(e));
  }
  return r;
}

std::string format_parse_error(const Error& e) {
  return std::to_string(e.where.line) + ":" + std::to_string(e.where.col) +
         ": parse error: " + e.message;
}

std::string render_parse_error(const Error& e, std::string_view input) {
  std::string out = format_parse_error(e);
  out += '\n';
  // The span's byte offsets, back from line and columns (parse_error_at).
  size_t start_of_line = 0;
  for (uint32_t l = 1; l < e.where.line; ++l) {
    size_t nl = input.find('\n', start_of_line);
    if (nl == std::string_view::npos) break;
    start_of_line = nl + 1;
  }
  const Span span{static_cast<uint32_t>(start_of_line + (e.where.col == 0 ? 0 : e.where.col - 1)),
                  e.where.end_col == 0
                      ? 0u
                      : static_cast<uint32_t>(start_of_line + e.where.end_col - 1)};
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
