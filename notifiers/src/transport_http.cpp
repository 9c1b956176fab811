// http_config on the shared HTTP client (see transport_http.hpp).
#include "transport_http.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "http_client.hpp"

namespace ruleeval::notifiers::detail {

http::TlsOptions tls_options(const TlsSettings& t) {
  http::TlsOptions o;
  o.ca_file = t.ca_file;
  o.cert_file = t.cert_file;
  o.key_file = t.key_file;
  o.server_name = t.server_name;
  using V = http::TlsOptions::MinVersion;
  o.min_version = V::kTls12;  // Go's crypto/tls defaults to a TLS 1.2 minimum for clients
  if (t.min_version == "TLS10") o.min_version = V::kTls10;
  if (t.min_version == "TLS11") o.min_version = V::kTls11;
  if (t.min_version == "TLS13") o.min_version = V::kTls13;
  o.insecure_skip_verify = t.insecure_skip_verify;
  return o;
}

Result<http::Options> http_options(Env& env, const HttpSettings& http, const std::string& url,
                                   bool request_has_authorization) {
  http::Options o;
  o.timeout_ms = http.timeout_ms;
  o.connect_timeout_ms = std::min<Millis>(http.timeout_ms, 10'000);
  o.max_body_bytes = size_t{64} * 1024;
  o.truncate_body = true;
  o.parse_retry_after = true;
  o.http_only = true;
  // Authorization: authorization / bearer_token (inline or file), basic_auth, or oauth2 -- unless
  // the request carries its own, which wins as in prometheus/common.
  if (!request_has_authorization) {
    std::string credentials = http.bearer_token;
    if (!http.bearer_token_file.empty()) {
      auto s = read_secret_file(http.bearer_token_file);
      if (!s) return std::unexpected(s.error());
      credentials = *s;
    }
    if (!credentials.empty()) o.authorization = http.authorization_type + " " + credentials;
    if (!http.basic_user.empty() || !http.basic_password.empty() ||
        !http.basic_password_file.empty()) {
      o.basic_auth = true;
      o.basic_user = http.basic_user;
      o.basic_password = http.basic_password;
      if (!http.basic_password_file.empty()) {
        auto s = read_secret_file(http.basic_password_file);
        if (!s) return std::unexpected(s.error());
        o.basic_password = *s;
      }
    }
    if (!http.oauth2.token_url.empty()) {
      auto a = oauth2_authorization(env, http.oauth2, http.timeout_ms);
      if (!a) return std::unexpected(a.error());
      o.authorization = *a;
    }
  }
  o.tls = tls_options(http.tls);
  o.tls.insecure_skip_verify = o.tls.insecure_skip_verify || http.insecure_skip_verify;
  // prometheus/common's ProxyConfig (proxy.cpp); "" = direct, never libcurl's own reading of
  // http_proxy & co. proxy_connect_header goes to the proxy only, in CONNECT requests (Go's
  // Transport.ProxyConnectHeader); the client sends it only for https targets, as Go does.
  o.proxy = proxy_for(http, url);
  for (const auto& [name, value] : http.proxy_connect_header) {
    o.proxy_connect_headers.push_back(name);
    o.proxy_connect_headers.back().append(": ").append(value);
  }
  o.follow_redirects = http.follow_redirects;
  o.max_redirects = 10;  // Go's http.Client stops after 10
  o.version = http.enable_http2 ? http::Options::Version::kHttp2Tls
                                : http::Options::Version::kHttp1_1;
  return o;
}

}  // namespace ruleeval::notifiers::detail
