// ruleeval::http::Client: the project's one HTTP client (libcurl underneath, private to this
// room). Used by engine/remote (backend queries, remote write) and notifiers (receiver
// deliveries under Alertmanager's http_config).
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

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"

namespace ruleeval::http {

struct TlsOptions {
  std::string ca_file;    // PEM bundle to verify the server with ("" = the system's)
  std::string cert_file;  // client certificate (PEM)
  std::string key_file;   // its key
  // The name sent in SNI and verified in the server's certificate instead of the URL's host,
  // while the client still connects to the URL's host and sends its Host header (Go's
  // tls.Config.ServerName).
  std::string server_name;
  enum class MinVersion { kDefault, kTls10, kTls11, kTls12, kTls13 };
  MinVersion min_version = MinVersion::kDefault;  // kDefault = libcurl's default
  bool insecure_skip_verify = false;               // no certificate or host name check
};

struct Options {
  int64_t timeout_ms = 30'000;      // whole request; 0 = none
  int64_t connect_timeout_ms = 0;   // 0 = libcurl's default (300 s)
  // Response bodies larger than this fail with kTooLarge (0 = no limit), unless
  // truncate_body: then the body is kept up to about this size and the rest is discarded.
  size_t max_body_bytes = 0;
  bool truncate_body = false;
  bool gzip = false;  // Accept-Encoding: gzip, decoded transparently
  std::string user_agent = "ruleeval/0.1";
  // Basic authentication (sent when basic_auth is set).
  bool basic_auth = false;
  std::string basic_user, basic_password;
  // The Authorization header's value ("Bearer <token>", "<type> <credentials>"); "" = none.
  std::string authorization;
  // AWS Signature Version 4 (libcurl's): "aws:amz:<region>:<service>" signs every request with
  // aws_access_key / aws_secret_key (a session token goes in an X-Amz-Security-Token header
  // line); "" = none.
  std::string aws_sigv4, aws_access_key, aws_secret_key;
  // Sends "Expect:" so that a POST never waits for 100-continue. Off for SigV4: libcurl signs
  // the empty header it then never sends, and the signature fails.
  bool suppress_expect = true;
  TlsOptions tls;
  // Proxy URL; "" = connect directly; nullopt = libcurl's default (its http_proxy/https_proxy
  // environment variables).
  std::optional<std::string> proxy;
  // Header lines ("Name: value") sent to the proxy only, in CONNECT requests for https URLs.
  std::vector<std::string> proxy_connect_headers;
  bool follow_redirects = false;
  long max_redirects = 10;  // Go's http.Client stops after 10
  enum class Version { kDefault, kHttp1_1, kHttp2Tls };  // kHttp2Tls: HTTP/2 over TLS (ALPN)
  Version version = Version::kDefault;
  bool http_only = true;           // refuse URLs (and redirects) that are not http/https
  bool parse_retry_after = false;  // fill Response::retry_after_ms (a header callback)
};

struct Request {
  std::string_view method = "POST";  // "GET" sends no body
  std::string_view url;
  std::string_view body;
  // Header lines ("Name: value"; "Name:" removes a default header). Content-Type goes here.
  // "Expect:" is added unless Options::suppress_expect is off.
  std::span<const std::string> headers;
};

struct Response {
  long status = 0;
  std::string body;          // the client's buffer, valid until its next send()
  std::string content_type;  // "" when the server sent none
  int64_t retry_after_ms = -1;  // Retry-After (seconds or an HTTP date), -1 = absent/not parsed
  bool truncated = false;       // truncate_body cut the body
};

// Why a request got no (complete) response: an Error (the project's one error type) with kind
// ErrorKind::kTransport, message = libcurl's detailed message ("Failed to connect to ... :
// Connection refused"), http_status = the status when a response had started (else 0), and code =
// the transport kind's name, followed by ":<CURLcode>" when libcurl reported one ("connect:7",
// "too_large:23", "invalid"). Read it with the accessors below rather than parsing code.
//
// The kinds are what retry rules look at: a refused or unreachable connection and a timeout are
// transient; a TLS failure or an invalid URL is not going to pass by itself.
enum class TransportKind : uint8_t {
  kNone,      // not a transport error (transport_kind() of any other Error)
  kConnect,   // connection refused, host or proxy not resolved, unreachable
  kTimeout,   // connect or whole-request timeout
  kTls,       // handshake failed, certificate not trusted or not matching, bad client cert
  kTooLarge,  // the body is larger than max_body_bytes
  kInvalid,   // malformed URL, unsupported scheme, too many redirects, unreadable options
  kTransfer,  // the connection broke or the server answered something that is not HTTP
  kLocal,     // out of memory, libcurl could not start
};

// "connect", "timeout", "tls", "too_large", "invalid", "transfer", "local" ("" for kNone).
std::string_view transport_kind_name(TransportKind k);
// The transport kind of a send() error; kNone for an Error that is not ErrorKind::kTransport or
// whose code names no kind (e.g. a transport error made by another layer).
TransportKind transport_kind(const Error& e);
// The CURLcode of a send() error (for logs); 0 when libcurl reported none.
int curl_code(const Error& e);
// libcurl's short text for the error's CURLcode ("Couldn't connect to server"), or the message
// when the error did not come from libcurl ("invalid URL ...", "out of memory").
std::string transport_reason(const Error& e);

using SendResult = Result<const Response*>;

class Client {
 public:
  Client();
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Replaces the options; applied at the next send() (connections stay in the cache).
  void configure(Options options);
  const Options& options() const { return options_; }

  // Performs one request. Any HTTP status is a response; errors are transport-level only. The
  // returned response is this client's and valid until the next send() or configure().
  SendResult send(const Request& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Options options_;
};

// This thread's client, kept for the thread's lifetime (keep-alive across callers). Configure it
// before each send; do not hold its response across another use on the same thread.
Client& thread_client();

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
