// The default Transport: HTTP through the shared HTTP client (common/http) under http_config
// (transport_http.cpp), SMTP (transport_smtp.cpp), and files.
#include <strings.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "payloads.hpp"
#include "receiver_http.hpp"
#include "receivers_am2.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/http/client.hpp"
#include "ruleeval/notifiers/notifier.hpp"
#include "transport_http.hpp"
#include "transport_smtp.hpp"

namespace ruleeval::notifiers {

using nlohmann::json;

namespace {

// `body` (default e.body), `method`, `extra_headers` ("Name: value"; an Authorization among them
// replaces http_config's credentials, as the request's own header wins in prometheus/common) and
// `response` (the answer's body, up to 64 KiB) serve the receivers of receiver_http.cpp.
// HTTP connections (and TLS sessions) are kept alive between notifications: each delivering
// thread (one worker per integration) sends through its own client, env.http_client().
SendResult http_post(Env& env, const OutboxEntry& e, const std::string& url, const HttpSettings& http,
                     const std::string& content_type, std::initializer_list<long> retry_codes,
                     const std::string* body_override = nullptr,
                     const std::string& method = "POST",
                     const std::vector<std::string>& extra_headers = {},
                     std::string* response = nullptr) {
  const std::string& payload = body_override ? *body_override : e.body;
  bool own_auth = false;
  for (const auto& h : extra_headers) own_auth |= strncasecmp(h.c_str(), "Authorization:", 14) == 0;
  SendResult r;
  auto options = detail::http_options(env, http, url, own_auth);
  if (!options) {
    r.retryable = true;
    r.error = options.error().message;
    return r;
  }
  std::vector<std::string> headers;
  headers.reserve(extra_headers.size() + 2);
  headers.push_back("Content-Type: " + content_type);
  headers.push_back("X-Ruleeval-Notification-Id: " + e.id);
  headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
  HttpClient& client = env.http_client();
  client.configure(std::move(*options));
  auto sent = client.send(http::Request{method, url, payload, headers});
  if (!sent) {
    r.retryable = true;
    r.error = "POST failed: " + http::transport_reason(sent.error());
    return r;
  }
  const http::Response& res = **sent;
  const long status = res.status;
  const std::string& body = res.body;
  r.status = status;
  if (response) *response = body;
  if (status >= 200 && status < 300) {
    r.ok = true;
    if (e.kind == IntegrationKind::kSlack) {
      // Incoming webhooks answer "ok"; the Web API answers {"ok":true} or {"ok":false,...}.
      std::string b = body;
      b.erase(b.find_last_not_of(" \r\n\t") + 1);
      if (b != "ok") {
        auto j = json::parse(b, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          r.ok = false;
          r.error = "slack: unexpected response body: " + b.substr(0, 200);
        } else if (!j.value("ok", false)) {
          r.ok = false;
          r.error = "slack error: " + j.value("error", std::string("unknown"));
        }
      }
    }
    return r;
  }
  r.error = "unexpected status code " + std::to_string(status) + ": " + body.substr(0, 512);
  r.retry_after_ms = res.retry_after_ms;
  // Alertmanager's Retrier: 5xx always; extra codes per integration (PagerDuty Events v2: 429,
  // v1: 403). Slack and webhook retry nothing else (a 429 is not retried, as in Alertmanager).
  r.retryable = status >= 500;
  for (long code : retry_codes) r.retryable = r.retryable || status == code;
  return r;
}

SendResult file_send(Env& env, const OutboxEntry& e, const FileConfig& cfg) {
  SendResult r;
  if (cfg.path == "-") {
    static std::mutex mu;
    std::lock_guard lock(mu);
    std::cout << e.body << '\n' << std::flush;
    // A closed or full standard output (a pipe whose reader went away: `ruleeval run` ignores
    // SIGPIPE, so the write fails with EPIPE instead of ending the process) is a failed delivery,
    // retried like any other, never a notification counted as sent.
    r.ok = !std::cout.fail();
    if (!r.ok) {
      std::cout.clear();
      r.retryable = true;
      r.error = "cannot write to standard output";
    }
    return r;
  }
  // One write(2) with O_APPEND: concurrent notifications never interleave inside a line.
  auto done = env.append_file(cfg.path, e.body + "\n");
  r.ok = done.has_value();
  if (!r.ok) {
    r.retryable = true;
    r.error = "cannot append to \"" + cfg.path + "\": " + done.error().message;
  }
  return r;
}

// The inline URL, or else its *_file's content with surrounding space trimmed, read now:
// Alertmanager reads these files at every send (notify/slack, notify/webhook), so a rotated
// secret needs no reload and a file that is not there yet is no config error. An unreadable file
// fails this attempt without a retry, as there (the notifier returns false with the error).
SendResult post_to(Env& env, const OutboxEntry& e, const std::string& url, const std::string& file,
                   std::string_view path, const HttpSettings& http,
                   std::initializer_list<long> retry_codes) {
  auto u = detail::value_or_secret_file(env, url, file);
  if (!u) {
    SendResult r;
    r.error = u.error().message;
    return r;
  }
  if (!path.empty()) {
    while (!u->empty() && u->back() == '/') u->pop_back();
    *u += path;
  }
  return http_post(env, e, *u, http, "application/json", retry_codes);
}

class DefaultTransport : public Transport {
 public:
  explicit DefaultTransport(Env* env) : env_(*env) {}

  SendResult send(const OutboxEntry& e, const ReceiverConfig& rc, size_t i) override {
    auto missing = [&] {
      SendResult r;
      r.error = "integration " + e.integration + " is no longer configured";
      return r;
    };
    switch (e.kind) {
      case IntegrationKind::kSlack:
        if (i >= rc.slack.size()) return missing();
        return post_to(env_, e, rc.slack[i].api_url, rc.slack[i].api_url_file, {},
                       rc.slack[i].http, {});
      case IntegrationKind::kPagerDuty:
        if (i >= rc.pagerduty.size()) return missing();
        if (rc.pagerduty[i].v1()) {
          return http_post(env_, e, rc.pagerduty[i].url, rc.pagerduty[i].http, "application/json",
                           {403});
        }
        return http_post(env_, e, rc.pagerduty[i].url, rc.pagerduty[i].http, "application/json",
                         {429});
      case IntegrationKind::kWebhook:
        if (i >= rc.webhook.size()) return missing();
        return post_to(env_, e, rc.webhook[i].url, rc.webhook[i].url_file, {}, rc.webhook[i].http,
                       {});
      case IntegrationKind::kAlertmanager:
        if (i >= rc.alertmanager.size()) return missing();
        return post_to(env_, e, rc.alertmanager[i].url, rc.alertmanager[i].url_file,
                       "/api/v2/alerts", rc.alertmanager[i].http, {429, 408});
      case IntegrationKind::kEmail:
        if (i >= rc.email.size()) return missing();
        return detail::smtp_send(e, rc.email[i]);
      case IntegrationKind::kFile:
        if (i >= rc.file.size()) return missing();
        return file_send(env_, e, rc.file[i]);
      case IntegrationKind::kOpsGenie:
        if (i >= rc.opsgenie.size()) return missing();
        return detail::send_envelope(env_, e, rc.opsgenie[i].http, {429}, false);
      case IntegrationKind::kVictorOps:
        if (i >= rc.victorops.size()) return missing();
        return detail::send_envelope(env_, e, rc.victorops[i].http, {}, false);
      case IntegrationKind::kPushover:
        if (i >= rc.pushover.size()) return missing();
        return detail::send_envelope(env_, e, rc.pushover[i].http, {}, false);
      case IntegrationKind::kTelegram:
        if (i >= rc.telegram.size()) return missing();
        return detail::send_envelope(env_, e, rc.telegram[i].http, {}, true);
      case IntegrationKind::kDiscord:
        if (i >= rc.discord.size()) return missing();
        return detail::send_envelope(env_, e, rc.discord[i].http, {}, false);
      case IntegrationKind::kWebex:
        if (i >= rc.webex.size()) return missing();
        return detail::send_envelope(env_, e, rc.webex[i].http, {}, false);
      case IntegrationKind::kSns:
        if (i >= rc.sns.size()) return missing();
        return detail::sns_send(env_, e, rc.sns[i]);
      case IntegrationKind::kWechat:
        if (i >= rc.wechat.size()) return missing();
        return detail::wechat_send(env_, e, rc.wechat[i]);
      case IntegrationKind::kMSTeams:  // Alertmanager's plain Retrier: 5xx only
        if (i >= rc.msteams.size()) return missing();
        return detail::send_envelope(env_, e, rc.msteams[i].http, {}, false);
      case IntegrationKind::kMSTeamsV2:
        if (i >= rc.msteamsv2.size()) return missing();
        return detail::send_envelope(env_, e, rc.msteamsv2[i].http, {}, false);
    }
    return missing();
  }

 private:
  Env& env_;
};

}  // namespace

SendResult detail::http_call(Env& env, const OutboxEntry& e, const std::string& method,
                             const std::string& url, const std::string& body,
                             const std::string& content_type,
                             const std::vector<std::string>& headers, const HttpSettings& http,
                             std::string* response) {
  return http_post(env, e, url, http, content_type, {}, &body, method, headers, response);
}

std::unique_ptr<Transport> make_default_transport(Env* env) {
  return std::make_unique<DefaultTransport>(env);
}

}  // namespace ruleeval::notifiers
