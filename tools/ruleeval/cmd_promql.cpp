// `ruleeval promql`: not implemented yet.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"

namespace ruleeval::cli {

void register_promql(CLI::App& app, int& exit_code) {
  auto* sub = app.add_subcommand("promql", "(not implemented yet)");
  sub->callback([&exit_code] {
    std::cerr << "ruleeval promql: not implemented yet\n";
    exit_code = 2;
  });
}

}  // namespace ruleeval::cli
