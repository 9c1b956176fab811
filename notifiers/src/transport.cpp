// The default Transport: HTTP and SMTP through libcurl, and files.
#include <algorithm>
#include <curl/curl.h>

#include <cstdio>
#include <iterator>
#include <memory>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "payloads.hpp"
#include "receiver_http.hpp"
#include "receivers_am2.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/notifiers/notifier.hpp"

namespace ruleeval::notifiers {

using nlohmann::json;

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_ALL); }
};

void ensure_curl() {
  static CurlGlobal g;
  (void)g;
}

size_t write_body(char* ptr, size_t size, size_t n, void* user) {
  auto* s = static_cast<std::string*>(user);
  if (s->size() < 64 * 1024) s->append(ptr, size * n);  // enough for error messages
  return size * n;
}

struct HeaderState {
  Millis retry_after_ms = -1;
};

size_t on_header(char* buf, size_t size, size_t n, void* user) {
  auto* st = static_cast<HeaderState*>(user);
  std::string_view line(buf, size * n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() && strncasecmp(line.data(), kName.data(), kName.size()) == 0) {
    std::string v(line.substr(kName.size()));
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t\r\n") + 1);
    if (!v.empty() && std::all_of(v.begin(), v.end(), ::isdigit)) {
      st->retry_after_ms = std::stoll(v.substr(0, 9)) * 1000;
    } else if (!v.empty()) {
      time_t t = curl_getdate(v.c_str(), nullptr);
      if (t > 0) st->retry_after_ms = std::max<Millis>(0, (t - std::chrono::system_clock::to_time_t(Env::Default()->now())) * 1000);
    }
  }
  return size * n;
}

struct Curl {
  Curl() : h(curl_easy_init()) {}
  explicit Curl(CURL* shared) : h(shared), owned(false) {}  // a handle kept by the thread
  ~Curl() {
    if (headers) curl_slist_free_all(headers);
    if (rcpts) curl_slist_free_all(rcpts);
    if (mime) curl_mime_free(mime);
    if (h && owned) curl_easy_cleanup(h);
  }
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
  CURL* h;
  bool owned = true;
  curl_slist* headers = nullptr;
  curl_slist* rcpts = nullptr;
  curl_mime* mime = nullptr;
};

// HTTP connections (and TLS sessions) are kept alive between notifications: each delivering
// thread (one worker per integration) keeps one easy handle, reset before every request;
// curl_easy_reset keeps the handle's connection cache.
CURL* thread_http_handle() {
  struct Handle {
    CURL* h = curl_easy_init();
    ~Handle() {
      if (h) curl_easy_cleanup(h);
    }
  };
  thread_local Handle th;
  if (th.h) curl_easy_reset(th.h);
  return th.h;
}

// `body` (default e.body), `method`, `extra_headers` ("Name: value"; an Authorization among them
// replaces http_config's credentials, as the request's own header wins in prometheus/common) and
// `response` (the answer's body) serve the receivers of receiver_http.cpp.
SendResult http_post(const OutboxEntry& e, const std::string& url, const HttpSettings& http,
                     const std::string& content_type, std::initializer_list<long> retry_codes,
                     const std::string* body_override = nullptr,
                     const std::string& method = "POST",
                     const std::vector<std::string>& extra_headers = {},
                     std::string* response = nullptr) {
  const std::string& payload = body_override ? *body_override : e.body;
  bool own_auth = false;
  for (const auto& h : extra_headers) own_auth |= strncasecmp(h.c_str(), "Authorization:", 14) == 0;
  ensure_curl();
  Curl c(thread_http_handle());
  SendResult r;
  if (!c.h) {
    r.retryable = true;
    r.error = "curl_easy_init failed";
    return r;
  }
  std::string body;
  HeaderState hs;
  detail::CurlLists lists;
  if (auto ok = detail::setup_http(c.h, url, http, lists, own_auth); !ok) {
    r.retryable = true;
    r.error = ok.error().message;
    return r;
  }
  c.headers = lists.headers;
  lists.headers = nullptr;
  c.headers = curl_slist_append(c.headers, ("Content-Type: " + content_type).c_str());
  c.headers = curl_slist_append(c.headers, "User-Agent: ruleeval/0.1");
  c.headers = curl_slist_append(c.headers, ("X-Ruleeval-Notification-Id: " + e.id).c_str());
  c.headers = curl_slist_append(c.headers, "Expect:");
  for (const auto& h : extra_headers) c.headers = curl_slist_append(c.headers, h.c_str());
  curl_easy_setopt(c.h, CURLOPT_POST, 1L);
  if (method != "POST") curl_easy_setopt(c.h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c.h, CURLOPT_HEADERDATA, &hs);
  CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK) {
    r.retryable = true;
    r.error = std::string("POST failed: ") + curl_easy_strerror(rc);
    return r;
  }
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
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
  r.retry_after_ms = hs.retry_after_ms;
  // Alertmanager's Retrier: 5xx always; extra codes per integration (PagerDuty Events v2: 429,
  // v1: 403). Slack and webhook retry nothing else (a 429 is not retried, as in Alertmanager).
  r.retryable = status >= 500;
  for (long code : retry_codes) r.retryable = r.retryable || status == code;
  return r;
}

SendResult smtp_send(const OutboxEntry& e, const EmailConfig& cfg) {
  ensure_curl();
  SendResult r;
  json msg = json::parse(e.body, nullptr, false);
  // A corrupt entry (edited or truncated by hand) fails for good, it must not throw in a worker.
  if (msg.is_discarded() || !msg.is_object() || !msg.contains("from") || !msg["from"].is_string() ||
      !msg.contains("to") || !msg["to"].is_array() || !msg.contains("headers") ||
      !msg["headers"].is_object() ||
      !std::all_of(msg["to"].begin(), msg["to"].end(), [](const json& t) { return t.is_string(); }) ||
      !std::all_of(msg["headers"].begin(), msg["headers"].end(),
                   [](const json& h) { return h.is_string(); }) ||
      (msg.contains("text") && !msg["text"].is_string()) ||
      (msg.contains("html") && !msg["html"].is_string())) {
    r.error = "corrupt email entry";
    return r;
  }
  Curl c;
  if (!c.h) {
    r.retryable = true;
    r.error = "curl_easy_init failed";
    return r;
  }
  auto colon = cfg.smarthost.rfind(':');
  std::string port = cfg.smarthost.substr(colon + 1);
  bool implicit = cfg.force_implicit_tls || port == "465";
  std::string url =
      std::string(implicit ? "smtps://" : "smtp://") + cfg.smarthost + "/" + cfg.hello;
  curl_slist* connect_to = nullptr;
  if (!cfg.tls.server_name.empty()) {
    // tls_config.server_name: the TLS name (SNI and certificate check) instead of the
    // smarthost's host, while connecting to the smarthost.
    std::string host = cfg.smarthost.substr(0, colon);
    url = std::string(implicit ? "smtps://" : "smtp://") + cfg.tls.server_name + ":" + port +
          "/" + cfg.hello;
    connect_to = curl_slist_append(
        nullptr, (cfg.tls.server_name + ":" + port + ":" + host + ":" + port).c_str());
    curl_easy_setopt(c.h, CURLOPT_CONNECT_TO, connect_to);
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> connect_to_guard(
      connect_to, curl_slist_free_all);
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  detail::apply_tls_settings(c.h, cfg.tls);
  if (!implicit) {
    curl_easy_setopt(
        c.h, CURLOPT_USE_SSL,
        cfg.require_tls ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_NONE));
  }
  if (cfg.insecure_skip_verify) {
    curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  std::string password = cfg.auth_password;
  if (!cfg.auth_password_file.empty()) {  // read for every message, as Alertmanager does
    // Alertmanager 0.25 uses the file's bytes as they are (no trimming).
    auto text = Env::Default()->read_file(cfg.auth_password_file);
    if (!text) {
      r.retryable = true;
      r.error = "smtp: could not read " + cfg.auth_password_file;
      return r;
    }
    password = std::move(*text);
  }
  if (!cfg.auth_username.empty()) {
    // Alertmanager's auth(): CRAM-MD5 with auth_secret, PLAIN or LOGIN with the password; a
    // mechanism without its credential is never tried.
    const bool cram = password.empty() && !cfg.auth_secret.empty();
    if (cram) password = cfg.auth_secret;
    curl_easy_setopt(c.h, CURLOPT_LOGIN_OPTIONS, cram ? "AUTH=CRAM-MD5" : "AUTH=PLAIN;AUTH=LOGIN");
    curl_easy_setopt(c.h, CURLOPT_USERNAME, cfg.auth_username.c_str());
    curl_easy_setopt(c.h, CURLOPT_PASSWORD, password.c_str());
    if (!cfg.auth_identity.empty()) {
      curl_easy_setopt(c.h, CURLOPT_SASL_AUTHZID, cfg.auth_identity.c_str());
    }
  }
  std::string from = "<" + msg.at("from").get<std::string>() + ">";
  curl_easy_setopt(c.h, CURLOPT_MAIL_FROM, from.c_str());
  for (const auto& t : msg.at("to")) {
    c.rcpts = curl_slist_append(c.rcpts, ("<" + t.get<std::string>() + ">").c_str());
  }
  curl_easy_setopt(c.h, CURLOPT_MAIL_RCPT, c.rcpts);
  for (const auto& [k, v] : msg.at("headers").items()) {
    std::string val = v.get<std::string>();
    if (k != "To" && k != "From") val = detail::q_encode(val);
    c.headers = curl_slist_append(c.headers, (k + ": " + val).c_str());
  }
  c.headers = curl_slist_append(c.headers, "MIME-Version: 1.0");
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);

  // multipart/alternative: text/plain, then text/html (quoted-printable UTF-8).
  c.mime = curl_mime_init(c.h);
  curl_mime* alt = curl_mime_init(c.h);
  std::string text = msg.value("text", "");
  std::string html = msg.value("html", "");
  if (!text.empty()) {
    curl_mimepart* p = curl_mime_addpart(alt);
    curl_mime_data(p, text.data(), text.size());
    curl_mime_type(p, "text/plain; charset=UTF-8");
    curl_mime_encoder(p, "quoted-printable");
  }
  curl_mimepart* hp = curl_mime_addpart(alt);
  curl_mime_data(hp, html.data(), html.size());
  curl_mime_type(hp, "text/html; charset=UTF-8");
  curl_mime_encoder(hp, "quoted-printable");
  curl_mimepart* part = curl_mime_addpart(c.mime);
  curl_mime_subparts(part, alt);  // c.mime now owns alt
  curl_mime_type(part, "multipart/alternative");
  curl_slist* part_headers = curl_slist_append(nullptr, "Content-Disposition: inline");
  curl_mime_headers(part, part_headers, 1);
  curl_easy_setopt(c.h, CURLOPT_MIMEPOST, c.mime);
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg.timeout_ms));
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &code);
    r.status = code;
    r.error = std::string("smtp: ") + curl_easy_strerror(rc);
    if (code) r.error += " (server said " + std::to_string(code) + ")";
    // Permanent SMTP rejections (5xx) and bad credentials are not retried.
    // require_tls against a server without STARTTLS is a configuration problem, not transient.
    r.retryable =
        !(rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED || (code >= 500 && code < 600));
    return r;
  }
  r.ok = true;
  return r;
}

SendResult file_send(const OutboxEntry& e, const FileConfig& cfg) {
  SendResult r;
  if (cfg.path == "-") {
    static std::mutex mu;
    std::lock_guard lock(mu);
    std::cout << e.body << '\n' << std::flush;
    r.ok = true;
    return r;
  }
  // One write(2) with O_APPEND: concurrent notifications never interleave inside a line.
  auto done = Env::Default()->append_file(cfg.path, e.body + "\n");
  r.ok = done.has_value();
  if (!r.ok) {
    r.retryable = true;
    r.error = "cannot append to \"" + cfg.path + "\": " + done.error().message;
  }
  return r;
}

class DefaultTransport : public Transport {
 public:
  SendResult send(const OutboxEntry& e, const ReceiverConfig& rc, size_t i) override {
    auto missing = [&] {
      SendResult r;
      r.error = "integration " + e.integration + " is no longer configured";
      return r;
    };
    switch (e.kind) {
      case IntegrationKind::kSlack:
        if (i >= rc.slack.size()) return missing();
        return http_post(e, rc.slack[i].api_url, rc.slack[i].http, "application/json", {});
      case IntegrationKind::kPagerDuty:
        if (i >= rc.pagerduty.size()) return missing();
        if (rc.pagerduty[i].v1()) {
          return http_post(e, rc.pagerduty[i].url, rc.pagerduty[i].http, "application/json",
                           {403});
        }
        return http_post(e, rc.pagerduty[i].url, rc.pagerduty[i].http, "application/json",
                         {429});
      case IntegrationKind::kWebhook:
        if (i >= rc.webhook.size()) return missing();
        return http_post(e, rc.webhook[i].url, rc.webhook[i].http, "application/json", {});
      case IntegrationKind::kAlertmanager:
        if (i >= rc.alertmanager.size()) return missing();
        return http_post(e, rc.alertmanager[i].url + "/api/v2/alerts", rc.alertmanager[i].http,
                         "application/json", {429, 408});
      case IntegrationKind::kEmail:
        if (i >= rc.email.size()) return missing();
        return smtp_send(e, rc.email[i]);
      case IntegrationKind::kFile:
        if (i >= rc.file.size()) return missing();
        return file_send(e, rc.file[i]);
      case IntegrationKind::kOpsGenie:
        if (i >= rc.opsgenie.size()) return missing();
        return detail::send_envelope(e, rc.opsgenie[i].http, {429}, false);
      case IntegrationKind::kVictorOps:
        if (i >= rc.victorops.size()) return missing();
        return detail::send_envelope(e, rc.victorops[i].http, {}, false);
      case IntegrationKind::kPushover:
        if (i >= rc.pushover.size()) return missing();
        return detail::send_envelope(e, rc.pushover[i].http, {}, false);
      case IntegrationKind::kTelegram:
        if (i >= rc.telegram.size()) return missing();
        return detail::send_envelope(e, rc.telegram[i].http, {}, true);
      case IntegrationKind::kDiscord:
        if (i >= rc.discord.size()) return missing();
        return detail::send_envelope(e, rc.discord[i].http, {}, false);
      case IntegrationKind::kWebex:
        if (i >= rc.webex.size()) return missing();
        return detail::send_envelope(e, rc.webex[i].http, {}, false);
      case IntegrationKind::kSns:
        if (i >= rc.sns.size()) return missing();
        return detail::sns_send(e, rc.sns[i]);
      case IntegrationKind::kWechat:
        if (i >= rc.wechat.size()) return missing();
        return detail::wechat_send(e, rc.wechat[i]);
      case IntegrationKind::kMSTeams:  // Alertmanager's plain Retrier: 5xx only
        if (i >= rc.msteams.size()) return missing();
        return detail::send_envelope(e, rc.msteams[i].http, {}, false);
      case IntegrationKind::kMSTeamsV2:
        if (i >= rc.msteamsv2.size()) return missing();
        return detail::send_envelope(e, rc.msteamsv2[i].http, {}, false);
    }
    return missing();
  }
};

}  // namespace

SendResult detail::http_call(const OutboxEntry& e, const std::string& method,
                             const std::string& url, const std::string& body,
                             const std::string& content_type,
                             const std::vector<std::string>& headers, const HttpSettings& http,
                             std::string* response) {
  return http_post(e, url, http, content_type, {}, &body, method, headers, response);
}

std::unique_ptr<Transport> make_default_transport() { return std::make_unique<DefaultTransport>(); }

}  // namespace ruleeval::notifiers
