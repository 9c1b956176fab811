// `--enable-feature=...` as Prometheus and promtool spell it: repeatable, comma separated. The
// PromQL parser has one switch per experimental PromQL feature (promql::PromqlFeature bits).
#pragma once

#include <string>
#include <vector>

#include "ruleeval/rules/features.hpp"

namespace ruleeval::cli {

// Sets the PromqlFeature bit of each PromQL feature named. Returns false and names the first unknown
// feature in `unknown` otherwise.
inline bool parse_features(const std::vector<std::string>& flags, unsigned& experimental,
                           std::string& unknown) {
  for (const auto& flag : flags) {
    size_t start = 0;
    while (start <= flag.size()) {
      size_t comma = flag.find(',', start);
      if (comma == std::string::npos) comma = flag.size();
      std::string f = flag.substr(start, comma - start);
      start = comma + 1;
      if (f.empty()) continue;
      if (!rules::apply_feature(f, experimental)) {
        unknown = f;
        return false;
      }
    }
  }
  return true;
}

}  // namespace ruleeval::cli
