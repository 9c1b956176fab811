// Each `ruleeval` subcommand registers itself on the CLI11 app. The callback stores its exit code
// in `exit_code`; main() returns it.
#pragma once

namespace CLI {
class App;
}

namespace ruleeval::cli {

void register_promql(CLI::App& app, int& exit_code);
void register_lint(CLI::App& app, int& exit_code);
void register_test(CLI::App& app, int& exit_code);
void register_run(CLI::App& app, int& exit_code);
void register_replay(CLI::App& app, int& exit_code);
void register_check(CLI::App& app, int& exit_code);  // promtool check rules
void register_slo(CLI::App& app, int& exit_code);
void register_completion(CLI::App& app, int& exit_code);

}  // namespace ruleeval::cli
