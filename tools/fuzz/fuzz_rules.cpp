// libFuzzer target for the rule loaders and lint checks: any input must load (or fail with
// diagnostics) and lint without crashing, hanging or leaking.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ruleeval/rules/lint.hpp"
#include "ruleeval/rules/loader.hpp"
#include "ruleeval/rules/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ruleeval::rules;
  LoadOptions opts;
  opts.threads = 1;
  opts.ignore_unknown_fields = size > 0 && (data[0] & 1) != 0;
  LoadResult loaded =
      load_rules_text(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yml", opts);
  LintConfig cfg;
  cfg.required_labels = {"severity"};
  std::vector<Diagnostic> diags = lint_loaded(loaded, cfg);
  const RuleFile* files[] = {&loaded.file};
  auto across = check_across_files(files, cfg);
  diags.insert(diags.end(), across.begin(), across.end());
  apply_config(diags, files, cfg);
  // Rendering walks source lines and columns: exercise it too.
  (void)render_report(diags, OutputFormat::Text, files);
  return 0;
}
