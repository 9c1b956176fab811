// The integrations of a receiver and their ids ("<receiver>/<kind>/<index>").
#include <string>
#include <vector>

#include "notifier_internal.hpp"

namespace ruleeval::notifiers {
namespace detail {

std::vector<IntegrationRef> integrations_of(const ReceiverConfig& rc) {
  std::vector<IntegrationRef> out;
  for (size_t i = 0; i < rc.slack.size(); ++i) {
    out.push_back({IntegrationKind::kSlack, i, rc.slack[i].send_resolved});
  }
  for (size_t i = 0; i < rc.pagerduty.size(); ++i) {
    out.push_back({IntegrationKind::kPagerDuty, i, rc.pagerduty[i].send_resolved});
  }
  for (size_t i = 0; i < rc.email.size(); ++i) {
    out.push_back({IntegrationKind::kEmail, i, rc.email[i].send_resolved});
  }
  for (size_t i = 0; i < rc.webhook.size(); ++i) {
    out.push_back({IntegrationKind::kWebhook, i, rc.webhook[i].send_resolved});
  }
  for (size_t i = 0; i < rc.alertmanager.size(); ++i) {
    out.push_back({IntegrationKind::kAlertmanager, i, rc.alertmanager[i].send_resolved});
  }
  for (size_t i = 0; i < rc.file.size(); ++i) {
    out.push_back({IntegrationKind::kFile, i, rc.file[i].send_resolved});
  }
  auto add = [&](IntegrationKind k, const auto& configs) {
    for (size_t i = 0; i < configs.size(); ++i) out.push_back({k, i, configs[i].send_resolved});
  };
  add(IntegrationKind::kOpsGenie, rc.opsgenie);
  add(IntegrationKind::kVictorOps, rc.victorops);
  add(IntegrationKind::kPushover, rc.pushover);
  add(IntegrationKind::kTelegram, rc.telegram);
  add(IntegrationKind::kDiscord, rc.discord);
  add(IntegrationKind::kWebex, rc.webex);
  add(IntegrationKind::kSns, rc.sns);
  add(IntegrationKind::kWechat, rc.wechat);
  add(IntegrationKind::kMSTeams, rc.msteams);
  add(IntegrationKind::kMSTeamsV2, rc.msteamsv2);
  return out;
}

std::string integration_id(const std::string& receiver, IntegrationKind k, size_t i) {
  return receiver + "/" + std::string(kind_name(k)) + "/" + std::to_string(i);
}

}  // namespace detail
}  // namespace ruleeval::notifiers
