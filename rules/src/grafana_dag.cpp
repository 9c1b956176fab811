#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include "ruleeval/rules/grafana_dag.hpp"

namespace ruleeval::rules {

std::string_view to_string(GrafanaNodeType t) {
  switch (t) {
    case GrafanaNodeType::kQuery:
      return "query";
    case GrafanaNodeType::kMath:
      return "math";
    case GrafanaNodeType::kReduce:
      return "reduce";
    case GrafanaNodeType::kResample:
      return "resample";
    case GrafanaNodeType::kThreshold:
      return "threshold";
    case GrafanaNodeType::kClassic:
      return "classic_conditions";
  }
  return "?";
}

std::optional<SseReducer> sse_reducer_from_name(std::string_view s) {
  std::string l(s);
  for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "sum") return SseReducer::kSum;
  if (l == "mean") return SseReducer::kMean;
  if (l == "min") return SseReducer::kMin;
  if (l == "max") return SseReducer::kMax;
  if (l == "count") return SseReducer::kCount;
  if (l == "last") return SseReducer::kLast;
  if (l == "median") return SseReducer::kMedian;
  return std::nullopt;
}

std::vector<std::string> GrafanaNode::inputs() const {
  switch (type) {
    case GrafanaNodeType::kQuery:
      return {};
    case GrafanaNodeType::kMath:
      return math ? grafana::math_vars(*math) : std::vector<std::string>{};
    case GrafanaNodeType::kReduce:
    case GrafanaNodeType::kResample:
    case GrafanaNodeType::kThreshold:
      return {input};
    case GrafanaNodeType::kClassic: {
      std::vector<std::string> out;
      for (const auto& c : conditions) {
        if (std::find(out.begin(), out.end(), c.ref_id) == out.end()) out.push_back(c.ref_id);
      }
      return out;
    }
  }
  return {};
}

const GrafanaNode* GrafanaDag::find(std::string_view ref) const {
  for (const auto& n : nodes) {
    if (n.ref_id == ref) return &n;
  }
  return nullptr;
}

std::vector<const GrafanaNode*> GrafanaDag::order() const {
  std::vector<const GrafanaNode*> out;
  std::map<std::string_view, int> mark;  // 1 = visiting, 2 = done
  bool ok = true;
  std::function<void(const GrafanaNode&)> visit = [&](const GrafanaNode& n) {
    int& m = mark[n.ref_id];
    if (m == 2) return;
    if (m == 1) {
      ok = false;
      return;
    }
    m = 1;
    for (const auto& in : n.inputs()) {
      const GrafanaNode* d = find(in);
      if (!d || d == &n) {
        ok = false;
        return;
      }
      visit(*d);
      if (!ok) return;
    }
    mark[n.ref_id] = 2;
    out.push_back(&n);
  };
  for (const auto& n : nodes) {
    visit(n);
    if (!ok) return {};
  }
  return out;
}

}  // namespace ruleeval::rules
