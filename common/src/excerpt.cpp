#include "ruleeval/common/excerpt.hpp"

namespace ruleeval {

std::string excerpt(std::string_view s, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string_view cut = s.substr(0, max);
  std::string out;
  out.reserve(cut.size() + 8);
  for (char ch : cut) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace ruleeval
