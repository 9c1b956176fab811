// Label functions: label_replace, label_join, sort_by_label, sort_by_label_desc. They look at
// labels only, so native-histogram samples pass through them.
#include <algorithm>
#include <re2/re2.h>

#include "functions.hpp"
#include "ruleeval/engine/regex_cache.hpp"

namespace ruleeval::engine::detail {
namespace {

using promql::Call;

// Go regexp.Expand-style template expansion ($1, ${1}, $name, ${name}, $$).
std::string expand_template(std::string_view tmpl, const RE2& re,
                            const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& names = re.NamedCapturingGroups();
  auto group_value = [&](std::string_view name) -> std::string_view {
    bool numeric = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
      return ch >= '0' && ch <= '9';
    });
    if (numeric) {
      size_t idx = 0;
      for (char ch : name) {
        idx = idx * 10 + static_cast<size_t>(ch - '0');
        if (idx > groups.size()) return {};
      }
      if (idx < groups.size() && groups[idx].data()) return {groups[idx].data(), groups[idx].size()};
      return {};
    }
    auto it = names.find(std::string(name));
    if (it == names.end()) return {};
    auto idx = static_cast<size_t>(it->second);
    if (idx < groups.size() && groups[idx].data()) return {groups[idx].data(), groups[idx].size()};
    return {};
  };
  auto is_name_char = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
  };
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char ch = tmpl[i];
    if (ch != '$' || i + 1 >= tmpl.size()) {
      out += ch;
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (tmpl[i + 1] == '{') {
      auto close = tmpl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += ch;
        continue;
      }
      std::string_view name = tmpl.substr(i + 2, close - i - 2);
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_name_char)) {
        out += ch;
        continue;
      }
      out += group_value(name);
      i = close;
      continue;
    }
    size_t j = i + 1;
    while (j < tmpl.size() && is_name_char(tmpl[j])) ++j;
    if (j == i + 1) {
      out += ch;
      continue;
    }
    out += group_value(tmpl.substr(i + 1, j - i - 1));
    i = j - 1;
  }
  return out;
}

// Natural sort order for sort_by_label: digit runs compare numerically.
bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t si = i, sj = j;
      while (i < a.size() && digit(a[i])) ++i;
      while (j < b.size() && digit(b[j])) ++j;
      std::string_view na = a.substr(si, i - si), nb = b.substr(sj, j - sj);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

template <bool Desc>
Value fn_sort_by_label(Evaluator& ev, const Call& call, Millis t) {
  if (ev.start() != ev.end()) {
    ev.warn("PromQL warning: sort is ineffective for range queries since results are always "
            "ordered by labels");
  }
  Vector v = ev.eval_vector_keep_histograms(*call.args[0], t);
  std::vector<std::string> names;
  for (size_t i = 1; i < call.args.size(); ++i) names.push_back(string_arg(ev, call, i, t));
  std::stable_sort(v.begin(), v.end(), [&](const Sample& a, const Sample& b) {
    for (const auto& n : names) {
      auto av = a.metric.get(n), bv = b.metric.get(n);
      if (av == bv) continue;
      return Desc ? natural_less(bv, av) : natural_less(av, bv);
    }
    return Desc ? b.metric < a.metric : a.metric < b.metric;
  });
  return v;
}

Value fn_label_replace(Evaluator& ev, const Call& call, Millis t) {
  Vector v = ev.eval_vector_keep_histograms(*call.args[0], t);
  std::string dst = string_arg(ev, call, 1, t), repl = string_arg(ev, call, 2, t),
              src = string_arg(ev, call, 3, t), regex = string_arg(ev, call, 4, t);
  auto re_ptr = anchored_regex(regex);
  if (!re_ptr) fail("invalid regular expression in label_replace(): " + regex);
  const RE2& re = **re_ptr;
  if (!valid_label_name(dst)) fail("invalid destination label name in label_replace(): " + dst);
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
  for (auto& s : v) {
    auto sv = s.metric.get(src);
    re2::StringPiece input(sv.data(), sv.size());
    if (!re.Match(input, 0, input.size(), RE2::ANCHOR_BOTH, groups.data(),
                  static_cast<int>(groups.size()))) {
      continue;
    }
    std::string res = expand_template(repl, re, groups);
    LabelsBuilder lb(s.metric);
    lb.set(dst, res);
    s.metric = lb.build();
    if (dst == kMetricName) s.drop_name = false;
  }
  return v;
}

Value fn_label_join(Evaluator& ev, const Call& call, Millis t) {
  Vector v = ev.eval_vector_keep_histograms(*call.args[0], t);
  std::string dst = string_arg(ev, call, 1, t), sep = string_arg(ev, call, 2, t);
  std::vector<std::string> srcs;
  for (size_t i = 3; i < call.args.size(); ++i) {
    srcs.push_back(string_arg(ev, call, i, t));
    if (!valid_label_name(srcs.back())) {
      fail("invalid source label name in label_join(): " + srcs.back());
    }
  }
  if (!valid_label_name(dst)) fail("invalid destination label name in label_join(): " + dst);
  for (auto& s : v) {
    std::string joined;
    for (size_t i = 0; i < srcs.size(); ++i) {
      if (i) joined += sep;
      joined += s.metric.get(srcs[i]);
    }
    LabelsBuilder lb(s.metric);
    lb.set(dst, joined);
    s.metric = lb.build();
    if (dst == kMetricName) s.drop_name = false;
  }
  return v;
}

constexpr FunctionDef kDefs[] = {
    {"label_replace", fn_label_replace},
    {"label_join", fn_label_join},
    {"sort_by_label", fn_sort_by_label<false>},
    {"sort_by_label_desc", fn_sort_by_label<true>},
};

}  // namespace

std::span<const FunctionDef> label_function_defs() { return kDefs; }

}  // namespace ruleeval::engine::detail
