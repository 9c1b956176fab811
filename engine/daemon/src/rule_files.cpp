#include "rule_files.hpp"

#include <glob.h>

#include "ruleeval/common/file_io.hpp"

namespace ruleeval::engine {

std::vector<std::string> expand_rule_files(const std::vector<std::string>& patterns,
                                           const std::string& config_path,
                                           std::vector<Error>& errs) {
  std::vector<std::string> files;
  for (const auto& pattern : patterns) {
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::string f = g.gl_pathv[i];
        if (auto ok = check_input_file(f); !ok) {
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
    globfree(&g);
  }
  return files;
}

}  // namespace ruleeval::engine
