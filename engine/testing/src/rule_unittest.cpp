#include "ruleeval/engine/rule_unittest.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <unordered_map>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/escape.hpp"
#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/engine/storage.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/parser/promql.hpp"
#include "ruleeval/parser/template_value.hpp"
#include "ruleeval/rules/loader.hpp"
#include "ruleeval/rules/unittest_file.hpp"

namespace ruleeval::engine {
namespace {

namespace fs = std::filesystem;

// Makes only the samples at or before `limit` visible, like promtool's lazy loader, which loads
// input samples up to each evaluation time.
class VisibleUntil final : public Queryable {
 public:
  VisibleUntil(const Queryable& inner, Millis limit) : inner_(inner), limit_(limit) {}
  Result<std::vector<SeriesView>> select(std::span<const promql::LabelMatcher> matchers,
                                         Millis mint, Millis maxt) const override {
    auto res = inner_.select(matchers, mint, std::min(maxt, limit_));
    if (!res) return res;
    std::vector<SeriesView> out;
    out.reserve(res->size());
    for (auto& s : *res) {
      size_t n = static_cast<size_t>(std::upper_bound(s.t.begin(), s.t.end(), limit_) - s.t.begin());
      if (n == 0) continue;
      s.t = s.t.first(n);
      s.v = s.v.first(n);
      // Histograms are looked up by timestamp; drop the ones past the limit all the same.
      s.h = s.h.first(static_cast<size_t>(
          std::upper_bound(s.h.begin(), s.h.end(), limit_,
                           [](Millis l, const HistogramSample& hs) { return l < hs.t; }) -
          s.h.begin()));
      out.push_back(s);
    }
    return out;
  }

 private:
  const Queryable& inner_;
  Millis limit_;
};

std::string go_duration(Millis ms) { return tmpl::go_format_duration(tmpl::Duration{ms_to_ns(ms)}); }

// Go's strconv.FormatFloat(v, 'E', -1, 64).
std::string format_float_e(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, p);
  for (char& c : s) {
    if (c == 'e') c = 'E';
  }
  return s;
}

bool fuzzy_equal(double a, double b) {
  if (a == b) return true;
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::signbit(a) != std::signbit(b)) return false;
  auto ia = std::bit_cast<int64_t>(a);
  auto ib = std::bit_cast<int64_t>(b);
  return std::llabs(ia - ib) <= 2;  // a couple of units in the last place
}

bool exact_equal(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

std::string indent_lines(const std::string& lines, std::string_view indent) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    out += lines[i];
    if (lines[i] == '\n' && i + 1 < lines.size()) out += indent;
  }
  return out;
}

struct GotAlert {
  Labels labels;
  Labels annotations;
  std::string state;
  friend bool operator<(const GotAlert& a, const GotAlert& b) {
    if (a.labels != b.labels) return a.labels < b.labels;
    if (a.annotations != b.annotations) return a.annotations < b.annotations;
    return a.state < b.state;
  }
  friend bool operator==(const GotAlert& a, const GotAlert& b) {
    return a.labels == b.labels && a.annotations == b.annotations && a.state == b.state;
  }
};

std::string alert_string(const GotAlert& a, bool with_state) {
  std::string s = "Labels:" + a.labels.to_string() + "\nAnnotations:" + a.annotations.to_string();
  if (with_state) s += "\nState:" + a.state;
  return s;
}

// promtool's labelsAndAnnotations.String().
std::string alerts_string(const std::vector<GotAlert>& v, bool with_state) {
  if (v.empty()) return "[]";
  std::string s = "[\n0:" + indent_lines("\n" + alert_string(v[0], with_state), "  ");
  for (size_t i = 1; i < v.size(); ++i) {
    s += ",\n" + std::to_string(i) + ":" + indent_lines("\n" + alert_string(v[i], with_state), "  ");
  }
  s += "\n]";
  return s;
}

std::string alerts_diff(const std::vector<GotAlert>& exp, const std::vector<GotAlert>& got,
                        bool with_state) {
  std::string out;
  for (const auto& e : exp) {
    if (std::find(got.begin(), got.end(), e) == got.end()) {
      out += "        - " + indent_lines(alert_string(e, with_state), "          ") + "\n";
    }
  }
  for (const auto& g : got) {
    if (std::find(exp.begin(), exp.end(), g) == exp.end()) {
      out += "        + " + indent_lines(alert_string(g, with_state), "          ") + "\n";
    }
  }
  return out;
}

// promtool's parsedSample: a histogram sample carries its canonical test expression (and value
// 0, as a Go histogram sample's F); samples compare by labels, value and that string.
struct ParsedSample {
  Labels labels;
  double value = 0;
  std::string histogram;
};

std::string samples_string(const std::vector<ParsedSample>& v) {
  if (v.empty()) return "nil";
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    s += v[i].labels.to_string() + " " +
         (v[i].histogram.empty() ? format_float_e(v[i].value) : v[i].histogram);
  }
  return s;
}

// parser.ParseMetric: `metric{a="b"}` or `{a="b"}` into labels.
// The empty label set `{}` (the result of vector(1), count(), ...) and `name{}` are metrics too,
// although `{}` alone is not a valid selector.
Result<Labels> parse_metric(const std::string& text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t b = 0, e_ = text.size();
  while (b < e_ && is_space(text[b])) ++b;
  while (e_ > b && is_space(text[e_ - 1])) --e_;
  if (b == e_) return Labels{};
  if (text[e_ - 1] == '}') {
    size_t open = text.rfind('{', e_ - 1);
    bool empty_set = open != std::string::npos && open >= b;
    for (size_t i = open + 1; empty_set && i + 1 < e_; ++i) empty_set = is_space(text[i]);
    if (empty_set) {
      size_t name_end = open;
      while (name_end > b && is_space(text[name_end - 1])) --name_end;
      if (name_end == b) return Labels{};
      auto named = parse_metric(text.substr(b, name_end - b));
      if (!named) return named;
      if (named->size() != 1 || !named->has("__name__")) {
        return make_error(fmt::format("invalid metric {}", go_quote(text)));
      }
      return named;
    }
  }
  auto e = promql::parse_series_selector(text);
  if (!e) return make_error(promql::format_parse_error(e.error()));
  const auto* vs = (*e)->as<promql::VectorSelector>();
  if (!vs) return make_error("not a series selector");
  std::vector<Label> out;
  for (const auto& m : vs->matchers) {
    if (m.op != promql::MatchOp::Equal) return make_error("only = matchers are allowed in labels");
    out.push_back({m.name, m.value});
  }
  return Labels::from_vector(std::move(out));
}

struct FileContext {
  const rules::UnitTestFile* file = nullptr;
  std::vector<std::string> rule_files;  // resolved
  std::map<std::string, int> group_order;
  const RuleUnitTestOptions* opts = nullptr;
  // The rule files, loaded by the first test group and shared (read-only) by the others:
  // promtool reloads them for every group, with the same result, so each group still reports
  // the load errors itself.
  std::optional<std::vector<rules::LoadResult>> loaded;
};

struct GroupOutcome {
  std::vector<std::string> errors;
  bool skipped = false;
};

const std::vector<rules::LoadResult>& load_rule_files(FileContext& ctx) {
  if (!ctx.loaded) {
    std::vector<rules::LoadResult> loaded;
    loaded.reserve(ctx.rule_files.size());
    for (const auto& path : ctx.rule_files) {
      rules::LoadOptions lo;
      lo.ignore_unknown_fields = ctx.opts->ignore_unknown_fields;
      lo.experimental_promql = ctx.opts->experimental_promql;
      loaded.push_back(rules::load_rules_file(path, lo));
      bool failed = false;
      for (const auto& d : loaded.back().diagnostics) {
        failed = failed || d.severity == rules::Severity::Error;
      }
      if (failed) break;  // as before: the files after the first failing one are not read
    }
    ctx.loaded = std::move(loaded);
  }
  return *ctx.loaded;
}

GroupOutcome run_group(FileContext& ctx, const rules::UnitTestGroup& tg) {
  GroupOutcome out;
  const rules::UnitTestFile& file = *ctx.file;
  const Millis eval_interval = file.evaluation_interval_ms;
  const Millis interval = tg.interval_ms > 0 ? tg.interval_ms : eval_interval;
  const std::string name_prefix = tg.name.empty() ? "" : "    name: " + tg.name + ",\n";

  // Input series.
  Storage storage;
  for (const auto& in : tg.input_series) {
    // The selector and the values are parsed apart so that value errors count columns within
    // `values`.
    auto spec = in.series.find_first_of(" \t") == std::string::npos
                    ? parse_series_line(in.series)
                    : parse_series_line(in.series + " " + in.values);
    if (spec && spec->values.values.empty()) {
      auto vals = expand_values(in.values);
      if (!vals) {
        out.errors.push_back(fmt::format("{}:{}:{}: input series {}: values {}: {}", file.path,
                                         in.pos.line, in.pos.col, go_quote(in.series),
                                         go_quote(in.values), vals.error().message));
        return out;
      }
      spec->values = std::move(*vals);
    }
    if (!spec) {
      out.errors.push_back(fmt::format("{}:{}:{}: input series {}: {}", file.path, in.pos.line,
                                       in.pos.col, go_quote(in.series), spec.error().message));
      return out;
    }
    load_series(storage, *spec, tg.start_ms, interval);
  }

  // Rule files: every group of every file, evaluated in group_eval_order (partial order).
  const std::vector<rules::LoadResult>& loaded = load_rule_files(ctx);
  for (const auto& lr : loaded) {
    bool failed = false;
    for (const auto& d : lr.diagnostics) {
      if (d.severity == rules::Severity::Error) {
        out.errors.push_back(d.where.to_string() + ": " + d.message);
        failed = true;
      }
    }
    if (failed) return out;
  }
  GroupEnv env;
  env.append_histogram = [&storage](const Labels& l, Millis t, const HistogramPtr& h) {
    storage.append_histogram(l, t, h);
  };
  env.external_labels = tg.external_labels;
  env.external_url = tg.external_url;
  env.engine.default_subquery_step = eval_interval;
  env.engine.closed_windows = ctx.opts->promql_compat == 2;
  // Prometheus 2, and promtool 3 unless --enable-feature=promql-delayed-name-removal, drop
  // __name__ at each operator and function.
  env.engine.delayed_name_removal =
      ctx.opts->promql_compat != 2 &&
      (ctx.opts->experimental_promql & promql::kFeatureDelayedNameRemoval) != 0;
  env.interval = eval_interval;
  std::vector<std::unique_ptr<GroupRuntime>> groups;
  for (const auto& lr : loaded) {
    for (const auto& g : lr.file.groups) {
      GroupEnv genv = env;
      genv.query_offset = g.query_offset.ms;
      groups.push_back(std::make_unique<GroupRuntime>(g, lr.file.path, genv));
    }
  }
  std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) {
    auto rank = [&](const std::string& n) {
      auto it = ctx.group_order.find(n);
      return it == ctx.group_order.end() ? 0 : it->second;
    };
    return rank(a->group().name) < rank(b->group().name);
  });

  // Evaluation window and the alert checks, by eval time.
  Millis max_eval = 0;
  for (const auto& a : tg.alert_rule_test) max_eval = std::max(max_eval, a.eval_time_ms);
  for (const auto& p : tg.promql_expr_test) max_eval = std::max(max_eval, p.eval_time_ms);
  const Millis mint = tg.start_ms;
  const Millis maxt = mint + max_eval;
  std::map<Millis, std::vector<const rules::AlertTestCase*>> alert_tests;
  for (const auto& a : tg.alert_rule_test) alert_tests[a.eval_time_ms].push_back(&a);
  auto next_alert = alert_tests.begin();

  auto append = [&storage](const Labels& l, Millis t, double v) { storage.append(l, t, v); };
  for (Millis ts = mint; ts <= maxt; ts += eval_interval) {
    VisibleUntil visible(storage, ts);
    LocalRuleQuerier querier(visible, env.engine);
    std::vector<std::string> eval_errors;
    for (auto& g : groups) {
      g->eval(ts, querier, append);
      for (const auto& rt : g->rules()) {
        if (rt.last_error) {
          eval_errors.push_back(fmt::format("    rule: {}, time: {}, err: {}", rt.rule->name,
                                            go_duration(ts - mint), *rt.last_error));
        }
      }
    }
    if (!eval_errors.empty()) {
      out.errors.insert(out.errors.end(), eval_errors.begin(), eval_errors.end());
      return out;
    }

    while (next_alert != alert_tests.end() && ts - mint <= next_alert->first &&
           next_alert->first < ts - mint + eval_interval) {
      for (const auto* tc : next_alert->second) {
        bool with_pending = std::any_of(tc->exp_alerts.begin(), tc->exp_alerts.end(),
                                        [](const auto& e) { return e.state == "pending"; });
        std::vector<GotAlert> got;
        for (const auto& g : groups) {
          for (const auto& rt : g->rules()) {
            if (!rt.rule->is_alert() || rt.rule->name != tc->alertname) continue;
            for (const auto& [lbs, a] : rt.alerts) {
              if (a.state == AlertState::kFiring ||
                  (with_pending && a.state == AlertState::kPending)) {
                got.push_back({a.labels.to_labels(), a.annotations.to_labels(),
                               std::string(to_string(a.state))});
              }
            }
          }
        }
        std::vector<GotAlert> exp;
        for (const auto& e : tc->exp_alerts) {
          LabelsBuilder b(e.labels);
          b.set("alertname", tc->alertname);
          exp.push_back({b.build(), e.annotations, e.state});
        }
        std::sort(got.begin(), got.end());
        std::sort(exp.begin(), exp.end());
        if (got != exp) {
          std::string msg = fmt::format(
              "{}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}", name_prefix,
              tc->alertname, format_duration(tc->eval_time_ms),
              indent_lines(alerts_string(exp, with_pending), "            "),
              indent_lines(alerts_string(got, with_pending), "            "));
          std::string d = ctx.opts->diff ? alerts_diff(exp, got, with_pending) : std::string();
          if (!d.empty()) msg += "\n        diff (- expected, + got):\n" + d;
          out.errors.push_back(std::move(msg));
        }
      }
      ++next_alert;
    }
  }

  // PromQL expression tests, after all evaluations, with samples loaded up to maxt.
  VisibleUntil visible(storage, maxt);
  for (const auto& tc : tg.promql_expr_test) {
    auto fail = [&](const std::string& err) {
      out.errors.push_back(fmt::format("{}    expr: {}, time: {}, err: {}", name_prefix, go_quote(tc.expr),
                                       format_duration(tc.eval_time_ms), err));
    };
    auto expr = promql::parse(tc.expr, promql::parse_options_for(ctx.opts->experimental_promql));
    if (!expr) {
      fail(promql::format_parse_error(expr.error()));
      continue;
    }
    auto res = instant_query(visible, **expr, mint + tc.eval_time_ms, env.engine);
    if (!res) {
      fail(res.error().message);
      continue;
    }
    std::vector<ParsedSample> got;
    if (auto* v = std::get_if<Vector>(&res->value)) {
      for (const auto& s : *v) {
        if (s.h) {
          got.push_back({s.metric, 0, histogram_test_expression(*s.h)});
        } else {
          got.push_back({s.metric, s.v, {}});
        }
      }
    } else if (auto* s = std::get_if<Scalar>(&res->value)) {
      got.push_back({Labels{}, s->v, {}});
    } else {
      fail("rule result is not a vector or scalar");
      continue;
    }
    std::vector<ParsedSample> exp;
    bool bad = false;
    for (const auto& es : tc.exp_samples) {
      auto lbs = parse_metric(es.labels);
      if (!lbs) {
        fail(fmt::format("labels {}: {}", go_quote(es.labels), lbs.error().message));
        bad = true;
        break;
      }
      std::string hist;
      if (!es.histogram.empty()) {
        // promtool parses the expectation as the series description "{} <histogram>".
        auto vals = expand_values(es.histogram);
        std::string why;
        if (!vals) {
          why = vals.error().message;
        } else if (vals->values.size() != 1) {
          why = fmt::format("expected 1 value, got {}", vals->values.size());
        } else if (!vals->histogram_at(0)) {
          why = "expected a native histogram ({{...}})";
        }
        if (!why.empty()) {
          fail(fmt::format("labels {}: histogram {}: {}", go_quote(es.labels), go_quote(es.histogram),
                           why));
          bad = true;
          break;
        }
        hist = histogram_test_expression(*vals->histogram_at(0));
      }
      exp.push_back({std::move(*lbs), es.value, std::move(hist)});
    }
    if (bad) continue;
    auto by_labels = [](const ParsedSample& a, const ParsedSample& b) { return a.labels < b.labels; };
    std::sort(exp.begin(), exp.end(), by_labels);
    std::sort(got.begin(), got.end(), by_labels);
    bool equal = exp.size() == got.size();
    for (size_t i = 0; equal && i < exp.size(); ++i) {
      equal = exp[i].labels == got[i].labels && exp[i].histogram == got[i].histogram &&
              (file.fuzzy_compare ? fuzzy_equal(exp[i].value, got[i].value)
                                  : exact_equal(exp[i].value, got[i].value));
    }
    if (!equal) {
      out.errors.push_back(fmt::format("{}    expr: {}, time: {},\n        exp: {}\n        got: {}",
                                       name_prefix, go_quote(tc.expr), format_duration(tc.eval_time_ms),
                                       samples_string(exp), samples_string(got)));
    }
  }
  return out;
}


struct JUnitCase {
  std::string name;
  std::vector<std::string> failures;
};
struct JUnitSuite {
  std::string name;
  std::vector<JUnitCase> cases;
};

}  // namespace

int run_rule_unittests(const std::vector<std::string>& files, const RuleUnitTestOptions& opts,
                       std::ostream& out, std::ostream& err, RuleUnitTestSummary* summary) {
  RuleUnitTestSummary sum;
  std::unique_ptr<RE2> run_re;
  if (!opts.run.empty()) {
    std::string pattern;
    for (const auto& r : opts.run) {
      if (!pattern.empty()) pattern += '|';
      pattern += "(?:" + r + ")";
    }
    run_re = std::make_unique<RE2>(pattern, RE2::Quiet);
    if (!run_re->ok()) {
      err << "invalid --run pattern: " << run_re->error() << "\n";
      return 1;
    }
  }
  std::vector<JUnitSuite> junit;
  bool failed = false;
  for (const auto& path : files) {
    out << "Unit Testing:  " << path << "\n";
    JUnitSuite suite{path, {}};
    std::vector<std::string> errors;
    rules::UnitTestLoadOptions lo;
    lo.ignore_unknown_fields = opts.ignore_unknown_fields;
    auto file = rules::load_unittest_file(path, lo);
    FileContext ctx;
    ctx.opts = &opts;
    if (!file) {
      for (const auto& e : file.error()) errors.push_back(e.to_string());
    } else {
      ctx.file = &*file;
      fs::path base = fs::path(path).parent_path();
      for (const auto& rf : file->rule_files) {
        if (rf.empty()) continue;
        fs::path p = fs::path(rf).is_absolute() ? fs::path(rf) : base / rf;
        auto matched = Env::Default()->glob(p.string());
        if (matched && !matched->empty()) {
          for (auto& m : *matched) ctx.rule_files.push_back(std::move(m));
        } else {
          errors.push_back(fmt::format("{}: rule_files: no file matches pattern {}", path,
                                       go_quote(p.string())));
        }
      }
      for (size_t i = 0; i < file->group_eval_order.size(); ++i) {
        ctx.group_order.emplace(file->group_eval_order[i], static_cast<int>(i));
      }
    }
    if (errors.empty()) {
      for (const auto& tg : file->tests) {
        if (run_re && !RE2::PartialMatch(tg.name, *run_re)) continue;
        GroupOutcome g = run_group(ctx, tg);
        JUnitCase jc{tg.name.empty() ? fmt::format("test group at line {}", tg.pos.line) : tg.name,
                     g.errors};
        suite.cases.push_back(jc);
        if (g.errors.empty()) {
          ++sum.groups_passed;
        } else {
          ++sum.groups_failed;
          errors.insert(errors.end(), g.errors.begin(), g.errors.end());
        }
      }
    } else {
      suite.cases.push_back(JUnitCase{"load", errors});
      ++sum.files_not_loaded;
    }
    if (!errors.empty()) {
      failed = true;
      ++sum.files_failed;
      err << "  FAILED:\n";
      for (const auto& e : errors) err << e << "\n\n";
    } else {
      out << "  SUCCESS\n";
    }
    out << "\n";
    junit.push_back(std::move(suite));
  }
  out << fmt::format("{} passed, {} failed\n", sum.groups_passed,
                     sum.groups_failed + sum.files_not_loaded);
  if (!opts.junit_path.empty()) {
    std::string j;
    j += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
    for (const auto& s : junit) {
      size_t failures = 0;
      for (const auto& c : s.cases) failures += c.failures.empty() ? 0 : 1;
      j += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n", xml_escape(s.name),
                       s.cases.size(), failures);
      for (const auto& c : s.cases) {
        j += fmt::format("    <testcase name=\"{}\"", xml_escape(c.name));
        if (c.failures.empty()) {
          j += "></testcase>\n";
          continue;
        }
        std::string all;
        for (const auto& f : c.failures) all += f + "\n";
        j += fmt::format("><failure message=\"{}\">{}</failure></testcase>\n",
                         xml_escape(c.failures.front().substr(0, 200)), xml_escape(all));
      }
      j += "  </testsuite>\n";
    }
    j += "</testsuites>\n";
    // A regular file (or a new one) is replaced atomically: a crash never leaves half a report
    // for CI to read. A device or pipe (--junit /dev/stdout) is written to, not replaced.
    Env* env = Env::Default();
    const bool special =
        env->file_exists(opts.junit_path) && !env->is_regular_file(opts.junit_path);
    auto wrote = special ? env->append_file(opts.junit_path, j, 0644)
                         : env->replace_file(opts.junit_path, j, FileSync::kNone, 0644);
    if (!wrote) {
      err << "cannot write JUnit report to " << opts.junit_path << ": " << wrote.error().message
          << "\n";
      failed = true;
    }
  }
  if (summary) *summary = sum;
  return failed ? 1 : 0;
}

}  // namespace ruleeval::engine
