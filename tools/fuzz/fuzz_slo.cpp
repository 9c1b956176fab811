// libFuzzer target for `ruleeval slo`: any input must load as SLO specs (or fail with
// file:line:col errors), and whatever loads must generate, render and produce its tests without
// crashing. The first byte picks the default period (30d, 28d, 7d or an unknown one).
#include <cstddef>
#include <cstdint>
#include <string>

#include "ruleeval/slo/slo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ruleeval::slo;
  if (size == 0) return 0;
  const int64_t day = 86'400'000;
  const int64_t periods[] = {30 * day, 28 * day, 7 * day, 90 * day};
  LoadOptions lo;
  lo.default_period_ms = periods[data[0] % 4];
  std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)WindowsCatalog::parse(text, "windows.yaml");
  auto loaded = load_specs(text, "fuzz.yaml", lo);
  auto cat = WindowsCatalog::builtin();
  for (const auto& doc : loaded.docs) {
    GenerateOptions g;
    g.windows = &cat;
    g.style = doc.kind == SpecKind::Pyrra ? Style::Pyrra : Style::Sloth;
    g.disable_alerts = (data[0] & 8) != 0;
    auto r = generate(doc, g);
    if (!r) continue;
    (void)render(*r, g);
    (void)generate_tests(*r, "rules.yml", g);
  }
  return 0;
}
