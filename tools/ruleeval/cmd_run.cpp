// `ruleeval run`: not implemented yet.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"

namespace ruleeval::cli {

void register_run(CLI::App& app, int& exit_code) {
  auto* sub = app.add_subcommand("run", "(not implemented yet)");
  sub->callback([&exit_code] {
    std::cerr << "ruleeval run: not implemented yet\n";
    exit_code = 2;
  });
}

}  // namespace ruleeval::cli
