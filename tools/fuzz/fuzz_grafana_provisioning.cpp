// libFuzzer target: read arbitrary text as a Grafana alerting provisioning file (contactPoints,
// policies, muteTimes, templates) and merge what parses into an empty notification config. Must
// never crash or hang; every error names a position or is a merge error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ruleeval/notifiers/grafana_provisioning.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ruleeval::notifiers;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  GrafanaSmtp smtp;
  smtp.smarthost = "127.0.0.1:25";
  smtp.from = "fuzz@localhost";
  (void)has_grafana_notifications(text);
  auto parsed = parse_grafana_notifications(text, "fuzz.yaml", smtp);
  if (!parsed) return 0;
  NotifyConfig cfg;
  std::vector<GrafanaNotifications> parts;
  parts.push_back(std::move(*parsed));
  (void)merge_grafana_notifications(cfg, false, std::move(parts), {});
  return 0;
}
