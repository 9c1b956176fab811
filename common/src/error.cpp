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

std::string Error::kind_prefix() const {
  std::string out;
  switch (kind) {
    case ErrorKind::kGeneric:
      break;
    case ErrorKind::kParse:
      out = "parse error: ";
      break;
    case ErrorKind::kConfig:
      out = "configuration: ";
      break;
    case ErrorKind::kTransport:
      out = "request failed: ";
      break;
    case ErrorKind::kHttp:
    case ErrorKind::kApi:
      out = "HTTP " + std::to_string(http_status);
      if (!code.empty()) out += " (" + code + ")";
      out += ": ";
      break;
    case ErrorKind::kMalformed:
      out = http_status != 0 ? "HTTP " + std::to_string(http_status) + ": malformed response: "
                             : std::string("malformed response: ");
      break;
  }
  return out;
}

std::string Error::to_string() const {
  std::string loc = where.to_string();
  std::string text = kind_prefix() + message;
  if (loc.empty()) return text;
  return loc + ": " + text;
}

}  // namespace ruleeval
