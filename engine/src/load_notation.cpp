#include "ruleeval/engine/load_notation.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "ruleeval/parser/promql.hpp"

namespace ruleeval::engine {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// A number as Prometheus's lexer accepts it in series values.
std::optional<double> parse_number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view body = s;
  double sign = 1;
  if (body[0] == '+' || body[0] == '-') {
    if (body[0] == '-') sign = -1;
    body.remove_prefix(1);
  }
  if (iequals(body, "inf")) return sign * std::numeric_limits<double>::infinity();
  if (iequals(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
  if (body.empty()) return std::nullopt;
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
    uint64_t u = 0;
    auto [p, ec] = std::from_chars(body.data() + 2, body.data() + body.size(), u, 16);
    if (ec != std::errc() || p != body.data() + body.size()) return std::nullopt;
    return sign * static_cast<double>(u);
  }
  std::string tmp(body);
  char* end = nullptr;
  double v = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return std::nullopt;
  if (std::isnan(v) || std::isinf(v)) return std::nullopt;  // only the spelled-out forms
  return sign * v;
}

std::optional<uint64_t> parse_count(std::string_view s) {
  uint64_t n = 0;
  if (s.empty()) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

constexpr uint64_t kMaxExpansion = 10'000'000;

Error bad(std::string_view tok, std::string_view why) {
  return Error("invalid series value \"" + std::string(tok) + "\": " + std::string(why));
}

}  // namespace

Result<ExpandedValues> expand_values(std::string_view text) {
  ExpandedValues out;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  while (true) {
    skip_ws();
    if (i >= text.size()) break;
    if (text.compare(i, 2, "{{") == 0) {
      // Native histogram(s): {{...}} [(+|-){{...}}] [xN]
      size_t steps = 1;
      while (true) {
        auto close = text.find("}}", i);
        if (close == std::string_view::npos) return std::unexpected(bad(text.substr(i), "unclosed {{"));
        i = close + 2;
        if (i < text.size() && (text[i] == '+' || text[i] == '-') &&
            text.compare(i + 1, 2, "{{") == 0) {
          i += 1;
          continue;
        }
        break;
      }
      if (i < text.size() && text[i] == 'x') {
        size_t b = ++i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
        auto n = parse_count(text.substr(b, i - b));
        if (!n || *n > kMaxExpansion) return std::unexpected(bad(text.substr(b), "bad repeat count"));
        steps = *n + 1;
      }
      out.histograms += steps;
      out.values.insert(out.values.end(), steps, histogram_marker());
      continue;
    }
    size_t b = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view tok = text.substr(b, i - b);
    if (tok == "_") {
      out.values.push_back(std::nullopt);
      continue;
    }
    if (tok == "stale") {
      out.values.push_back(stale_nan());
      continue;
    }
    auto x = tok.rfind('x');
    if (x == std::string_view::npos || x == 0 || x + 1 == tok.size() ||
        !std::isdigit(static_cast<unsigned char>(tok[x + 1]))) {
      auto v = parse_number(tok);
      if (!v) return std::unexpected(bad(tok, "not a number"));
      out.values.push_back(*v);
      continue;
    }
    auto n = parse_count(tok.substr(x + 1));
    if (!n || *n > kMaxExpansion) return std::unexpected(bad(tok, "bad repeat count"));
    std::string_view head = tok.substr(0, x);
    if (head == "_") {
      out.values.insert(out.values.end(), *n, std::nullopt);
      continue;
    }
    if (head == "stale") {
      out.values.insert(out.values.end(), *n + 1, stale_nan());
      continue;
    }
    // head is `a`, `a+b` or `a-b`; the operator is the first +/- after the first character that
    // is not part of an exponent.
    size_t op = std::string_view::npos;
    for (size_t k = 1; k < head.size(); ++k) {
      if ((head[k] == '+' || head[k] == '-') && head[k - 1] != 'e' && head[k - 1] != 'E') {
        op = k;
        break;
      }
    }
    double start, delta = 0;
    if (op == std::string_view::npos) {
      auto v = parse_number(head);
      if (!v) return std::unexpected(bad(tok, "not a number"));
      start = *v;
    } else {
      auto a = parse_number(head.substr(0, op));
      auto d = parse_number(head.substr(op + 1));
      if (!a || !d) return std::unexpected(bad(tok, "not a number"));
      start = *a;
      delta = head[op] == '-' ? -*d : *d;
    }
    for (uint64_t k = 0; k <= *n; ++k) {
      out.values.push_back(start + delta * static_cast<double>(k));
    }
  }
  return out;
}

Result<SeriesSpec> parse_series_line(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  size_t b = i;
  // The selector ends after its closing brace, or at the first blank if it has none.
  bool in_braces = false;
  char quote = 0;
  for (; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == '\\' && quote != '`') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (in_braces) {
      if (c == '"' || c == '\'' || c == '`') {
        quote = c;
      } else if (c == '}') {
        ++i;
        break;
      }
      continue;
    }
    if (c == '{') {
      in_braces = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      break;
    }
  }
  std::string_view sel = line.substr(b, i - b);
  if (sel.empty()) return make_error("missing series selector");
  auto parsed = promql::parse_series_selector(sel);
  if (!parsed) {
    return make_error("invalid series \"" + std::string(sel) + "\": " + parsed.error().message);
  }
  const auto* vs = (*parsed)->as<promql::VectorSelector>();
  if (!vs) return make_error("invalid series \"" + std::string(sel) + "\"");
  std::vector<Label> labels;
  for (const auto& m : vs->matchers) {
    if (m.op != promql::MatchOp::Equal) {
      return make_error("invalid series \"" + std::string(sel) + "\": only = matchers allowed");
    }
    labels.push_back({m.name, m.value});
  }
  auto vals = expand_values(line.substr(i));
  if (!vals) return std::unexpected(vals.error());
  return SeriesSpec{Labels::from_vector(std::move(labels)), std::move(*vals)};
}

void load_series(Storage& storage, const SeriesSpec& spec, Millis start, Millis interval) {
  for (size_t k = 0; k < spec.values.values.size(); ++k) {
    const auto& v = spec.values.values[k];
    if (v) storage.append(spec.labels, start + static_cast<Millis>(k) * interval, *v);
  }
  storage.note_skipped_histogram(spec.values.histograms);
}

}  // namespace ruleeval::engine
