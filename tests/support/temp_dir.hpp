// A fresh directory for one test (mkdtemp under the system temp dir, REQUIREd), removed with
// everything in it by the destructor; owner permissions are restored first, so a test that made
// it read-only still leaves nothing behind.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace ruleeval::testing {

struct TempDir {
  // /tmp/ruleeval_<name>_XXXXXX
  explicit TempDir(const std::string& name = "test") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / ("ruleeval_" + name + "_XXXXXX")).string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to the file `name` inside.
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
  }

  std::string path;
};

}  // namespace ruleeval::testing
