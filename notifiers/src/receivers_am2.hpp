// Amazon SNS and WeChat receivers, as Alertmanager 0.25 sends them (notify/sns, notify/wechat).
// Payloads are rendered when a notification enters the outbox; the send functions run on the
// integration's delivery worker.
#pragma once

#include <string>

#include "payloads.hpp"
#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers::detail {

// {"endpoint": <templated api_url or https://sns.<region>.amazonaws.com>,
//  "body": <the Publish form body, keys sorted as aws-sdk-go's query protocol sends them>}
Result<std::string> sns_payload(const SnsConfig& c, const NotificationData& d, const Expander& x);
// POST <endpoint>/ signed with AWS SigV4 (aws_sts.hpp's aws_signed_post).
SendResult sns_send(Env& env, const OutboxEntry& e, const SnsConfig& c);

// {"body": <weChatMessage JSON as Go encodes it>, "corpid"/"corpsecret" only when templated}
Result<std::string> wechat_payload(const WechatConfig& c, const NotificationData& d,
                                   const Expander& x);
// GET <api_url>gettoken (access token cached 2 h per integration), POST message/send.
SendResult wechat_send(Env& env, const OutboxEntry& e, const WechatConfig& c);
void wechat_reset_tokens();  // tests

// Go's encoding/json escaping of <, >, &, U+2028 and U+2029 applied to JSON text.
std::string go_html_escape_json(std::string_view json);

}  // namespace ruleeval::notifiers::detail
