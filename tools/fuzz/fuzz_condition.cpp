// libFuzzer target: parse arbitrary text as Grafana classic conditions; when it parses, print it,
// re-parse the canonical form, and evaluate it on a fixed data set. Must never crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ruleeval/parser/condition.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ruleeval::classic;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = parse_conditions(text);
  if (!c) return 0;
  const std::string canon = format(*c);
  auto again = parse_conditions(canon);
  if (!again || format(*again) != canon) std::abort();  // the printer must round-trip
  SeriesByRef series;
  series["A"] = {{1.0, std::nullopt, 3.0}, {}};
  series["B"] = {{-2.0}};
  (void)evaluate(*c, series);
  return 0;
}
