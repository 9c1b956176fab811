// libFuzzer target: parse arbitrary text as a Grafana math expression; when it parses, print it,
// re-parse the canonical form and print again (must be identical). Must never crash, hang or
// recurse without bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ruleeval/parser/grafana_math.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ruleeval::grafana;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto n = parse_math(text);
  if (!n) {
    if (n.error().where.line == 0) std::abort();  // every error has a position
    return 0;
  }
  (void)math_vars(*n);
  const std::string canon = format_math(*n);
  auto again = parse_math(canon);
  // The canonical form parenthesises every operation, so long chains may exceed the depth limit.
  if (!again && again.error().message.find("nested deeper") != std::string::npos) return 0;
  if (!again || format_math(*again) != canon) std::abort();  // the printer must round-trip
  return 0;
}
