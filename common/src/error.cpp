#include "ruleeval/common/error.hpp"

namespace ruleeval {

std::string SourceLocation::to_string() const {
  std::string out = file;
  if (line != 0) {
    if (!out.empty()) out += ':';
    out += std::to_string(line);
    if (col != 0) {
      out += ':';
      out += std::to_string(col);
    }
  }
  return out;
}

std::string Error::to_string() const {
  std::string loc = where.to_string();
  if (loc.empty()) return message;
  return loc + ": " + message;
}

}  // namespace ruleeval
