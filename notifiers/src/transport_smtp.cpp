// Email over SMTP with libcurl (see transport_smtp.hpp).
#include "transport_smtp.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "payloads.hpp"
#include "ruleeval/common/env.hpp"

namespace ruleeval::notifiers::detail {

using nlohmann::json;

namespace {

// tls_config on the SMTP handle (CA, client cert/key, min version, insecure_skip_verify).
void apply_tls_settings(CURL* h, const TlsSettings& t) {
  if (!t.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, t.ca_file.c_str());
  if (!t.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, t.cert_file.c_str());
  if (!t.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, t.key_file.c_str());
  long v = CURL_SSLVERSION_TLSv1_2;  // Go's crypto/tls defaults to a TLS 1.2 minimum for clients
  if (t.min_version == "TLS10") v = CURL_SSLVERSION_TLSv1_0;
  if (t.min_version == "TLS11") v = CURL_SSLVERSION_TLSv1_1;
  if (t.min_version == "TLS13") v = CURL_SSLVERSION_TLSv1_3;
  curl_easy_setopt(h, CURLOPT_SSLVERSION, v);
  if (t.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

void ensure_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
}

struct Curl {
  Curl() : h(curl_easy_init()) {}
  ~Curl() {
    if (headers) curl_slist_free_all(headers);
    if (rcpts) curl_slist_free_all(rcpts);
    if (mime) curl_mime_free(mime);
    if (h) curl_easy_cleanup(h);
  }
  Curl(const Curl&) = delete;
  Curl& operator=(const Curl&) = delete;
  CURL* h;
  curl_slist* headers = nullptr;
  curl_slist* rcpts = nullptr;
  curl_mime* mime = nullptr;
};

}  // namespace

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
  apply_tls_settings(c.h, cfg.tls);
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
    if (k != "To" && k != "From") val = q_encode(val);
    c.headers = curl_slist_append(c.headers, fmt::format("{}: {}", k, val).c_str());
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

}  // namespace ruleeval::notifiers::detail
