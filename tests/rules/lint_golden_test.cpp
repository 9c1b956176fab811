// Golden tests: every check has tests/testdata/rules/checks/<check with / as _>/ holding
// good.yml (must not trigger the check), bad.yml (must) and bad.golden (the exact diagnostics of
// that check, "line:col: severity: message [check]"), plus an optional config.yaml.
// RULEEVAL_UPDATE_GOLDEN=1 rewrites the golden files (review the diff!).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ruleeval/rules/lint.hpp"

using namespace ruleeval::rules;
namespace fs = std::filesystem;

namespace {

const fs::path kChecksDir = fs::path(RULEEVAL_TESTDATA_DIR) / "rules" / "checks";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string dir_name(std::string_view check) {
  std::string s(check);
  for (char& c : s) {
    if (c == '/') c = '_';
  }
  return s;
}

std::string fmt_line(const Diagnostic& d) {
  Diagnostic copy = d;
  copy.where.file.clear();
  return copy.to_string() + "\n";
}

// Diagnostics of one check in golden form: the path is dropped, it depends on the checkout.
std::string render(const std::vector<Diagnostic>& diags, std::string_view check) {
  std::string out;
  for (const auto& d : diags) {
    if (d.check != check) continue;
    out += fmt_line(d);
  }
  return out;
}

}  // namespace

namespace {
// Checks that the CLI runs outside the rules layer (their cases are CLI tests): the Grafana
// notification resources are read by notifiers/ (tests/grafana.cmake).
bool cli_only(std::string_view check) { return check == "grafana/notifications"; }
}  // namespace

TEST_CASE("every check has a good and a bad golden case") {
  for (const auto& c : all_checks()) {
    if (cli_only(c.name)) continue;
    CAPTURE(c.name);
    const fs::path dir = kChecksDir / dir_name(c.name);
    CHECK(fs::exists(dir / "good.yml"));
    CHECK(fs::exists(dir / "bad.yml"));
    CHECK(fs::exists(dir / "bad.golden"));
  }
}

TEST_CASE("each check stays quiet on its good case and reports its bad case exactly") {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the test binary never calls setenv
  const bool update = std::getenv("RULEEVAL_UPDATE_GOLDEN") != nullptr;
  for (const auto& c : all_checks()) {
    const fs::path dir = kChecksDir / dir_name(c.name);
    if (cli_only(c.name) || !fs::exists(dir / "bad.yml")) continue;
    CAPTURE(c.name);
    LintConfig cfg;
    if (fs::exists(dir / "config.yaml")) {
      auto loaded = parse_lint_config(read(dir / "config.yaml"), "config.yaml");
      REQUIRE(loaded.has_value());
      cfg = *loaded;
    }
    LoadOptions opts;
    auto good = lint_text(read(dir / "good.yml"), "good.yml", opts, cfg);
    CHECK(render(good, c.name) == "");
    auto bad = lint_text(read(dir / "bad.yml"), "bad.yml", opts, cfg);
    const std::string got = render(bad, c.name);
    CHECK_FALSE(got.empty());
    if (update) {
      std::ofstream(dir / "bad.golden", std::ios::binary) << got;
    } else {
      CHECK(got == read(dir / "bad.golden"));
    }
  }
}
