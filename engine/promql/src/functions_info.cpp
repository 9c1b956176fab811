// info(v [, {data label selector}]) (experimental), as Prometheus's promql/info.go: adds to each
// series of v the data labels of the info series (target_info by default, or those the
// selector's __name__ matchers pick) that share its identifying labels (instance, job).
#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "functions.hpp"
#include "ruleeval/engine/storage.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Call;
using promql::LabelMatcher;
using promql::MatchOp;

constexpr std::string_view kTargetInfo = "target_info";
constexpr std::array<std::string_view, 2> kIdentifyingLabels{"instance", "job"};

LabelMatcher make_matcher(MatchOp op, std::string name, std::string value) {
  LabelMatcher m;
  m.op = op;
  m.name = std::move(name);
  m.value = std::move(value);
  return m;
}

// effectiveInfoNameMatchers: the __name__ matchers when one of them is = or =~; else
// `__name__=~".+_info"` added to them; target_info without any.
std::vector<LabelMatcher> effective_name_matchers(const std::vector<LabelMatcher>& ms) {
  for (const auto& m : ms) {
    if (m.op == MatchOp::Equal || m.op == MatchOp::Regex) return ms;
  }
  if (!ms.empty()) {
    std::vector<LabelMatcher> out{make_matcher(MatchOp::Regex, std::string(kMetricName), ".+_info")};
    out.insert(out.end(), ms.begin(), ms.end());
    return out;
  }
  return {make_matcher(MatchOp::Equal, std::string(kMetricName), std::string(kTargetInfo))};
}

std::vector<Matcher> compile(const std::vector<LabelMatcher>& ms) {
  std::vector<Matcher> out;
  for (const auto& m : ms) {
    auto c = Matcher::make(m);
    if (!c) fail(c.error().message);
    out.push_back(std::move(*c));
  }
  return out;
}

// infoSelectTimestampAndOffset: the @ and offset of the first vector selector of the argument,
// plus the offsets of the subqueries around it up to the first one with an @.
struct InfoTime {
  const promql::AtModifier* at = nullptr;
  Millis offset = 0;
};
bool find_selector(Evaluator& ev, const promql::Expr& e, std::vector<const promql::Subquery*>& path,
                   InfoTime& out) {
  if (const auto* vs = e.as<promql::VectorSelector>()) {
    out.offset = ev.offset_of(*vs);
    if (vs->at.kind != promql::AtModifier::Kind::None) out.at = &vs->at;
    for (auto it = path.rbegin(); !out.at && it != path.rend(); ++it) {
      out.offset += ev.duration((*it)->offset_expr.get(), (*it)->offset, true);
      if ((*it)->at.kind != promql::AtModifier::Kind::None) out.at = &(*it)->at;
    }
    return true;
  }
  bool found = false;
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        auto go = [&](const promql::ExprPtr& c) {
          if (!found && c) found = find_selector(ev, *c, path, out);
        };
        if constexpr (std::is_same_v<T, promql::MatrixSelector>) {
          go(n.vector);
        } else if constexpr (std::is_same_v<T, promql::Subquery>) {
          path.push_back(&n);
          go(n.expr);
          path.pop_back();
        } else if constexpr (std::is_same_v<T, promql::Paren> || std::is_same_v<T, promql::Unary>) {
          go(n.expr);
        } else if constexpr (std::is_same_v<T, promql::Binary>) {
          go(n.lhs);
          go(n.rhs);
        } else if constexpr (std::is_same_v<T, promql::Aggregate>) {
          go(n.param);
          go(n.expr);
        } else if constexpr (std::is_same_v<T, promql::Call>) {
          for (const auto& a : n.args) go(a);
        }
      },
      e.node);
  return found;
}

// The signature joining a series with info metric `name`: name plus its identifying labels.
std::string signature(std::string_view name, const Labels& l) {
  std::string sig(name);
  for (auto id : kIdentifyingLabels) {
    auto v = l.get(id);
    if (v.empty()) continue;
    sig += '\xff';
    sig += id;
    sig += '\xfe';
    sig += v;
  }
  return sig;
}

Value fn_info(Evaluator& ev, const Call& call, Millis t) {
  Vector base = ev.eval_vector_keep_histograms(*call.args[0], t);

  // The data label matchers by label name, and the __name__ ones.
  std::map<std::string, std::vector<LabelMatcher>> data_matchers;
  std::vector<LabelMatcher> name_matchers;
  if (call.args.size() > 1) {
    const promql::Expr* sel = call.args[1].get();
    while (const auto* p = sel->as<promql::Paren>()) sel = p->expr.get();
    const auto* vs = sel->as<promql::VectorSelector>();
    if (!vs) fail("expected label selector as the second argument of info");
    for (const auto& m : vs->matchers) {
      data_matchers[m.name].push_back(m);
      if (m.name == kMetricName) name_matchers.push_back(m);
    }
  } else {
    name_matchers.push_back(
        make_matcher(MatchOp::Equal, std::string(kMetricName), std::string(kTargetInfo)));
  }

  // Series that are themselves info series pass through unchanged.
  const auto effective = compile(effective_name_matchers(name_matchers));
  std::vector<bool> ignore(base.size(), false);
  for (size_t i = 0; i < base.size(); ++i) {
    ignore[i] = std::all_of(effective.begin(), effective.end(), [&](const Matcher& m) {
      return m.matches(base[i].metric.get(kMetricName));
    });
  }

  // Identifying label values of the other series.
  std::map<std::string_view, std::set<std::string>> id_values;
  for (size_t i = 0; i < base.size(); ++i) {
    if (ignore[i]) continue;
    for (auto id : kIdentifyingLabels) {
      auto v = base[i].metric.get(id);
      if (!v.empty()) id_values[id].insert(std::string(v));
    }
  }
  std::vector<LabelMatcher> info_name_matchers;
  std::vector<LabelMatcher> info_matchers;
  for (auto& [name, ms] : data_matchers) {
    for (const auto& m : ms) {
      if (m.name == kMetricName) {
        info_name_matchers.push_back(m);
      } else {
        info_matchers.push_back(m);
      }
    }
  }
  std::erase_if(data_matchers, [](const auto& kv) { return kv.first == kMetricName; });

  // The info series' samples at the reference time (vector-selector lookback), each with its
  // own timestamp, and their signatures.
  struct InfoSample {
    const Labels* metric;
    Millis ts;
  };
  std::unordered_map<std::string, InfoSample> by_sig;
  std::set<std::string> info_names;
  if (!id_values.empty()) {
    auto name_ms = effective_name_matchers(info_name_matchers);
    info_matchers.insert(info_matchers.end(), name_ms.begin(), name_ms.end());
    InfoTime it;
    std::vector<const promql::Subquery*> path;
    find_selector(ev, *call.args[0], path, it);
    Millis ref = (it.at ? ev.at_time(*it.at, t) : t) - it.offset;
    auto r = ev.queryable().select(info_matchers, ref - ev.options().lookback_delta, ref);
    if (!r) fail(r.error().message);
    std::vector<std::pair<const Labels*, Millis>> infos;
    for (const auto& s : *r) {
      bool ids_ok = true;
      for (const auto& [id, vals] : id_values) {
        if (!vals.contains(std::string(s.labels->get(id)))) {
          ids_ok = false;
          break;
        }
      }
      if (!ids_ok) continue;
      auto pos = std::upper_bound(s.t.begin(), s.t.end(), ref);
      if (pos == s.t.begin()) continue;
      size_t idx = static_cast<size_t>(pos - s.t.begin()) - 1;
      if (s.t[idx] <= ref - ev.options().lookback_delta) continue;
      if (is_stale_nan(s.v[idx])) continue;
      if (is_histogram_marker(s.v[idx])) fail("info sample should be float");
      infos.emplace_back(s.labels, s.t[idx]);
      info_names.insert(std::string(s.labels->get(kMetricName)));
    }
    for (const auto& [metric, ts] : infos) {
      std::string sig = signature(metric->get(kMetricName), *metric);
      auto [pos, inserted] = by_sig.emplace(sig, InfoSample{metric, ts});
      if (inserted) continue;
      if (pos->second.ts < ts) {
        pos->second = InfoSample{metric, ts};
      } else if (pos->second.ts == ts) {
        fail("found duplicate series for info metric: existing " + pos->second.metric->to_string() +
             " @ " + std::to_string(pos->second.ts) + ", new " + metric->to_string() + " @ " +
             std::to_string(ts));
      }
    }
  }

  Vector out;
  for (size_t i = 0; i < base.size(); ++i) {
    Sample& bs = base[i];
    if (ignore[i]) {
      out.push_back(std::move(bs));
      continue;
    }
    std::map<std::string, std::string> added_map;
    size_t seen = 0;
    for (const auto& name : info_names) {
      auto f = by_sig.find(signature(name, bs.metric));
      if (f == by_sig.end()) continue;
      for (const auto& l : *f->second.metric) {
        if (l.name == kMetricName) continue;
        if (!data_matchers.empty() && !data_matchers.contains(std::string(l.name))) continue;
        auto prev = added_map.find(std::string(l.name));
        if (prev != added_map.end() && !prev->second.empty() && prev->second != l.value) {
          fail("conflicting label: " + std::string(l.name));
        }
        if (bs.metric.has(l.name)) continue;
        added_map[std::string(l.name)] = std::string(l.value);
      }
      ++seen;
    }
    if (seen == 0) {
      bool all_empty = true;
      for (const auto& [name, ms] : data_matchers) {
        for (const auto& m : ms) {
          if (!m.matches_empty()) all_empty = false;
        }
      }
      if (!all_empty) continue;
    }
    LabelsBuilder lb(bs.metric);
    for (const auto& [k, v] : added_map) lb.set(k, v);
    bs.metric = lb.build();
    out.push_back(std::move(bs));
  }
  // Two inputs enriched to the same labels cannot both be returned.
  std::unordered_map<uint64_t, size_t> seen_hashes;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!seen_hashes.emplace(out[i].metric.hash(), i).second) {
      fail("vector cannot contain metrics with the same labelset");
    }
  }
  return out;
}

constexpr FunctionDef kDefs[] = {
    {"info", fn_info},
};

}  // namespace

std::span<const FunctionDef> info_function_defs() { return kDefs; }

}  // namespace ruleeval::engine::detail
