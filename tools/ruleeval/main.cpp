// ruleeval: alert rule evaluation engine. Exit codes: 0 ok, 1 problems found, 2 usage or I/O error.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>

#include "commands.hpp"
#include "ruleeval/common/build_info.hpp"
#include "ruleeval/http/client.hpp"

int main(int argc, char** argv) {
  ruleeval::http::install_default_env_http();  // HTTP through Env::Default() is libcurl's
  CLI::App app{"ruleeval: lint, test and evaluate Prometheus-style alert rules"};
  app.set_version_flag("--version", [] { return ruleeval::version_text(); });
  app.require_subcommand(1);
  int exit_code = 0;
  ruleeval::cli::register_promql(app, exit_code);
  ruleeval::cli::register_lint(app, exit_code);
  ruleeval::cli::register_test(app, exit_code);
  ruleeval::cli::register_run(app, exit_code);
  ruleeval::cli::register_replay(app, exit_code);
  ruleeval::cli::register_slo(app, exit_code);
  ruleeval::cli::register_check(app, exit_code);
  ruleeval::cli::register_completion(app, exit_code);
  // An unknown command names itself (CLI11 would only say that a subcommand is required).
  const auto subs = app.get_subcommands({});
  if (argc > 1 && argv[1][0] != '-' &&
      std::none_of(subs.begin(), subs.end(), [&](const CLI::App* s) { return s->check_name(argv[1]); })) {
    std::cerr << "ruleeval: unknown command \"" << argv[1] << "\" (commands:";
    for (const auto* sub : subs) std::cerr << " " << sub->get_name();
    std::cerr << "; see ruleeval --help)\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;  // usage errors are exit 2
  }
  return exit_code;
}
