// `ruleeval test`: not implemented yet.
#include <CLI/CLI.hpp>

#include <iostream>

#include "commands.hpp"

namespace ruleeval::cli {

void register_test(CLI::App& app, int& exit_code) {
  auto* sub = app.add_subcommand("test", "(not implemented yet)");
  sub->callback([&exit_code] {
    std::cerr << "ruleeval test: not implemented yet\n";
    exit_code = 2;
  });
}

}  // namespace ruleeval::cli
