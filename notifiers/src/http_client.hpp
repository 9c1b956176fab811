// prometheus/common's http_config applied to a libcurl handle (what Alertmanager 0.25's
// receivers do through commoncfg.NewClientFromConfig): basic auth, authorization, oauth2 client
// credentials (token fetched and cached until it expires), TLS (CA, client cert, server name,
// min version, insecure_skip_verify), proxy_url, follow_redirects, enable_http2. Secrets given
// as *_file are read when a request is made, as prometheus/common does.
// Thread-safety: every function may be called from any thread (the oauth2 token cache is
// guarded by an internal mutex; a token fetch for one client blocks other fetches of it only).
#pragma once

#include <curl/curl.h>

#include <map>
#include <string>
#include <string_view>

#include "ruleeval/common/error.hpp"
#include "ruleeval/notifiers/config.hpp"

namespace ruleeval::notifiers::detail {

// Lists a request set up by setup_http needs until curl_easy_perform returns; freed here.
struct CurlLists {
  curl_slist* headers = nullptr;
  curl_slist* connect_to = nullptr;
  curl_slist* proxy_headers = nullptr;  // proxy_connect_header (CONNECT requests only)
  CurlLists() = default;
  CurlLists(const CurlLists&) = delete;
  CurlLists& operator=(const CurlLists&) = delete;
  ~CurlLists();
};

// Sets CURLOPT_URL (a tls_config.server_name moves the TLS name into the URL and connects to the
// original host with CURLOPT_CONNECT_TO, keeping its Host header) and every http_config option
// on `h`; appends Authorization and Host headers to lists.headers (the caller adds its own
// headers and sets CURLOPT_HTTPHEADER). Fails when a *_file secret cannot be read or an
// oauth2 token cannot be fetched (both worth retrying). `request_has_authorization`: the
// request sets its own Authorization header, so http_config's credentials are not applied.
Result<void> setup_http(CURL* h, const std::string& url, const HttpSettings& http,
                        CurlLists& lists, bool request_has_authorization = false);

// The proxy of a request to `url` under http's proxy_url, no_proxy, proxy_from_environment
// (CURLOPT_PROXY, "" = direct) and its proxy_connect_header (CONNECT requests only).
void apply_proxy(CURL* h, const std::string& url, const HttpSettings& http, CurlLists& lists);

// TLS options of a tls_config (CA, client cert/key, min version, insecure_skip_verify).
void apply_tls_settings(CURL* h, const TlsSettings& t);

// Go's url.QueryEscape and url.Values.Encode (keys sorted, each value in order).
std::string query_escape(std::string_view s);
std::string form_encode(const std::multimap<std::string, std::string>& values);

// The Authorization header value an oauth2 client-credentials config yields now (fetching or
// reusing a cached token): "Bearer <token>".
Result<std::string> oauth2_authorization(const HttpSettings::OAuth2& o, Millis timeout_ms);
// Forgets cached tokens (tests).
void oauth2_reset_cache();

// The proxy URL for a request to `url` under http_config's proxy options (proxy_url, no_proxy,
// proxy_from_environment), or "" for a direct connection: prometheus/common's ProxyConfig
// (proxy.cpp).
std::string proxy_for(const HttpSettings& http, const std::string& url);

// Reads a *_file secret (trailing newlines kept off, as prometheus/common's TrimSpace does).
Result<std::string> read_secret_file(const std::string& path);

}  // namespace ruleeval::notifiers::detail
