// ruleeval::http::Client: the project's one HTTP client (libcurl underneath, private to this
// room), the implementation of ruleeval::HttpClient (ruleeval/common/http.hpp, where the request,
// response and option types live). Nothing outside this room names it: engine/remote (backend
// queries, remote write) and notifiers (receiver deliveries under Alertmanager's http_config) get
// their clients from their Env (Env::http_client(), Env::new_http_client()), and a program makes
// Env::Default() hand out this client by calling install_default_env_http() at startup
// (tools/check_env.py refuses `http::Client` and `thread_client()` elsewhere).
//
// A Client owns one libcurl easy handle, so the connections (and TLS sessions) it opened are kept
// alive between requests. configure() stores the options; they are applied to the handle at the
// next send() only when they were changed, so a caller with fixed options (a querier) pays per
// request only for its URL, body and header list (the list is rebuilt only when its lines
// differ from the previous request's). The response body lives in a buffer the client reuses.
//
// Thread-safety: a Client is not thread-safe; use one per thread (thread_client() gives each
// thread its own). Separate Clients may be used from any threads at the same time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/http.hpp"

namespace ruleeval::http {

// libcurl's short text for the error's CURLcode ("Couldn't connect to server"), or the message
// when the error did not come from libcurl ("invalid URL ...", "out of memory").
std::string transport_reason(const Error& e);

class Client final : public HttpClient {
 public:
  Client();
  explicit Client(Options options);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Replaces the options; applied at the next send() (connections stay in the cache).
  void configure(Options options) override;
  const Options& options() const override { return options_; }

  // Performs one request. Any HTTP status is a response; errors are transport-level only. The
  // returned response is this client's and valid until the next send() or configure().
  SendResult send(const Request& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Options options_;
};

// This thread's client, kept for the thread's lifetime (keep-alive across callers). Configure it
// before each send; do not hold its response across another use on the same thread.
Client& thread_client();

// Makes Env::Default() (and every EnvWrapper over it) hand out this libcurl client: its
// http_client() is thread_client(), its new_http_client() a new Client. Called once at startup by
// every program that sends HTTP (the CLI's main, the test mains, benchmarks); idempotent and
// thread-safe. Without it, HTTP through Env::Default() fails with a clear kTransport Error.
void install_default_env_http();

// application/x-www-form-urlencoded / RFC 3986 escaping of one value: unreserved characters
// as they are, everything else %XX (space as %20).
void form_escape_append(std::string& out, std::string_view s);

// The scheme (lower-case), host (an IPv6 address in brackets) and port (the explicit one, else
// the scheme's default) of an absolute URL, as libcurl reads it for a request; nullopt when
// libcurl cannot parse it. Lets callers choose a proxy (no_proxy matching) per target.
struct UrlParts {
  std::string scheme, host, port;
};
std::optional<UrlParts> url_parts(std::string_view url);

// A Retry-After value ("120" or an HTTP date) in milliseconds from now; -1 if unparsable.
int64_t parse_retry_after(std::string_view value);

}  // namespace ruleeval::http
