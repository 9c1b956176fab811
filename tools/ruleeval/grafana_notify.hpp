// Grafana provisioning files among a run's rule files: their contactPoints, policies, muteTimes
// and templates, and the rules' notification_settings, added to the notification config.
#pragma once

#include <optional>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/notifiers/config.hpp"
#include "ruleeval/rules/run_config.hpp"

namespace ruleeval::cli {

// Creates `ncfg` when the rule files configure notifications and ruleeval.yaml does not.
Result<void> add_grafana_notifications(const rules::RunConfig& cfg,
                                       std::optional<notifiers::NotifyConfig>& ncfg);

// For a reload: builds the notification configuration of `cfg` as `ruleeval run` does at start
// (an error when it is invalid) and returns a fingerprint of its Grafana parts (the files'
// contactPoints, policies, muteTimes, templates and the rules' notification_settings). With
// `running`, a notification_settings receiver the running notifier lacks is an error: the
// notifier keeps the configuration it started with.
Result<std::string> grafana_notifications_for_reload(
    const rules::RunConfig& cfg, const std::optional<notifiers::NotifyConfig>& running);

// `ruleeval lint`: the contact points, policies and mute timings of one file, as diagnostics
// text ("file:line:col: message"); empty when fine or when the file has none.
std::optional<Error> lint_grafana_notifications(std::string_view text, const std::string& path);

}  // namespace ruleeval::cli
