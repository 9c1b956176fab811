// Grafana classic conditions: X3 grammar, canonical printer, reducers and the AND/OR fold.
#include "ruleeval/parser/condition.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/fusion/include/adapt_struct.hpp>
#include <boost/spirit/home/x3.hpp>
#include <cmath>
#include <cstdlib>

#include "ruleeval/parser/duration.hpp"

namespace ruleeval::classic::grammar {

struct EvalX {
  EvaluatorType type = EvaluatorType::kGt;
  std::vector<double> params;
};

struct CondX {
  uint32_t pos = 0;
  Operator op = Operator::kAnd;
  Reducer reducer = Reducer::kAvg;
  std::string ref;
  std::string from;
  std::string to;
  EvalX eval;
};

}  // namespace ruleeval::classic::grammar

BOOST_FUSION_ADAPT_STRUCT(ruleeval::classic::grammar::EvalX, type, params)
BOOST_FUSION_ADAPT_STRUCT(ruleeval::classic::grammar::CondX, op, reducer, ref, from, to, eval)

namespace ruleeval::classic {
namespace grammar {
namespace {

namespace x3 = boost::spirit::x3;
// ASCII-only classes: Spirit's standard classes assert on non-ASCII (negative) chars.
[[maybe_unused]] const auto ascii_digit = x3::char_('0', '9');
[[maybe_unused]] const auto ascii_alpha = x3::char_('a', 'z') | x3::char_('A', 'Z');
[[maybe_unused]] const auto ascii_alnum = ascii_alpha | ascii_digit;
using x3::attr;
using x3::lexeme;
using x3::lit;
using x3::no_case;

struct base_tag;
struct annotate {
  template <class It, class Attr, class Ctx>
  void on_success(const It& first, const It&, Attr& ast, const Ctx& ctx) const {
    if constexpr (requires { ast.pos; }) {
      ast.pos = static_cast<uint32_t>(first - x3::get<base_tag>(ctx));
    }
  }
};

struct ReducerTable : x3::symbols<Reducer> {
  ReducerTable() {
    add("avg", Reducer::kAvg)("sum", Reducer::kSum)("min", Reducer::kMin)("max", Reducer::kMax)(
        "count", Reducer::kCount)("last", Reducer::kLast)("median", Reducer::kMedian)(
        "diff", Reducer::kDiff)("diff_abs", Reducer::kDiffAbs)(
        "percent_diff", Reducer::kPercentDiff)("percent_diff_abs", Reducer::kPercentDiffAbs)(
        "count_non_null", Reducer::kCountNonNull);
  }
};
const ReducerTable kReducers;

const auto word_char = ascii_alnum | x3::char_('_');
inline auto kw(const char* k) { return lexeme[no_case[lit(k)] >> !word_char]; }

auto check_duration = [](auto& ctx) {
  const std::string& s = x3::_attr(ctx);
  x3::_pass(ctx) = parse_duration(s).has_value();
};
}  // namespace
// "now" (any case) optionally followed by "-<duration>" (units stay case-sensitive).
std::optional<int64_t> to_offset(std::string_view s) {
  if (s.size() < 3) return std::nullopt;
  for (size_t i = 0; i < 3; ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != "now"[i]) return std::nullopt;
  }
  s.remove_prefix(3);
  if (s.empty()) return 0;
  if (s[0] != '-') return std::nullopt;
  auto d = parse_duration(s.substr(1));
  if (!d) return std::nullopt;
  return *d;
}
namespace {
auto check_to = [](auto& ctx) {
  const auto& range = x3::_attr(ctx);
  x3::_pass(ctx) = to_offset(std::string(range.begin(), range.end())).has_value();
};

struct reducer_class;
struct ref_class;
struct from_class;
struct to_class;
struct number_class;
struct eval_class;
struct cond_class : annotate {};
struct first_cond_class : annotate {};
struct lparen_class;
struct rparen_class;
struct comma_class;
struct of_class;
struct query_class;
struct end_class;
struct range_class;
struct one_class;

const x3::rule<reducer_class, Reducer> reducer =
    "a reducer (avg, sum, min, max, count, last, median, diff, diff_abs, percent_diff, "
    "percent_diff_abs, count_non_null)";
const x3::rule<ref_class, std::string> ref = "a query refId";
const x3::rule<struct from_inner_class, std::string, true> from_inner = "duration";
const x3::rule<from_class, std::string> from = "a duration such as 5m";
const x3::rule<struct to_inner_class, std::string, true> to_inner = "to";
const x3::rule<to_class, std::string> to = "now or now-<duration>";
const x3::rule<number_class, double> number = "a number";
const x3::rule<eval_class, EvalX> eval =
    "IS ABOVE, IS BELOW, IS WITHIN RANGE, IS OUTSIDE RANGE or HAS NO VALUE";
const x3::rule<cond_class, CondX> cond = "a condition";
const x3::rule<first_cond_class, CondX> first_cond = "a condition";
const x3::rule<lparen_class> lparen = "'('";
const x3::rule<rparen_class> rparen = "')'";
const x3::rule<comma_class> comma = "','";
const x3::rule<of_class> of = "OF";
const x3::rule<query_class> query = "query";
const x3::rule<one_class, std::vector<double>> one_param = "a number";
const x3::rule<range_class, std::vector<double>> range_params = "a range such as 1, 5";
const x3::rule<end_class> end_rule = "AND, OR or the end of the input";

const auto reducer_def = lexeme[no_case[kReducers] >> !word_char];
const auto ref_def = lexeme[+(ascii_alnum | x3::char_("_-"))];
const auto from_def = from_inner;
const auto from_inner_def = lexeme[+(ascii_alnum)][check_duration];
const auto to_def = to_inner;
const auto to_inner_def =
    lexeme[x3::raw[no_case[lit("now")] >> -(lit('-') >> +ascii_alnum)]][check_to];
// X3's double_ is not correctly rounded for long inputs; convert the matched text with strtod so
// that format() and parse_conditions() round-trip exactly.
auto to_double = [](auto& ctx) {
  const auto& r = x3::_attr(ctx);
  x3::_val(ctx) = std::strtod(std::string(r.begin(), r.end()).c_str(), nullptr);
};
const auto number_def = lexeme[x3::raw[x3::double_]][to_double];
const auto lparen_def = lit('(');
const auto rparen_def = lit(')');
const auto comma_def = lit(',');
const auto of_def = kw("of");
const auto query_def = kw("query");
const auto range_sep = comma | kw("to");
const auto range_params_def = number > range_sep > number;
const auto one_param_def = x3::repeat(1)[number];
const auto eval_def =
    ((kw("is") >> kw("above") >> attr(EvaluatorType::kGt)) > one_param) |
    ((kw("is") >> kw("below") >> attr(EvaluatorType::kLt)) > one_param) |
    ((kw("is") >> kw("within") >> kw("range") >> attr(EvaluatorType::kWithinRange)) >
     range_params) |
    ((kw("is") >> kw("outside") >> kw("range") >> attr(EvaluatorType::kOutsideRange)) >
     range_params) |
    (kw("has") >> kw("no") >> kw("value") >> attr(EvaluatorType::kNoValue) >>
     attr(std::vector<double>()));
const auto op = (kw("and") >> attr(Operator::kAnd)) | (kw("or") >> attr(Operator::kOr));
const auto first_cond_def = (attr(Operator::kAnd) >> -kw("when")) > reducer > lparen > rparen > of >
                            query > lparen > ref > comma > from > comma > to > rparen > eval;
const auto cond_def = (op >> -kw("when")) > reducer > lparen > rparen > of > query > lparen > ref >
                      comma > from > comma > to > rparen > eval;
const auto end_rule_def = x3::eoi;

BOOST_SPIRIT_DEFINE(reducer, ref, from, to, number, eval, cond, first_cond, lparen, rparen, comma,
                    of, query, end_rule, range_params, one_param, from_inner, to_inner)

}  // namespace

bool parse(const char* begin, const char* endp, std::vector<CondX>& out) {
  const char* it = begin;
  auto p = x3::with<base_tag>(begin)[first_cond > *cond > end_rule];
  return x3::phrase_parse(it, endp, p, x3::char_(" \t\r\n\f\v"), out);
}

}  // namespace grammar

namespace {

Result<Conditions> lower(std::string_view text, const std::vector<grammar::CondX>& xs) {
  Conditions out;
  for (const auto& x : xs) {
    Condition c;
    c.op = x.op;
    c.reducer = x.reducer;
    c.ref_id = x.ref;
    c.from_ms = parse_duration(x.from).value_or(0);
    c.to = "now" + x.to.substr(std::min<size_t>(3, x.to.size()));
    c.to_offset_ms = grammar::to_offset(x.to).value_or(0);
    c.evaluator.type = x.eval.type;
    c.evaluator.params = x.eval.params;
    // Skip leading spaces so the column points at the first keyword.
    size_t p = x.pos;
    while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p]))) ++p;
    c.col = static_cast<uint32_t>(p + 1);
    out.items.push_back(std::move(c));
  }
  return out;
}

std::string fmt_number(double v) {
  std::string s = fmt::format("{}", v);
  return s;
}

}  // namespace

Result<Conditions> parse_conditions(std::string_view text) {
  std::vector<grammar::CondX> xs;
  const char* b = text.data();
  const char* e = text.data() + text.size();
  auto fail = [&](size_t pos, std::string what) -> Result<Conditions> {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    SourceLocation loc;
    loc.line = 1;
    loc.col = static_cast<uint32_t>(pos + 1);
    std::string found =
        pos >= text.size()
            ? "end of input"
            : fmt::format("\"{}\"", text.substr(pos, std::min<size_t>(12, text.size() - pos)));
    return make_error(fmt::format("1:{}: expected {}, found {}", pos + 1, what, found), loc);
  };
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return fail(text.size(), "a condition");
  }
  try {
    if (!grammar::parse(b, e, xs)) return fail(0, "WHEN <reducer>() OF query(...)");
  } catch (const boost::spirit::x3::expectation_failure<const char*>& ex) {
    return fail(static_cast<size_t>(ex.where() - b), ex.which());
  }
  return lower(text, xs);
}

std::string_view reducer_name(Reducer r) {
  switch (r) {
    case Reducer::kAvg:
      return "avg";
    case Reducer::kSum:
      return "sum";
    case Reducer::kMin:
      return "min";
    case Reducer::kMax:
      return "max";
    case Reducer::kCount:
      return "count";
    case Reducer::kLast:
      return "last";
    case Reducer::kMedian:
      return "median";
    case Reducer::kDiff:
      return "diff";
    case Reducer::kDiffAbs:
      return "diff_abs";
    case Reducer::kPercentDiff:
      return "percent_diff";
    case Reducer::kPercentDiffAbs:
      return "percent_diff_abs";
    case Reducer::kCountNonNull:
      return "count_non_null";
  }
  return "?";
}

std::optional<Reducer> reducer_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Reducer::kCountNonNull); ++i) {
    if (reducer_name(static_cast<Reducer>(i)) == name) return static_cast<Reducer>(i);
  }
  return std::nullopt;
}

std::string_view evaluator_name(EvaluatorType t) {
  switch (t) {
    case EvaluatorType::kGt:
      return "gt";
    case EvaluatorType::kLt:
      return "lt";
    case EvaluatorType::kWithinRange:
      return "within_range";
    case EvaluatorType::kOutsideRange:
      return "outside_range";
    case EvaluatorType::kNoValue:
      return "no_value";
  }
  return "?";
}

std::optional<EvaluatorType> evaluator_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(EvaluatorType::kNoValue); ++i) {
    if (evaluator_name(static_cast<EvaluatorType>(i)) == name) {
      return static_cast<EvaluatorType>(i);
    }
  }
  return std::nullopt;
}

std::string format(const Conditions& c) {
  std::string out;
  for (size_t i = 0; i < c.items.size(); ++i) {
    const Condition& x = c.items[i];
    if (i > 0) out += x.op == Operator::kAnd ? " AND " : " OR ";
    out += fmt::format("WHEN {}() OF query({}, {}, {}) ", reducer_name(x.reducer), x.ref_id,
                       format_duration(x.from_ms), x.to);
    const auto& p = x.evaluator.params;
    switch (x.evaluator.type) {
      case EvaluatorType::kGt:
        out += "IS ABOVE " + fmt_number(p.at(0));
        break;
      case EvaluatorType::kLt:
        out += "IS BELOW " + fmt_number(p.at(0));
        break;
      case EvaluatorType::kWithinRange:
        out += "IS WITHIN RANGE " + fmt_number(p.at(0)) + ", " + fmt_number(p.at(1));
        break;
      case EvaluatorType::kOutsideRange:
        out += "IS OUTSIDE RANGE " + fmt_number(p.at(0)) + ", " + fmt_number(p.at(1));
        break;
      case EvaluatorType::kNoValue:
        out += "HAS NO VALUE";
        break;
    }
  }
  return out;
}

namespace {

bool valid(const std::optional<double>& v) { return v.has_value() && !std::isnan(*v); }

}  // namespace

std::optional<double> reduce(Reducer r, std::span<const std::optional<double>> points) {
  if (points.empty()) return std::nullopt;
  std::vector<double> vals;
  vals.reserve(points.size());
  for (const auto& p : points) {
    if (p && valid(p)) vals.push_back(*p);
  }
  switch (r) {
    case Reducer::kCount:
      return static_cast<double>(points.size());
    case Reducer::kCountNonNull:
      if (vals.empty()) return std::nullopt;
      return static_cast<double>(vals.size());
    default:
      break;
  }
  if (vals.empty()) return std::nullopt;
  switch (r) {
    case Reducer::kAvg: {
      double s = 0;
      for (double v : vals) s += v;
      return s / static_cast<double>(vals.size());
    }
    case Reducer::kSum: {
      double s = 0;
      for (double v : vals) s += v;
      return s;
    }
    case Reducer::kMin:
      return *std::min_element(vals.begin(), vals.end());
    case Reducer::kMax:
      return *std::max_element(vals.begin(), vals.end());
    case Reducer::kLast:
      return vals.back();
    case Reducer::kMedian: {
      std::sort(vals.begin(), vals.end());
      const size_t n = vals.size();
      return n % 2 == 1 ? vals[(n - 1) / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
    }
    case Reducer::kDiff:
    case Reducer::kDiffAbs:
    case Reducer::kPercentDiff:
    case Reducer::kPercentDiffAbs: {
      // Grafana compares the newest valid point with the oldest one, but only when the newest
      // valid point is not the very first point of the series (else the result is 0).
      size_t newest_idx = points.size();
      for (size_t i = points.size(); i-- > 0;) {
        if (valid(points[i])) {
          newest_idx = i;
          break;
        }
      }
      if (newest_idx == 0) return 0.0;
      const double newest = vals.back();
      const double oldest = vals.front();
      switch (r) {
        case Reducer::kDiff:
          return newest - oldest;
        case Reducer::kDiffAbs:
          return std::fabs(newest - oldest);
        case Reducer::kPercentDiff:
          return (newest - oldest) / std::fabs(oldest) * 100;
        default:
          return std::fabs((newest - oldest) / oldest * 100);
      }
    }
    default:
      return std::nullopt;
  }
}

bool evaluate(const Evaluator& e, std::optional<double> reduced) {
  if (e.type == EvaluatorType::kNoValue) return !reduced.has_value();
  if (!reduced) return false;
  const double v = *reduced;
  const auto& p = e.params;
  switch (e.type) {
    case EvaluatorType::kGt:
      return !p.empty() && v > p[0];
    case EvaluatorType::kLt:
      return !p.empty() && v < p[0];
    case EvaluatorType::kWithinRange:
      return p.size() == 2 && ((p[0] < v && p[1] > v) || (p[1] < v && p[0] > v));
    case EvaluatorType::kOutsideRange:
      return p.size() == 2 && ((p[1] < v && p[0] < v) || (p[1] > v && p[0] > v));
    case EvaluatorType::kNoValue:
      return !reduced.has_value();
  }
  return false;
}

namespace {

void fold_one(FoldResult& acc, size_t i, Operator op, bool firing, bool no_data) {
  if (i == 0) {
    acc.firing = firing;
    acc.no_data = no_data;
    return;
  }
  if (op == Operator::kOr) {
    acc.firing = acc.firing || firing;
    acc.no_data = acc.no_data || no_data;
  } else {
    acc.firing = acc.firing && firing;
    acc.no_data = acc.no_data && no_data;
  }
}

}  // namespace

FoldResult fold(const Conditions& c, std::span<const std::optional<double>> reduced) {
  FoldResult acc;
  for (size_t i = 0; i < c.items.size(); ++i) {
    const std::optional<double> v = i < reduced.size() ? reduced[i] : std::nullopt;
    fold_one(acc, i, c.items[i].op, evaluate(c.items[i].evaluator, v), !v.has_value());
  }
  return acc;
}

FoldResult evaluate(const Conditions& c, const SeriesByRef& data) {
  FoldResult acc;
  for (size_t i = 0; i < c.items.size(); ++i) {
    const Condition& cond = c.items[i];
    size_t nulls = 0, firing = 0, total = 0;
    if (auto it = data.find(cond.ref_id); it != data.end()) {
      for (const auto& series : it->second) {
        ++total;
        const auto r = reduce(cond.reducer, series);
        if (!r) ++nulls;
        if (evaluate(cond.evaluator, r)) ++firing;
      }
    }
    // A query without series counts as "no value" for HAS NO VALUE.
    if (total == 0 && cond.evaluator.type == EvaluatorType::kNoValue) firing = 1;
    fold_one(acc, i, cond.op, firing > 0, nulls == total);
  }
  return acc;
}

}  // namespace ruleeval::classic
