// libFuzzer target for the PromQL parser: parsing must never crash, and every expression that
// parses must survive format() -> parse() unchanged (and clone() must compare equal).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ruleeval/parser/promql.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  namespace pq = ruleeval::promql;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte picks the experimental feature flags (one bit each).
  pq::ParseOptions opts = pq::parse_options_for(size > 0 ? data[0] & pq::kFeatureAllPromql : 0u);
  auto r = pq::parse(input, opts);
  if (!r) {
    (void)pq::render_parse_error(r.error(), input);
    return 0;
  }
  const pq::Expr& e = **r;
  std::string printed = pq::format(e);
  auto again = pq::parse(printed, opts);
  if (!again) {
    std::fprintf(stderr, "formatted expression does not parse:\n  input: %.*s\n  format: %s\n  %s\n",
                 static_cast<int>(size), input.data(), printed.c_str(),
                 pq::format_parse_error(again.error()).c_str());
    std::abort();
  }
  if (!(**again == e)) {
    std::fprintf(stderr, "round trip changed the tree:\n  input: %.*s\n  format: %s\n",
                 static_cast<int>(size), input.data(), printed.c_str());
    std::abort();
  }
  if (pq::format(**again) != printed) {
    std::fprintf(stderr, "format is not idempotent: %s\n", printed.c_str());
    std::abort();
  }
  if (!(*e.clone() == e)) std::abort();
  (void)pq::to_json(e);
  (void)e.type();
  return 0;
}
