// Helpers of prometheus/common's http_config (what Alertmanager 0.25's receivers get through
// commoncfg.NewClientFromConfig) that transport_http.hpp's http_options() maps onto the shared
// HTTP client (common/http): the oauth2 client-credentials token (fetched through that client
// and cached until it expires), the proxy choice (proxy.cpp), *_file secrets (read when a
// request is made, as prometheus/common does) and Go's form encoding.
// Thread-safety: every function may be called from any thread (the oauth2 token cache is
// guarded by an internal mutex; a token fetch for one client blocks other fetches of it only).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/notifiers/config.hpp"

namespace ruleeval::notifiers::detail {

// Go's url.Values.Encode (keys sorted, each value in order, url.QueryEscape'd).
std::string form_encode(const std::multimap<std::string, std::string>& values);

// The Authorization header value an oauth2 client-credentials config yields now (fetching or
// reusing a cached token): "Bearer <token>". A fetch goes through env.http_client().
Result<std::string> oauth2_authorization(Env& env, const HttpSettings::OAuth2& o,
                                         Millis timeout_ms);
// Forgets cached tokens (tests).
void oauth2_reset_cache();

// The proxy URL for a request to `url` under http_config's proxy options (proxy_url, no_proxy,
// proxy_from_environment), or "" for a direct connection: prometheus/common's ProxyConfig
// (proxy.cpp).
std::string proxy_for(const HttpSettings& http, const std::string& url);

// Reads a *_file secret through `env` (default: Env::Default()), with surrounding white space
// trimmed as Go's strings.TrimSpace does (prometheus/common and Alertmanager's notifiers).
Result<std::string> read_secret_file(const std::string& path);
Result<std::string> read_secret_file(Env& env, const std::string& path);
// `value` when set (or when there is no file), else read_secret_file(file): the inline-or-*_file
// secrets Alertmanager's notifiers read at every send (Slack, webhook, PagerDuty keys).
Result<std::string> value_or_secret_file(Env& env, const std::string& value,
                                         const std::string& file);

}  // namespace ruleeval::notifiers::detail
