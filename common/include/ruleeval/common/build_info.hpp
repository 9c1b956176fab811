// What was built: version, git revision and branch, build date and compiler, as Prometheus
// components report them (`--version`, the `*_build_info` metric). The definition is generated
// at build time by cmake/BuildInfo.cmake into the build tree.
#pragma once

#include <string>

namespace ruleeval {

struct BuildInfo {
  std::string version;   // e.g. 0.1.0
  std::string revision;  // full git commit, or "unknown" outside a checkout
  std::string branch;
  std::string date;      // YYYYMMDD-HH:MM:SS (UTC): the commit's date, or SOURCE_DATE_EPOCH
  std::string compiler;  // e.g. GNU 12.2.0
  std::string platform;  // e.g. linux/amd64
};

const BuildInfo& build_info();

// The multi-line `ruleeval --version` text, in Prometheus's layout.
std::string version_text();

}  // namespace ruleeval
