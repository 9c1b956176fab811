#include "rule_files.hpp"

namespace ruleeval::engine {

std::vector<std::string> expand_rule_files(const std::vector<std::string>& patterns,
                                           const std::string& config_path,
                                           std::vector<Error>& errs, Env& env) {
  std::vector<std::string> files;
  for (const auto& pattern : patterns) {
    auto matches = env.glob(pattern);
    if (matches && !matches->empty()) {
      for (auto& f : *matches) {
        if (auto ok = env.check_input_file(f); !ok) {
          errs.emplace_back("rule_files: " + f + ": " + ok.error().message,
                            SourceLocation{config_path, 0, 0});
          continue;
        }
        files.push_back(std::move(f));
      }
    } else {
      errs.emplace_back("rule_files: no file matches " + pattern,
                        SourceLocation{config_path, 0, 0});
    }
  }
  return files;
}

}  // namespace ruleeval::engine
