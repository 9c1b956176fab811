// Validation of Alertmanager's configuration schema exactly as Alertmanager 0.25's `config`
// package does it (strict YAML: unknown keys and wrong types are errors; then every UnmarshalYAML
// check and Config-level check, with Alertmanager's own wording), each error with file:line:col.
// Thread-safety: stateless free function; safe to call from any thread.
#pragma once

#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "ruleeval/common/error.hpp"

namespace ruleeval::notifiers::detail {

enum class AmMode {
  kAlertmanagerFile,  // an unchanged alertmanager.yml: exactly Alertmanager's keys
  kInline,            // the blocks inside ruleeval.yaml: other top-level keys belong to other
                      // layers; ruleeval's extensions (file_configs, alertmanager_configs,
                      // webhook url_file, http_config.timeout, email timeout) are allowed too
};

// The first problem Alertmanager would report, or nullopt when Alertmanager accepts the config.
std::optional<Error> validate_alertmanager(const YAML::Node& root, const std::string& file,
                                           AmMode mode);

// Alertmanager's time-interval definition checks (shared with the loader).
bool am_valid_label_name(std::string_view s);

}  // namespace ruleeval::notifiers::detail
