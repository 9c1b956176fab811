#include <string>

#include "ruleeval/common/build_info.hpp"

namespace ruleeval {

std::string version_text() {
  const BuildInfo& b = build_info();
  std::string out = "ruleeval, version " + b.version + " (branch: " + b.branch +
                    ", revision: " + b.revision + ")\n";
  out += "  build date:       " + b.date + "\n";
  out += "  compiler:         " + b.compiler + "\n";
  out += "  platform:         " + b.platform;  // CLI11 ends the line
  return out;
}

}  // namespace ruleeval
