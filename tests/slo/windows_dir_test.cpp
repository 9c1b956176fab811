// WindowsCatalog::load_dir walks the windows directory through the Env (issue 17): *.yaml and
// *.yml files in nested directories are read, other files are not, and a symlinked directory is
// not descended into (std::filesystem's recursive walk and Sloth's filepath.Walk do not either).
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>

#include "../support/temp_dir.hpp"
#include "ruleeval/slo/slo.hpp"

using namespace ruleeval::slo;

namespace {

constexpr int64_t kDayMs = int64_t{24} * 3600'000;

std::string windows(const std::string& period, int page_quick_budget) {
  return "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: " + period +
         "\n  page:\n    quick: {errorBudgetPercent: " + std::to_string(page_quick_budget) +
         ", shortWindow: 5m, longWindow: 1h}\n"
         "    slow: {errorBudgetPercent: 5, shortWindow: 30m, longWindow: 6h}\n"
         "  ticket:\n"
         "    quick: {errorBudgetPercent: 10, shortWindow: 2h, longWindow: 1d}\n"
         "    slow: {errorBudgetPercent: 10, shortWindow: 6h, longWindow: 3d}\n";
}

}  // namespace

TEST_CASE("SLO windows: nested files are found, other files and symlinked directories are not") {
  ruleeval::testing::TempDir d("slowin");
  ruleeval::testing::TempDir elsewhere("slowin_link");
  std::filesystem::create_directories(d.path + "/team/a");
  d.write("team/a/week.yaml", windows("7d", 2));
  d.write("month.yml", windows("30d", 2));
  d.write("README.md", "not a windows file");
  elsewhere.write("other.yaml", windows("28d", 2));
  REQUIRE(::symlink(elsewhere.path.c_str(), (d.path + "/linked").c_str()) == 0);
  auto cat = WindowsCatalog::load_dir(d.path);
  REQUIRE(cat);
  CHECK(cat->find(7 * kDayMs) != nullptr);
  CHECK(cat->find(30 * kDayMs) != nullptr);
  CHECK(cat->find(28 * kDayMs) == nullptr);

  auto file = WindowsCatalog::load_dir(d.path + "/month.yml");
  REQUIRE_FALSE(file);
  CHECK(file.error().message.find("not a directory") != std::string::npos);
  ruleeval::testing::TempDir empty("slowin_empty");
  auto none = WindowsCatalog::load_dir(empty.path);
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("no AlertWindows files") != std::string::npos);
}
