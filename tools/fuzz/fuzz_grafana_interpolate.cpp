// libFuzzer target: Grafana's provisioning interpolation ($VAR, ${VAR}, $__env{}, $__file{}, $$)
// of arbitrary text. Must never crash or hang; text without '$' comes back unchanged, and "$$"
// alone is a literal "$".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ruleeval/rules/grafana_interpolate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = ruleeval::rules::grafana_interpolate(text);
  if (text.find('$') == std::string_view::npos && (!r || *r != text)) std::abort();
  auto lit = ruleeval::rules::grafana_interpolate("$$");
  if (!lit || *lit != "$") std::abort();
  return 0;
}
