#include "ruleeval/rules/model.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace ruleeval::rules {

bool Threshold::matches(double v) const {
  switch (op) {
    case ThresholdOp::Above:
      return v > a;
    case ThresholdOp::Below:
      return v < a;
    case ThresholdOp::Equal:
      return v == a;
    case ThresholdOp::NotEqual:
      return v != a;
    case ThresholdOp::AboveOrEqual:
      return v >= a;
    case ThresholdOp::BelowOrEqual:
      return v <= a;
    case ThresholdOp::WithinRange:
      return v > a && v < b;
    case ThresholdOp::OutsideRange:
      return v < a || v > b;
    case ThresholdOp::WithinRangeIncluded:
      return v >= a && v <= b;
    case ThresholdOp::OutsideRangeIncluded:
      return v <= a || v >= b;
  }
  return false;
}

bool Rule::check_disabled(std::string_view check) const {
  return std::any_of(disabled_checks.begin(), disabled_checks.end(), [&](const std::string& c) {
    // `alerts` disables every alerts/* check; `all` disables everything.
    return c == check || c == "all" ||
           (check.size() > c.size() && check.starts_with(c) && check[c.size()] == '/');
  });
}

void RuleFile::index_lines() {
  line_starts.clear();
  line_starts.push_back(0);
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  for (const char* p = begin; p < end;) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    if (nl == nullptr) break;
    line_starts.push_back(static_cast<uint32_t>(nl - begin + 1));
    p = nl + 1;
  }
}

std::string_view RuleFile::line_text(uint32_t line) const {
  if (line == 0 || line > line_starts.size()) return {};
  const size_t begin = line_starts[line - 1];
  size_t end = line < line_starts.size() ? line_starts[line] - 1 : text.size();
  if (end > begin && text[end - 1] == '\r') --end;
  return std::string_view(text).substr(begin, end - begin);
}

size_t RuleFile::rule_count() const {
  size_t n = 0;
  for (const auto& g : groups) n += g.rules.size();
  return n;
}

namespace {
constexpr std::array<std::pair<std::string_view, Reducer>, 15> kReducers = {{
    {"avg", Reducer::Avg},
    {"mean", Reducer::Avg},
    {"min", Reducer::Min},
    {"max", Reducer::Max},
    {"sum", Reducer::Sum},
    {"count", Reducer::Count},
    {"last", Reducer::Last},
    {"median", Reducer::Median},
    {"diff", Reducer::Diff},
    {"diff_abs", Reducer::DiffAbs},
    {"percent_diff", Reducer::PercentDiff},
    {"percent_diff_abs", Reducer::PercentDiffAbs},
    {"count_non_null", Reducer::CountNonNull},
    {"average", Reducer::Avg},
    {"total", Reducer::Sum},
}};
}  // namespace

std::optional<Reducer> parse_reducer(std::string_view s) {
  for (const auto& [name, r] : kReducers) {
    if (name == s) return r;
  }
  return std::nullopt;
}

std::string_view to_string(Reducer r) {
  for (const auto& [name, red] : kReducers) {
    if (red == r) return name;
  }
  return "?";
}

std::optional<NoDataState> parse_no_data_state(std::string_view s) {
  if (s == "ok" || s == "OK") return NoDataState::Ok;
  if (s == "alerting" || s == "Alerting") return NoDataState::Alerting;
  if (s == "nodata" || s == "NoData") return NoDataState::NoData;
  if (s == "keep_last" || s == "KeepLast") return NoDataState::KeepLast;
  return std::nullopt;
}

std::optional<ErrorState> parse_error_state(std::string_view s) {
  if (s == "error" || s == "Error") return ErrorState::Error;
  if (s == "alerting" || s == "Alerting") return ErrorState::Alerting;
  if (s == "ok" || s == "OK") return ErrorState::Ok;
  if (s == "keep_last" || s == "KeepLast") return ErrorState::KeepLast;
  return std::nullopt;
}

std::string_view to_string(ThresholdOp op) {
  switch (op) {
    case ThresholdOp::Above:
      return "above";
    case ThresholdOp::Below:
      return "below";
    case ThresholdOp::Equal:
      return "equal";
    case ThresholdOp::NotEqual:
      return "not_equal";
    case ThresholdOp::AboveOrEqual:
      return "above_or_equal";
    case ThresholdOp::BelowOrEqual:
      return "below_or_equal";
    case ThresholdOp::WithinRange:
      return "within_range";
    case ThresholdOp::OutsideRange:
      return "outside_range";
    case ThresholdOp::WithinRangeIncluded:
      return "within_range_included";
    case ThresholdOp::OutsideRangeIncluded:
      return "outside_range_included";
  }
  return "?";
}

namespace {
// Leading spaces of 1-based line `line` of text (0 if the line does not exist).
uint32_t indent_of_line(std::string_view text, uint32_t line) {
  size_t off = 0;
  for (uint32_t l = 1; l < line; ++l) {
    off = text.find('\n', off);
    if (off == std::string_view::npos) return 0;
    ++off;
  }
  uint32_t n = 0;
  while (off + n < text.size() && text[off + n] == ' ') ++n;
  return n;
}
}  // namespace

namespace {
template <class IndentOf>
Pos map_scalar(const Scalar& s, IndentOf indent_of, uint32_t line, uint32_t col) {
  if (!s.pos.known()) return s.pos;
  if (line == 0) line = 1;
  if (col == 0) col = 1;
  switch (s.style) {
    case ScalarStyle::Literal:
    case ScalarStyle::Folded: {
      // The block's indentation is that of its first line.
      const uint32_t indent = indent_of(s.pos.line + 1);
      uint32_t value_lines = 1;
      for (char c : s.value) value_lines += c == '\n' ? 1 : 0;
      if (!s.value.empty() && s.value.back() == '\n') --value_lines;
      if (line > value_lines) line = value_lines;  // "end of input" points at the last line
      const uint32_t file_line = s.style == ScalarStyle::Literal ? s.pos.line + line : s.pos.line + 1;
      return Pos{file_line, indent + col};
    }
    case ScalarStyle::SingleQuoted:
    case ScalarStyle::DoubleQuoted:
      return line == 1 ? Pos{s.pos.line, s.pos.col + col} : s.pos;
    case ScalarStyle::Plain:
      return line == 1 ? Pos{s.pos.line, s.pos.col + col - 1} : s.pos;
  }
  return s.pos;
}
}  // namespace

Pos map_into_scalar(const Scalar& s, std::string_view file_text, uint32_t line, uint32_t col) {
  return map_scalar(s, [&](uint32_t l) { return indent_of_line(file_text, l); }, line, col);
}

Pos map_into_scalar(const Scalar& s, const RuleFile& file, uint32_t line, uint32_t col) {
  if (file.line_starts.empty()) return map_into_scalar(s, file.text, line, col);
  return map_scalar(
      s,
      [&](uint32_t l) {
        std::string_view t = file.line_text(l);
        uint32_t n = 0;
        while (n < t.size() && t[n] == ' ') ++n;
        return n;
      },
      line, col);
}

}  // namespace ruleeval::rules
