// libFuzzer target: parse arbitrary text as an alertmanager.yml (Alertmanager 0.25's schema and
// checks, then ruleeval's decoding) and as the inline blocks of a ruleeval.yaml. Must never
// crash, hang or throw: every outcome is a config or an Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ruleeval/notifiers/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto a = ruleeval::notifiers::parse_alertmanager_config(text, "fuzz.yml", "/nonexistent");
  if (!a && a.error().message.empty()) __builtin_trap();
  auto b = ruleeval::notifiers::parse_notify_config(text, "fuzz.yml", "/nonexistent");
  if (!b && b.error().message.empty()) __builtin_trap();
  return 0;
}
