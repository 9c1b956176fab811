#include "ruleeval/engine/promqltest.hpp"
#include "ruleeval/engine/nhcb.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"

namespace ruleeval::engine {

bool almost_equal(double a, double b, double epsilon) {
  constexpr double kMinNormal = 2.2250738585072014e-308;
  if (is_stale_nan(a) || is_stale_nan(b)) return is_stale_nan(a) && is_stale_nan(b);
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  double abs_sum = std::fabs(a) + std::fabs(b);
  double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < epsilon;
}

namespace {

constexpr Millis kMinute = 60'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool starts_with_word(std::string_view s, std::string_view w) {
  return s.size() >= w.size() && s.substr(0, w.size()) == w &&
         (s.size() == w.size() || s[w.size()] == ' ' || s[w.size()] == '\t');
}

// Splits off the first whitespace-separated word.
std::string_view next_word(std::string_view& s) {
  s = trim(s);
  size_t i = 0;
  while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
  auto w = s.substr(0, i);
  s = trim(s.substr(i));
  return w;
}

std::optional<Millis> parse_time(std::string_view s) {
  if (auto d = parse_duration(s)) return *d;
  std::string tmp(s);
  char* end = nullptr;
  double v = std::strtod(tmp.c_str(), &end);
  if (tmp.empty() || end != tmp.c_str() + tmp.size() || !std::isfinite(v)) return std::nullopt;
  return seconds_to_ms_rounded(v);
}

std::string fmt_num(double v) {
  if (std::isnan(v)) return is_stale_nan(v) ? "stale" : "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

struct MsgMatch {
  bool regex = false;
  std::string text;
  bool matches(const std::string& s) const {
    if (!regex) return s == text;
    RE2 re(text);
    return re.ok() && RE2::PartialMatch(s, re);
  }
};

struct Expected {
  Labels labels;
  std::vector<std::optional<double>> vals;
  size_t pos = 0;  // 1-based position, for `ordered`
  std::vector<HistogramPtr> hists;  // as ExpandedValues::histograms
  std::vector<bool> hint_set;
  const FloatHistogram* hist(size_t i) const { return i < hists.size() ? hists[i].get() : nullptr; }
};

// promqltest's compareNativeHistogram: both compacted, numbers almost equal, the counter-reset
// hint compared only when the expectation spelled it.
bool histograms_match(const FloatHistogram& want, const FloatHistogram& got, bool hint_set) {
  FloatHistogram a = want, b = got;
  histogram_compact(a);
  histogram_compact(b);
  auto eq = [](double x, double y) { return almost_equal(x, y, 1e-6); };
  auto list_eq = [&](const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!eq(x[i], y[i])) return false;
    }
    return true;
  };
  if (hint_set && a.hint != b.hint) return false;
  return a.schema == b.schema && eq(a.count, b.count) && eq(a.sum, b.sum) &&
         eq(a.zero_count, b.zero_count) && a.zero_threshold == b.zero_threshold &&
         a.custom_values == b.custom_values && a.positive_offset == b.positive_offset &&
         list_eq(a.positive_buckets, b.positive_buckets) &&
         a.negative_offset == b.negative_offset && list_eq(a.negative_buckets, b.negative_buckets);
}

struct EvalCmd {
  uint32_t line = 0;
  std::string expr;
  bool range = false;
  Millis start = 0, end = 0, step = 0;
  bool fail = false;
  std::vector<MsgMatch> fail_msgs;
  bool warn = false, info = false, no_warn = false, no_info = false, ordered = false;
  std::vector<MsgMatch> warn_msgs, info_msgs;
  bool expect_scalar = false;
  double scalar = 0;
  std::optional<std::string> expect_string;
  bool expect_matrix = false;
  Millis mat_start = 0, mat_end = 0, mat_step = 0;
  std::vector<Expected> expected;
  std::unordered_map<uint64_t, size_t> by_hash;
};

std::optional<MsgMatch> parse_msg_match(std::string_view rest) {
  rest = trim(rest);
  if (rest.empty()) return std::nullopt;
  MsgMatch m;
  if (rest.starts_with("msg:")) {
    rest.remove_prefix(4);
  } else if (rest.starts_with("regex:")) {
    rest.remove_prefix(6);
    m.regex = true;
  } else {
    return std::nullopt;
  }
  rest = trim(rest);
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') {
    rest = rest.substr(1, rest.size() - 2);
  }
  m.text = std::string(rest);
  return m;
}

class Runner {
 public:
  Runner(std::string_view file, std::string_view content, const PromqlTestOptions& opts)
      : opts_(opts) {
    report_.file = std::string(file);
    size_t b = 0;
    while (b <= content.size()) {
      auto e = content.find('\n', b);
      if (e == std::string_view::npos) e = content.size();
      auto l = trim(content.substr(b, e - b));
      if (l.starts_with("#")) l = {};
      lines_.push_back(l);
      b = e + 1;
    }
  }

  PromqlTestReport run() {
    for (size_t i = 0; i < lines_.size(); ++i) {
      auto l = lines_[i];
      if (l.empty()) continue;
      auto line_no = static_cast<uint32_t>(i + 1);
      if (l == "clear") {
        storage_.clear();
      } else if (starts_with_word(l, "load") || starts_with_word(l, "load_with_nhcb")) {
        i = do_load(i);
      } else if (l.starts_with("eval")) {
        EvalCmd cmd;
        auto next = parse_eval(i, cmd);
        if (!next) {
          problem(line_no, "", next.error().message);
          i = skip_block(i);
          continue;
        }
        i = *next;
        if (opts_.skip_lines.contains(line_no)) {
          ++report_.skipped;
          continue;
        }
        auto err = run_eval(cmd);
        if (err) {
          ++report_.failed;
          report_.failures.push_back({line_no, cmd.expr, *err});
        } else {
          ++report_.passed;
        }
      } else {
        problem(line_no, "", "unknown command: " + std::string(l));
      }
    }
    report_.histogram_samples_loaded = hist_loaded_;
    return std::move(report_);
  }

 private:
  void problem(uint32_t line, std::string expr, std::string msg) {
    ++report_.failed;
    report_.failures.push_back({line, std::move(expr), std::move(msg)});
  }

  size_t skip_block(size_t i) {
    while (i + 1 < lines_.size() && !lines_[i + 1].empty()) ++i;
    return i;
  }

  size_t do_load(size_t i) {
    auto rest = lines_[i];
    const auto load_line = static_cast<uint32_t>(i + 1);
    const bool with_nhcb = next_word(rest) == "load_with_nhcb";
    NhcbConverter nhcb;
    auto interval = parse_time(rest);
    if (!interval || *interval <= 0) {
      problem(static_cast<uint32_t>(i + 1), "", "invalid load interval: " + std::string(rest));
      return skip_block(i);
    }
    while (i + 1 < lines_.size() && !lines_[i + 1].empty()) {
      ++i;
      auto spec = parse_series_line(lines_[i]);
      if (!spec) {
        problem(static_cast<uint32_t>(i + 1), "", spec.error().message);
        continue;
      }
      load_series(storage_, *spec, 0, *interval);
      hist_loaded_ += spec->values.num_histograms;
      if (with_nhcb) {
        for (size_t k = 0; k < spec->values.values.size(); ++k) {
          const auto& v = spec->values.values[k];
          if (!v || spec->values.histogram_at(k)) continue;
          nhcb.add(spec->labels, static_cast<Millis>(k) * *interval, *v);
        }
      }
    }
    if (with_nhcb) {
      if (auto r = nhcb.append_to(storage_); !r) problem(load_line, "", r.error().message);
    }
    return i;
  }

  Result<size_t> parse_eval(size_t i, EvalCmd& cmd) {
    cmd.line = static_cast<uint32_t>(i + 1);
    auto rest = lines_[i];
    auto word = next_word(rest);
    if (word == "eval_fail") cmd.fail = true;
    else if (word == "eval_warn") cmd.warn = true;
    else if (word == "eval_info") cmd.info = true;
    else if (word == "eval_ordered") cmd.ordered = true;
    else if (word != "eval") return make_error("unknown eval command: " + std::string(word));
    auto kind = next_word(rest);
    if (kind == "instant") {
      if (next_word(rest) != "at") return make_error("expected `at` after `eval instant`");
      auto t = parse_time(next_word(rest));
      if (!t) return make_error("invalid evaluation time");
      cmd.start = cmd.end = *t;
    } else if (kind == "range") {
      if (next_word(rest) != "from") return make_error("expected `from` after `eval range`");
      auto a = parse_time(next_word(rest));
      if (next_word(rest) != "to") return make_error("expected `to` in `eval range`");
      auto b = parse_time(next_word(rest));
      if (next_word(rest) != "step") return make_error("expected `step` in `eval range`");
      auto s = parse_time(next_word(rest));
      if (!a || !b || !s) return make_error("invalid range times");
      cmd.range = true;
      cmd.start = *a;
      cmd.end = *b;
      cmd.step = *s;
    } else {
      return make_error("expected `instant` or `range` after `eval`");
    }
    cmd.expr = std::string(rest);
    if (cmd.expr.empty()) return make_error("missing query");
    size_t pos = 0;
    while (i + 1 < lines_.size() && !lines_[i + 1].empty()) {
      ++i;
      auto l = lines_[i];
      if (l.starts_with("expected_fail_message")) {
        l.remove_prefix(21);
        cmd.fail_msgs.push_back({false, std::string(trim(l))});
        continue;
      }
      if (l.starts_with("expected_fail_regexp")) {
        l.remove_prefix(20);
        cmd.fail_msgs.push_back({true, std::string(trim(l))});
        continue;
      }
      if (starts_with_word(l, "expect")) {
        auto r = l;
        next_word(r);
        auto what = next_word(r);
        if (what == "fail") {
          cmd.fail = true;
          if (auto m = parse_msg_match(r)) cmd.fail_msgs.push_back(*m);
        } else if (what == "warn") {
          cmd.warn = true;
          if (auto m = parse_msg_match(r)) cmd.warn_msgs.push_back(*m);
        } else if (what == "info") {
          cmd.info = true;
          if (auto m = parse_msg_match(r)) cmd.info_msgs.push_back(*m);
        } else if (what == "no_warn") {
          cmd.no_warn = true;
        } else if (what == "no_info") {
          cmd.no_info = true;
        } else if (what == "ordered") {
          cmd.ordered = true;
        } else if (what == "string") {
          r = trim(r);
          if (r.size() < 2 || r.front() != '"' || r.back() != '"') {
            return make_error("expect string needs a quoted string");
          }
          cmd.expect_string = std::string(r.substr(1, r.size() - 2));
        } else if (what == "range") {
          if (next_word(r) != "vector" || next_word(r) != "from") {
            return make_error("expected `expect range vector from <t> to <t> step <d>`");
          }
          auto a = parse_time(next_word(r));
          next_word(r);
          auto b = parse_time(next_word(r));
          next_word(r);
          auto s = parse_time(next_word(r));
          if (!a || !b || !s) return make_error("invalid times in expect range vector");
          cmd.expect_matrix = true;
          cmd.mat_start = *a;
          cmd.mat_end = *b;
          cmd.mat_step = *s;
        } else {
          return make_error("unknown expect line: " + std::string(l));
        }
        continue;
      }
      // A bare number: the expected scalar.
      if (auto vals = expand_values(l); vals && vals->values.size() == 1 && vals->values[0] &&
                                        l.find('{') == std::string_view::npos) {
        cmd.expect_scalar = true;
        cmd.scalar = *vals->values[0];
        continue;
      }
      auto spec = l.starts_with("{}") ? [&]() -> Result<SeriesSpec> {
        auto v = expand_values(l.substr(2));
        if (!v) return std::unexpected(v.error());
        return SeriesSpec{Labels{}, std::move(*v)};
      }()
                                      : parse_series_line(l);
      if (!spec) return make_error(fmt::format("line {}: {}", i + 1, spec.error().message));
      Expected e{spec->labels, std::move(spec->values.values), ++pos,
                 std::move(spec->values.histograms), std::move(spec->values.hint_set)};
      cmd.by_hash[e.labels.hash()] = cmd.expected.size();
      cmd.expected.push_back(std::move(e));
    }
    return i;
  }

  std::optional<std::string> check_failure(const Error& err, const std::string& expr, Millis t) {
    if (!cmd_->fail) {
      return fmt::format("error evaluating query {:?} at {}: {}", expr, t, err.message);
    }
    for (const auto& m : cmd_->fail_msgs) {
      if (!m.matches(err.message)) {
        return fmt::format("expected error {} {:?} evaluating query {:?}, got {:?}",
                           m.regex ? "matching" : "message", m.text, expr, err.message);
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> check_annotations(const QueryResult& r) {
    auto check = [](bool expected, bool none, const std::vector<MsgMatch>& msgs,
                    const std::vector<std::string>& got,
                    std::string_view kind) -> std::optional<std::string> {
      if (none && !got.empty()) {
        return fmt::format("unexpected {} annotations: {}", kind, fmt::join(got, "; "));
      }
      if (expected && got.empty()) return fmt::format("expected {} annotations but got none", kind);
      for (const auto& m : msgs) {
        if (std::none_of(got.begin(), got.end(), [&](const std::string& g) { return m.matches(g); })) {
          return fmt::format("expected {} annotation {:?}, got: {}", kind, m.text, fmt::join(got, "; "));
        }
      }
      if (!msgs.empty()) {
        for (const auto& g : got) {
          if (std::none_of(msgs.begin(), msgs.end(), [&](const MsgMatch& m) { return m.matches(g); })) {
            return fmt::format("unexpected {} annotation {:?}", kind, g);
          }
        }
      }
      return std::nullopt;
    };
    if (auto e = check(cmd_->warn, cmd_->no_warn, cmd_->warn_msgs, r.warnings, "warning")) return e;
    return check(cmd_->info, cmd_->no_info, cmd_->info_msgs, r.infos, "info");
  }

  std::optional<std::string> compare_vector(const Vector& vec) {
    const auto& c = *cmd_;
    if (c.expect_scalar) return "expected scalar result, but got vector";
    if (c.expect_string) return "expected string result, but got vector";
    std::unordered_set<uint64_t> seen;
    for (size_t pos = 0; pos < vec.size(); ++pos) {
      const auto& s = vec[pos];
      auto it = c.by_hash.find(s.metric.hash());
      if (it == c.by_hash.end()) {
        return fmt::format("unexpected metric {} in result, has value {}", s.metric.to_string(),
                           s.h ? histogram_test_expression(*s.h) : fmt_num(s.v));
      }
      const auto& e = c.expected[it->second];
      if (c.ordered && e.pos != pos + 1) {
        return fmt::format("expected metric {} with {} at position {} but was at {}",
                           e.labels.to_string(), e.vals.empty() || !e.vals[0] ? "_" : fmt_num(*e.vals[0]),
                           e.pos, pos + 1);
      }
      if (e.vals.empty() || !e.vals[0]) {
        return fmt::format("expected no value for {} but got {}", e.labels.to_string(),
                           s.h ? histogram_test_expression(*s.h) : fmt_num(s.v));
      }
      if (const auto* want = e.hist(0); want || s.h) {
        if (!want) {
          return fmt::format("expected float value {} for {} but got histogram {}", fmt_num(*e.vals[0]),
                             s.metric.to_string(), histogram_test_expression(*s.h));
        }
        if (!s.h) {
          return fmt::format("expected histogram {} for {} but got float value {}",
                             histogram_test_expression(*want), s.metric.to_string(), fmt_num(s.v));
        }
        if (!histograms_match(*want, *s.h, e.hint_set.size() > 0 && e.hint_set[0])) {
          return fmt::format("expected {} for {} but got {}", histogram_test_expression(*want),
                             s.metric.to_string(), histogram_test_expression(*s.h));
        }
        seen.insert(s.metric.hash());
        continue;
      }
      if (!almost_equal(*e.vals[0], s.v)) {
        return fmt::format("expected {} for {} but got {}", fmt_num(*e.vals[0]),
                           s.metric.to_string(), fmt_num(s.v));
      }
      seen.insert(s.metric.hash());
    }
    for (const auto& e : c.expected) {
      if (!seen.contains(e.labels.hash())) {
        return fmt::format("expected metric {} not found in result", e.labels.to_string());
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> compare_matrix(const Matrix& mat, Millis start, Millis end,
                                            Millis step) {
    const auto& c = *cmd_;
    if (c.ordered) return "expected ordered result, but query returned a matrix";
    if (c.expect_scalar) return "expected scalar result, but got matrix";
    std::unordered_set<uint64_t> seen;
    for (const auto& s : mat) {
      auto it = c.by_hash.find(s.metric.hash());
      if (it == c.by_hash.end()) {
        std::string pts;
        for (const auto& p : s.points) pts += fmt::format(" {}@{}", fmt_num(p.v), p.t);
        return fmt::format("unexpected metric {} in result, has{}", s.metric.to_string(), pts);
      }
      seen.insert(s.metric.hash());
      const auto& e = c.expected[it->second];
      std::vector<FPoint> want;
      std::vector<std::pair<Millis, size_t>> want_h;  // time, index into e's steps
      for (size_t i = 0; i < e.vals.size(); ++i) {
        Millis ts = start + static_cast<Millis>(i) * step;
        if (ts > end) {
          return fmt::format("expected {} points for {}, but query time range cannot return this many points",
                             e.vals.size(), e.labels.to_string());
        }
        if (e.hist(i)) {
          want_h.emplace_back(ts, i);
        } else if (e.vals[i]) {
          want.push_back({ts, *e.vals[i]});
        }
      }
      auto describe = [](std::span<const FPoint> pts) {
        std::string out;
        for (const auto& p : pts) out += fmt::format(" {}@{}", fmt_num(p.v), p.t);
        return out;
      };
      bool ok = want.size() == s.points.size();
      for (size_t i = 0; ok && i < want.size(); ++i) {
        ok = want[i].t == s.points[i].t && almost_equal(want[i].v, s.points[i].v);
      }
      if (!ok) {
        return fmt::format("for {}: expected float points{}, got{}", s.metric.to_string(),
                           describe(want), describe(s.points));
      }
      auto describe_h = [](std::span<const HPoint> pts) {
        std::string out;
        for (const auto& p : pts) out += fmt::format(" {}@{}", histogram_test_expression(*p.h), p.t);
        return out;
      };
      ok = want_h.size() == s.histograms.size();
      for (size_t i = 0; ok && i < want_h.size(); ++i) {
        size_t k = want_h[i].second;
        ok = want_h[i].first == s.histograms[i].t &&
             histograms_match(*e.hist(k), *s.histograms[i].h, k < e.hint_set.size() && e.hint_set[k]);
      }
      if (!ok) {
        std::vector<HPoint> wh;
        wh.reserve(want_h.size());
        for (auto [ts, k] : want_h) wh.push_back({ts, e.hists[k]});
        return fmt::format("for {}: expected histogram points{}, got{}", s.metric.to_string(),
                           describe_h(wh), describe_h(s.histograms));
      }
    }
    for (const auto& e : c.expected) {
      if (!seen.contains(e.labels.hash())) {
        return fmt::format("expected metric {} not found in result", e.labels.to_string());
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> compare(const Value& v) {
    const auto& c = *cmd_;
    if (const auto* s = std::get_if<Scalar>(&v)) {
      if (!c.expect_scalar) return fmt::format("expected vector or matrix result, but got scalar {}", fmt_num(s->v));
      if (!almost_equal(c.scalar, s->v)) {
        return fmt::format("expected scalar {} but got {}", fmt_num(c.scalar), fmt_num(s->v));
      }
      return std::nullopt;
    }
    if (const auto* s = std::get_if<String>(&v)) {
      if (!c.expect_string) return fmt::format("unexpected string result {:?}", s->v);
      if (*c.expect_string != s->v) {
        return fmt::format("expected string {:?} but got {:?}", *c.expect_string, s->v);
      }
      return std::nullopt;
    }
    if (const auto* vec = std::get_if<Vector>(&v)) return compare_vector(*vec);
    const auto& mat = std::get<Matrix>(v);
    if (c.range) return compare_matrix(mat, c.start, c.end, c.step);
    if (!c.expect_matrix) return "expected instant vector result, but got range vector";
    return compare_matrix(mat, c.mat_start, c.mat_end, c.mat_step);
  }

  // Sets `@ ts` on every selector and subquery lacking one, not descending into subqueries that
  // have one. Reports whether an @-unsafe function was seen.
  static void pin_at(promql::Expr& e, Millis ts, bool& unsafe) {
    std::visit(
        [&](auto& n) {
          using T = std::decay_t<decltype(n)>;
          if constexpr (std::is_same_v<T, promql::VectorSelector> ||
                        std::is_same_v<T, promql::Subquery>) {
            if (n.at.kind == promql::AtModifier::Kind::None) {
              n.at = {promql::AtModifier::Kind::Timestamp, ts};
            }
          } else if constexpr (std::is_same_v<T, promql::MatrixSelector>) {
            pin_at(*n.vector, ts, unsafe);
          } else if constexpr (std::is_same_v<T, promql::Paren> || std::is_same_v<T, promql::Unary>) {
            pin_at(*n.expr, ts, unsafe);
          } else if constexpr (std::is_same_v<T, promql::Binary>) {
            pin_at(*n.lhs, ts, unsafe);
            pin_at(*n.rhs, ts, unsafe);
          } else if constexpr (std::is_same_v<T, promql::Aggregate>) {
            if (n.param) pin_at(*n.param, ts, unsafe);
            pin_at(*n.expr, ts, unsafe);
          } else if constexpr (std::is_same_v<T, promql::Call>) {
            static const std::unordered_set<std::string_view> kUnsafe = {
                "days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour",
                "minute", "month", "year", "predict_linear", "time", "timestamp", "start", "end",
                "range", "step"};
            if (kUnsafe.contains(n.func->name)) unsafe = true;
            for (auto& a : n.args) pin_at(*a, ts, unsafe);
          }
        },
        e.node);
  }

  static bool uses_query_bounds(const promql::Expr& e) {
    bool found = false;
    promql::walk(e, [&](const promql::Expr& x) {
      if (const auto* c = x.as<promql::Call>()) {
        auto n = c->func->name;
        if (n == "start" || n == "end" || n == "range" || n == "step") found = true;
      }
      auto check = [&](const promql::AtModifier& at) {
        if (at.kind == promql::AtModifier::Kind::Start || at.kind == promql::AtModifier::Kind::End) {
          found = true;
        }
      };
      if (const auto* vs = x.as<promql::VectorSelector>()) check(vs->at);
      if (const auto* sq = x.as<promql::Subquery>()) check(sq->at);
    });
    return found;
  }

  std::optional<std::string> run_instant(const promql::Expr& expr, const std::string& text,
                                         Millis t) {
    auto res = instant_query(storage_, expr, t, opts_.engine);
    if (!res) return check_failure(res.error(), text, t);
    if (cmd_->fail) return fmt::format("expected error evaluating query {:?} but got none", text);
    if (auto e = check_annotations(*res)) return e;
    if (auto e = compare(res->value)) return fmt::format("at {}ms: {}", t, *e);
    if (!opts_.range_mode_check || cmd_->ordered || cmd_->expect_string || cmd_->expect_matrix) {
      return std::nullopt;
    }
    auto type = expr.type();
    if (type != promql::ValueType::Vector && type != promql::ValueType::Scalar) return std::nullopt;
    if (uses_query_bounds(expr)) return std::nullopt;
    auto rr = range_query(storage_, expr, t - kMinute, t + kMinute, kMinute, opts_.engine);
    if (!rr) {
      return fmt::format("error evaluating query {:?} in range mode: {}", text, rr.error().message);
    }
    const auto& mat = std::get<Matrix>(rr->value);
    Vector mid;
    for (const auto& s : mat) {
      for (const auto& p : s.points) {
        if (p.t == t) {
          mid.push_back(Sample{s.metric, p.v, t, false});
          break;
        }
      }
      for (const auto& p : s.histograms) {
        if (p.t == t) {
          mid.push_back(Sample{s.metric, histogram_marker(), t, false, p.h});
          break;
        }
      }
    }
    std::optional<std::string> e;
    if (std::holds_alternative<Scalar>(res->value)) {
      if (mid.empty()) return "range mode: scalar query returned no value at the middle step";
      e = compare(Scalar{mid[0].v, t});
    } else {
      e = compare(mid);
    }
    if (e) return fmt::format("at {}ms (range mode): {}", t, *e);
    return std::nullopt;
  }

  std::optional<std::string> run_eval(const EvalCmd& cmd) {
    cmd_ = &cmd;
    // Prometheus's .test harness enables every experimental PromQL feature.
    auto parsed = promql::parse(cmd.expr, opts_.engine.experimental_functions
                                              ? promql::ParseOptions::all()
                                              : promql::ParseOptions{});
    if (!parsed) {
      Error err(promql::format_parse_error(parsed.error()));
      return check_failure(err, cmd.expr, cmd.start);
    }
    const promql::Expr& expr = **parsed;
    if (cmd.range) {
      auto res = range_query(storage_, expr, cmd.start, cmd.end, cmd.step, opts_.engine);
      if (!res) return check_failure(res.error(), cmd.expr, cmd.start);
      if (cmd.fail) return fmt::format("expected error evaluating query {:?} but got none", cmd.expr);
      if (auto e = check_annotations(*res)) return e;
      return compare(res->value);
    }
    if (auto e = run_instant(expr, cmd.expr, cmd.start)) return e;
    if (!opts_.at_modifier_variants) return std::nullopt;
    Millis ts = cmd.start;
    auto pinned = expr.clone();
    bool unsafe = false;
    pin_at(*pinned, ts, unsafe);
    if (unsafe) return std::nullopt;
    std::vector<Millis> times = ts == 0 ? std::vector<Millis>{-1000, 0, 1000}
                                        : std::vector<Millis>{-10 * ts, 0, ts / 5, ts, 10 * ts};
    std::string text = promql::format(*pinned);
    for (Millis t : times) {
      if (auto e = run_instant(*pinned, text, t)) return fmt::format("with @ pinned ({}): {}", text, *e);
    }
    return std::nullopt;
  }

  const PromqlTestOptions& opts_;
  PromqlTestReport report_;
  std::vector<std::string_view> lines_;
  Storage storage_;
  size_t hist_loaded_ = 0;
  const EvalCmd* cmd_ = nullptr;
};

}  // namespace

PromqlTestReport run_promql_test(std::string_view file_name, std::string_view content,
                                 const PromqlTestOptions& opts) {
  Runner r(file_name, content, opts);
  return r.run();
}

}  // namespace ruleeval::engine
