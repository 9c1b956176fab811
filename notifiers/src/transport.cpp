// The default Transport: HTTP and SMTP through libcurl, and files.
#include <algorithm>
#include <curl/curl.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "payloads.hpp"
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
      if (t > 0) st->retry_after_ms = std::max<Millis>(0, (t - time(nullptr)) * 1000);
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

void apply_tls(CURL* h, const TlsSettings& t) {
  if (!t.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, t.ca_file.c_str());
  if (!t.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, t.cert_file.c_str());
  if (!t.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, t.key_file.c_str());
  long v = CURL_SSLVERSION_DEFAULT;
  if (t.min_version == "TLS10") v = CURL_SSLVERSION_TLSv1_0;
  if (t.min_version == "TLS11") v = CURL_SSLVERSION_TLSv1_1;
  if (t.min_version == "TLS12") v = CURL_SSLVERSION_TLSv1_2;
  if (t.min_version == "TLS13") v = CURL_SSLVERSION_TLSv1_3;
  // Go's crypto/tls defaults to a TLS 1.2 minimum for clients.
  if (t.min_version.empty()) v = CURL_SSLVERSION_TLSv1_2;
  curl_easy_setopt(h, CURLOPT_SSLVERSION, v);
}

SendResult http_post(const OutboxEntry& e, const std::string& url, const HttpSettings& http,
                     const std::string& content_type, std::initializer_list<long> retry_codes) {
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
  c.headers = curl_slist_append(c.headers, ("Content-Type: " + content_type).c_str());
  c.headers = curl_slist_append(c.headers, "User-Agent: ruleeval/0.1");
  c.headers = curl_slist_append(c.headers, ("X-Ruleeval-Notification-Id: " + e.id).c_str());
  c.headers = curl_slist_append(c.headers, "Expect:");
  if (!http.bearer_token.empty()) {
    c.headers = curl_slist_append(
        c.headers,
        ("Authorization: " + http.authorization_type + " " + http.bearer_token).c_str());
  }
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_POST, 1L);
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, e.body.data());
  curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(e.body.size()));
  curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, c.headers);
  curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c.h, CURLOPT_HEADERDATA, &hs);
  curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, static_cast<long>(http.timeout_ms));
  curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<Millis>(http.timeout_ms, 10'000)));
  curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!http.basic_user.empty()) {
    curl_easy_setopt(c.h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c.h, CURLOPT_USERNAME, http.basic_user.c_str());
    curl_easy_setopt(c.h, CURLOPT_PASSWORD, http.basic_password.c_str());
  }
  if (http.insecure_skip_verify || http.tls.insecure_skip_verify) {
    curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  apply_tls(c.h, http.tls);
  if (!http.proxy_url.empty()) curl_easy_setopt(c.h, CURLOPT_PROXY, http.proxy_url.c_str());
  curl_easy_setopt(c.h, CURLOPT_FOLLOWLOCATION, http.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c.h, CURLOPT_MAXREDIRS, 10L);  // Go's http.Client stops after 10
  curl_easy_setopt(c.h, CURLOPT_HTTP_VERSION,
                   http.enable_http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1);
  CURLcode rc = curl_easy_perform(c.h);
  if (rc != CURLE_OK) {
    r.retryable = true;
    r.error = std::string("POST failed: ") + curl_easy_strerror(rc);
    return r;
  }
  long status = 0;
  curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
  r.status = status;
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
  curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  apply_tls(c.h, cfg.tls);
  if (!implicit) {
    curl_easy_setopt(
        c.h, CURLOPT_USE_SSL,
        cfg.require_tls ? static_cast<long>(CURLUSESSL_ALL) : static_cast<long>(CURLUSESSL_NONE));
  }
  if (cfg.insecure_skip_verify) {
    curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!cfg.auth_username.empty()) {
    curl_easy_setopt(c.h, CURLOPT_USERNAME, cfg.auth_username.c_str());
    curl_easy_setopt(c.h, CURLOPT_PASSWORD, cfg.auth_password.c_str());
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
  std::ofstream out(cfg.path, std::ios::app | std::ios::binary);
  out << e.body << '\n';
  out.flush();
  r.ok = static_cast<bool>(out);
  if (!r.ok) {
    r.retryable = true;
    r.error = "cannot append to \"" + cfg.path + "\"";
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
    }
    return missing();
  }
};

}  // namespace

std::unique_ptr<Transport> make_default_transport() { return std::make_unique<DefaultTransport>(); }

}  // namespace ruleeval::notifiers
