#include "ruleeval/engine/load_notation.hpp"

#include "ruleeval/common/excerpt.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>

#include <fmt/format.h>

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
// Histogram samples are much larger than floats: a lower bound keeps `{{...}}xN` from exhausting
// memory (Prometheus has no limit, but then its tests never come near this).
constexpr uint64_t kMaxHistogramExpansion = 1'000'000;

Error bad(std::string_view tok, std::string_view why) {
  return Error("invalid series value \"" + std::string(tok) + "\": " + std::string(why));
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

Error bad_hist(size_t column, std::string_view why) {
  return Error(fmt::format("invalid native histogram at column {}: {}", column, why));
}

std::string quote_snippet(std::string_view s) { return excerpt(s.substr(0, std::min<size_t>(s.size(), 20))); }

}  // namespace

Result<FloatHistogram> parse_histogram_literal(std::string_view text, size_t& pos, bool* hint_set,
                                               size_t column_base) {
  size_t i = pos;
  auto col = [&](size_t at) { return column_base + at + 1; };
  auto err = [&](size_t at, const std::string& why) { return std::unexpected(bad_hist(col(at), why)); };
  if (text.compare(i, 2, "{{") != 0) return err(i, "expected \"{{\"");
  i += 2;
  FloatHistogram h;
  bool have_hint = false;
  std::unordered_set<std::string_view> seen;
  auto skip_ws = [&] {
    while (i < text.size() && is_space(text[i])) ++i;
  };
  // A number token runs up to a blank, ']' or '}'.
  auto number_token = [&]() {
    size_t b = i;
    while (i < text.size() && !is_space(text[i]) && text[i] != ']' && text[i] != '}' &&
           text[i] != '[') {
      ++i;
    }
    return text.substr(b, i - b);
  };
  auto parse_float = [&](bool allow_sign) -> Result<double> {
    size_t b = i;
    auto tok = number_token();
    if (tok.empty()) return err(b, "expected a number");
    if (!allow_sign && (tok[0] == '+' || tok[0] == '-')) {
      return err(b, fmt::format("\"{}\" must not be signed", tok));
    }
    auto v = parse_number(tok);
    if (!v) return err(b, fmt::format("\"{}\" is not a number", tok));
    return *v;
  };
  auto parse_int = [&]() -> Result<int32_t> {
    size_t b = i;
    auto tok = number_token();
    std::string_view digits = tok;
    bool neg = !digits.empty() && digits[0] == '-';
    if (neg) digits.remove_prefix(1);
    int64_t n = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || !std::isdigit(static_cast<unsigned char>(digits[0])) ||
        ec != std::errc() || p != digits.data() + digits.size()) {
      return err(b, fmt::format("\"{}\" is not an integer", tok));
    }
    if (neg) n = -n;
    if (n < INT32_MIN || n > INT32_MAX) return err(b, fmt::format("{} is out of range", tok));
    return static_cast<int32_t>(n);
  };
  auto parse_list = [&]() -> Result<std::vector<double>> {
    if (i >= text.size() || text[i] != '[') return err(i, "expected \"[\"");
    ++i;
    std::vector<double> out;
    while (true) {
      skip_ws();
      if (i >= text.size()) return err(i, "unclosed \"[\"");
      if (text[i] == ']') {
        if (out.empty()) return err(i, "empty bucket list");
        ++i;
        return out;
      }
      auto v = parse_float(true);
      if (!v) return std::unexpected(v.error());
      out.push_back(*v);
      if (i < text.size() && !is_space(text[i]) && text[i] != ']') {
        return err(i, fmt::format("unexpected \"{}\" in bucket list", text[i]));
      }
    }
  };
  int32_t pos_offset = 0, neg_offset = 0;
  while (true) {
    skip_ws();
    if (i >= text.size()) return err(pos, "unclosed \"{{\"");
    if (text.compare(i, 2, "}}") == 0) {
      i += 2;
      break;
    }
    size_t key_at = i;
    while (i < text.size() && (std::isalpha(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
    std::string_view key = text.substr(key_at, i - key_at);
    if (key.empty()) {
      return err(key_at, fmt::format("unexpected \"{}\", expected a histogram field",
                                     quote_snippet(text.substr(key_at))));
    }
    static constexpr std::string_view kKeys[] = {
        "schema", "sum", "count", "z_bucket", "z_bucket_w", "custom_values", "buckets", "offset",
        "n_buckets", "n_offset", "counter_reset_hint"};
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      return err(key_at, fmt::format("unknown histogram field \"{}\"", key));
    }
    if (i >= text.size() || text[i] != ':') {
      return err(i, fmt::format("expected \":\" after \"{}\"", key));
    }
    ++i;
    if (!seen.insert(key).second) {
      return err(key_at, fmt::format("duplicate key \"{}\" in histogram", key));
    }
    Result<void> ok;
    auto set_float = [&](double& dst, bool allow_sign) {
      auto v = parse_float(allow_sign);
      if (!v) return Result<void>(std::unexpected(v.error()));
      dst = *v;
      return Result<void>();
    };
    auto set_int = [&](int32_t& dst) {
      auto v = parse_int();
      if (!v) return Result<void>(std::unexpected(v.error()));
      dst = *v;
      return Result<void>();
    };
    auto set_list = [&](std::vector<double>& dst) {
      auto v = parse_list();
      if (!v) return Result<void>(std::unexpected(v.error()));
      dst = std::move(*v);
      return Result<void>();
    };
    if (key == "schema") {
      size_t at = i;
      ok = set_int(h.schema);
      if (ok && h.schema != kCustomBucketsSchema && (h.schema < -4 || h.schema > 8)) {
        return err(at, fmt::format("schema {} is not supported (-4 to 8, or -53 for custom buckets)",
                                   h.schema));
      }
    } else if (key == "sum") {
      ok = set_float(h.sum, true);
    } else if (key == "count") {
      ok = set_float(h.count, true);
    } else if (key == "z_bucket") {
      ok = set_float(h.zero_count, true);
    } else if (key == "z_bucket_w") {
      ok = set_float(h.zero_threshold, false);
    } else if (key == "custom_values") {
      ok = set_list(h.custom_values);
    } else if (key == "buckets") {
      ok = set_list(h.positive_buckets);
    } else if (key == "n_buckets") {
      ok = set_list(h.negative_buckets);
    } else if (key == "offset") {
      ok = set_int(pos_offset);
    } else if (key == "n_offset") {
      ok = set_int(neg_offset);
    } else {
      size_t b = i;
      while (i < text.size() && (std::isalpha(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
      auto v = text.substr(b, i - b);
      have_hint = true;
      if (v == "unknown") h.hint = CounterResetHint::kUnknown;
      else if (v == "reset") h.hint = CounterResetHint::kReset;
      else if (v == "not_reset") h.hint = CounterResetHint::kNotReset;
      else if (v == "gauge") h.hint = CounterResetHint::kGauge;
      else return err(b, fmt::format("unknown counter_reset_hint \"{}\" (reset, not_reset, gauge or unknown)",
                                     quote_snippet(text.substr(b))));
    }
    if (!ok) return std::unexpected(ok.error());
    if (i < text.size() && !is_space(text[i]) && text.compare(i, 2, "}}") != 0) {
      return err(i, fmt::format("unexpected \"{}\" after \"{}\"", text[i], key));
    }
  }
  if (!h.positive_buckets.empty()) h.positive_offset = pos_offset;
  if (!h.negative_buckets.empty()) h.negative_offset = neg_offset;
  if (h.uses_custom_buckets() && !h.negative_buckets.empty()) {
    return err(pos, "custom-buckets histograms have no negative buckets");
  }
  if (hint_set) *hint_set = have_hint;
  pos = i;
  return h;
}

Result<ExpandedValues> expand_values(std::string_view text, size_t column_base) {
  ExpandedValues out;
  std::vector<std::pair<size_t, HistogramPtr>> hists;
  std::vector<size_t> hint_steps;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  while (true) {
    skip_ws();
    if (i >= text.size()) break;
    if (text.compare(i, 2, "{{") == 0) {
      // Native histogram(s): {{a}} | {{a}}xN | {{a}}+{{b}}xN | {{a}}-{{b}}xN
      size_t b = i;
      bool a_hint = false, b_hint = false;
      auto base = parse_histogram_literal(text, i, &a_hint, column_base);
      if (!base) return std::unexpected(base.error());
      std::optional<FloatHistogram> inc;
      bool subtract = false;
      if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
        subtract = text[i] == '-';
        ++i;
        if (text.compare(i, 2, "{{") != 0) {
          return std::unexpected(bad_hist(column_base + i + 1, "expected a histogram after \"+\" or \"-\""));
        }
        auto r = parse_histogram_literal(text, i, &b_hint, column_base);
        if (!r) return std::unexpected(r.error());
        inc = std::move(*r);
      }
      uint64_t times = 0;
      bool have_times = false;
      if (i < text.size() && text[i] == 'x') {
        size_t nb = ++i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
        auto n = parse_count(text.substr(nb, i - nb));
        if (!n) return std::unexpected(bad_hist(column_base + nb + 1, "expected a repeat count after \"x\""));
        if (*n >= kMaxHistogramExpansion) {
          return std::unexpected(bad_hist(column_base + nb + 1,
                                          fmt::format("repeat count {} is too large (at most {})", *n,
                                                      kMaxHistogramExpansion - 1)));
        }
        times = *n;
        have_times = true;
      }
      if (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) {
        return std::unexpected(bad_hist(column_base + i + 1,
                                        fmt::format("unexpected \"{}\" after histogram", text[i])));
      }
      if (inc && !have_times) {
        return std::unexpected(bad_hist(column_base + b + 1,
                                        "a histogram increment needs a repeat count, e.g. {{a}}+{{b}}x3"));
      }
      auto cur = std::make_shared<FloatHistogram>(std::move(*base));
      bool hint_flag = inc ? b_hint : a_hint;
      auto push = [&](HistogramPtr p) {
        if (hint_flag) hint_steps.push_back(out.values.size());
        hists.emplace_back(out.values.size(), std::move(p));
        out.values.emplace_back(histogram_marker());
      };
      push(cur);
      for (uint64_t k = 0; k < times; ++k) {
        if (!inc) {
          push(cur);
          continue;
        }
        if (cur->schema > inc->schema) {
          return std::unexpected(bad_hist(column_base + b + 1,
                                          fmt::format("error combining histograms: cannot merge from "
                                                      "schema {} to {}",
                                                      inc->schema, cur->schema)));
        }
        auto next = std::make_shared<FloatHistogram>(*cur);
        if (auto r = histogram_add(*next, *inc, subtract); !r) {
          return std::unexpected(bad_hist(column_base + b + 1,
                                          "error combining histograms: " + r.error().message));
        }
        cur = std::move(next);
        push(cur);
      }
      continue;
    }
    size_t b = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view tok = text.substr(b, i - b);
    if (tok == "_") {
      out.values.emplace_back(std::nullopt);
      continue;
    }
    if (tok == "stale") {
      out.values.emplace_back(stale_nan());
      continue;
    }
    auto x = tok.rfind('x');
    if (x == std::string_view::npos || x == 0 || x + 1 == tok.size() ||
        !std::isdigit(static_cast<unsigned char>(tok[x + 1]))) {
      auto v = parse_number(tok);
      if (!v) return std::unexpected(bad(tok, "not a number"));
      out.values.emplace_back(*v);
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
      out.values.emplace_back(start + delta * static_cast<double>(k));
    }
  }
  if (!hists.empty()) {
    out.num_histograms = hists.size();
    out.histograms.resize(out.values.size());
    out.hint_set.resize(out.values.size());
    for (auto& [step, h] : hists) out.histograms[step] = std::move(h);
    for (size_t step : hint_steps) out.hint_set[step] = true;
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
  auto vals = expand_values(line.substr(i), i);
  if (!vals) return std::unexpected(vals.error());
  return SeriesSpec{Labels::from_vector(std::move(labels)), std::move(*vals)};
}

void load_series(Storage& storage, const SeriesSpec& spec, Millis start, Millis interval) {
  const auto& vals = spec.values;
  for (size_t k = 0; k < vals.values.size(); ++k) {
    const auto& v = vals.values[k];
    if (!v) continue;
    Millis t = start + static_cast<Millis>(k) * interval;
    if (k < vals.histograms.size() && vals.histograms[k]) {
      storage.append_histogram(spec.labels, t, vals.histograms[k]);
    } else {
      storage.append(spec.labels, t, *v);
    }
  }
}

}  // namespace ruleeval::engine
