// The PromQL function table: the parser's signatures joined with the implementations of each
// concept file, and the helpers those implementations share.
#include "functions.hpp"

#include <cstdlib>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace ruleeval::engine::detail {
namespace {

struct Table {
  std::unordered_map<std::string_view, FunctionEntry> by_name;
  std::vector<std::string_view> unimplemented;
};

const Table& table() {
  static const Table kTable = [] {
    Table t;
    for (auto defs : {math_function_defs(), time_function_defs(), vector_function_defs(),
                      label_function_defs(), range_function_defs(), over_time_function_defs(),
                      histogram_function_defs(), info_function_defs()}) {
      for (const auto& d : defs) {
        // A name the parser does not know could never be called; one registered twice would
        // make the table ambiguous. Both are programming errors caught by the unit tests.
        const auto* info = promql::find_function(d.name);
        if (!info || !t.by_name.emplace(d.name, FunctionEntry{info, d.impl}).second) {
          std::abort();
        }
      }
    }
    for (const auto& f : promql::all_functions()) {
      if (!t.by_name.contains(f.name)) t.unimplemented.push_back(f.name);
    }
    return t;
  }();
  return kTable;
}

}  // namespace

const FunctionEntry* lookup_function(std::string_view name) {
  const auto& t = table();
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : &it->second;
}

std::vector<std::string_view> unimplemented_functions() { return table().unimplemented; }

Value Evaluator::eval_call(const promql::Call& call, const promql::Expr& e, Millis t) {
  (void)e;
  const FunctionEntry* f = lookup_function(call.func->name);
  if (!f) fail("function \"" + std::string(call.func->name) + "\" is not supported by this evaluator");
  check_extended_safe(call);
  return f->impl(*this, call, t);
}

void drop_name(Sample& s, const EngineOptions& opts) {
  if (opts.delayed_name_removal) {
    s.drop_name = true;
  } else {
    s.metric = s.metric.without_metric_name();
  }
}

std::optional<double> parse_go_float(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string tmp(s);
  char* end = nullptr;
  double v = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size()) return std::nullopt;
  return v;
}

Labels absent_labels(const promql::Expr& arg) {
  const promql::Expr* a = &arg;
  while (const auto* p = a->as<promql::Paren>()) a = p->expr.get();
  const promql::VectorSelector* vs = a->as<promql::VectorSelector>();
  if (const auto* ms = a->as<promql::MatrixSelector>()) vs = ms->vector->as<promql::VectorSelector>();
  if (!vs) return {};
  LabelsBuilder lb;
  std::unordered_set<std::string> has;
  for (const auto& m : vs->matchers) {
    if (m.name == kMetricName) continue;
    if (m.op == promql::MatchOp::Equal && !has.contains(m.name)) {
      lb.set(m.name, m.value);
      has.insert(m.name);
    } else {
      lb.del(m.name);
    }
  }
  return lb.build();
}

std::string string_arg(Evaluator& ev, const promql::Call& call, size_t i, Millis t) {
  Value v = ev.eval(*call.args[i], t);
  if (auto* s = std::get_if<String>(&v)) return std::move(s->v);
  fail("expected string argument " + std::to_string(i + 1) + " of " + std::string(call.func->name));
}

void warn_mixed_range(RangeCall& rc, const RangeArg& a) {
  rc.ev.warn("PromQL warning: encountered a mix of histograms and floats for metric name " +
             go_quote(a.metric->metric_name()));
}

void info_ignored_histograms(RangeCall& rc, const RangeArg& a) {
  rc.ev.info("PromQL info: ignored histograms in a range containing both floats and histograms "
             "for metric name " + go_quote(a.metric->metric_name()));
}

void warn_not_counter(Evaluator& ev, const Labels& metric) {
  ev.warn("PromQL warning: this native histogram metric is not a counter: " +
          go_quote(metric.metric_name()));
}

void warn_not_gauge(Evaluator& ev, const Labels& metric) {
  ev.warn("PromQL warning: this native histogram metric is not a gauge: " +
          go_quote(metric.metric_name()));
}

void warn_mixed_exponential_custom(Evaluator& ev, const Labels& metric) {
  ev.warn("PromQL warning: vector contains a mix of histograms with exponential and custom "
          "buckets schemas for metric name " + go_quote(metric.metric_name()));
}

Vector eval_range_function(RangeCall& rc, const promql::Call& call, size_t range_arg,
                           RangeKernel kernel, bool keep_name) {
  Vector out;
  rc.ev.for_each_range_series(
      *call.args[range_arg], rc.t,
      [&](const RangeArg& a) {
        if (a.points.empty() && a.histograms == 0) return;
        auto r = kernel(rc, a);
        if (!r) return;
        Sample s{*a.metric, r->v, rc.t, a.drop_name, std::move(r->h)};
        if (!keep_name) drop_name(s, rc.ev.options());
        out.push_back(std::move(s));
      },
      &rc.window_end, &rc.range);
  return out;
}

}  // namespace ruleeval::engine::detail

namespace ruleeval::engine {
std::vector<std::string_view> unimplemented_functions() { return detail::unimplemented_functions(); }
}  // namespace ruleeval::engine
