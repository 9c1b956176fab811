// Inhibition: a target alert is muted while a firing source alert matches source_matchers, the
// target matches target_matchers and every `equal` label has the same value on both (missing
// equals ""). An alert that matches both sides never inhibits itself.
// Thread-safety: an Inhibitor is immutable after construction (built per flush); const methods
// may be called from any thread.
#pragma once

#include <span>
#include <unordered_map>
#include <vector>

#include "ruleeval/notifiers/config.hpp"

namespace ruleeval::notifiers {

class Inhibitor {
 public:
  // Indexes the firing alerts of `sources` by each rule's equal-label values.
  Inhibitor(const std::vector<InhibitRule>& rules, std::span<const rules::Alert> sources);
  bool inhibited(const Labels& target) const;

 private:
  struct Indexed {
    const InhibitRule* rule;
    std::unordered_multimap<std::string, Labels> by_equal;  // equal values -> source labels
  };
  std::vector<Indexed> rules_;
};

}  // namespace ruleeval::notifiers
