// Alertmanager's http_config (prometheus/common's HTTPClientConfig as Alertmanager 0.25 applies
// it) mapped onto the project's HTTP client (common/http): authorization / bearer_token (inline
// or *_file, read now), basic_auth (password_file read now), oauth2 (a cached or freshly fetched
// token), tls_config, proxy_url / no_proxy / proxy_from_environment / proxy_connect_header,
// follow_redirects and enable_http2. The receivers' transports configure a client with it for
// each request.
// Thread-safety: may be called from any thread (see oauth2_authorization).
#pragma once

#include <string>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/common/http.hpp"
#include "ruleeval/http/client.hpp"
#include "ruleeval/notifiers/config.hpp"

namespace ruleeval::notifiers::detail {

// The client options for a request to `url` under `http`. Fails when a *_file secret cannot be
// read or an oauth2 token cannot be fetched (both worth retrying). `request_has_authorization`:
// the request sets its own Authorization header (opsgenie's GenieKey...), so http_config's
// credentials are not applied, as the request's own header wins in prometheus/common.
// Responses are kept up to 64 KiB (enough for error messages and API answers) and Retry-After is
// parsed.
// An oauth2 token is fetched through env.http_client().
Result<http::Options> http_options(Env& env, const HttpSettings& http, const std::string& url,
                                   bool request_has_authorization = false);

// tls_config as client options ("" min_version = TLS 1.2, Go's client default).
http::TlsOptions tls_options(const TlsSettings& t);

}  // namespace ruleeval::notifiers::detail
