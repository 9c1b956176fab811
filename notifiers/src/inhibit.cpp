#include "ruleeval/notifiers/inhibit.hpp"

namespace ruleeval::notifiers {

namespace {

std::string equal_key(const Labels& l, const std::vector<std::string>& names) {
  std::string k;
  for (const auto& n : names) {
    k += l.get(n);
    k += '\xff';
  }
  return k;
}

}  // namespace

Inhibitor::Inhibitor(const std::vector<InhibitRule>& rules, std::span<const rules::Alert> sources) {
  for (const auto& r : rules) {
    Indexed ix{&r, {}};
    for (const auto& a : sources) {
      if (matches_all(r.source_matchers, a.labels)) {
        ix.by_equal.emplace(equal_key(a.labels, r.equal), a.labels);
      }
    }
    rules_.push_back(std::move(ix));
  }
}

bool Inhibitor::inhibited(const Labels& target) const {
  for (const auto& ix : rules_) {
    if (ix.by_equal.empty() || !matches_all(ix.rule->target_matchers, target)) continue;
    bool target_is_source = matches_all(ix.rule->source_matchers, target);
    auto [b, e] = ix.by_equal.equal_range(equal_key(target, ix.rule->equal));
    for (auto it = b; it != e; ++it) {
      // An alert matching both sides cannot be inhibited by one that also matches both sides
      // (in particular, not by itself).
      if (target_is_source && matches_all(ix.rule->target_matchers, it->second)) continue;
      return true;
    }
  }
  return false;
}

}  // namespace ruleeval::notifiers
