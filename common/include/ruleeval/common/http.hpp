// HTTP as the Env seam sees it (ruleeval/common/env.hpp): the plain request, response and option
// types, the classified transport error, and the abstract client that Env::http_client() and
// Env::new_http_client() hand out. No libcurl here: the real client (ruleeval::http::Client in
// common/http, libcurl underneath) implements HttpClient, and a program installs it into
// Env::Default() at startup with http::install_default_env_http() (ruleeval/http/client.hpp).
// Tests replace it with a fake (tests/common/fake_env.hpp: FakeHttp).
#pragma once

#include <cstddef>
#include <cstdint>
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
// A transport Error as send() returns it: kind ErrorKind::kTransport, `message`, http_status =
// `status`, code = the kind's name followed by ":<curl>" when `curl` is not 0. For
// implementations of HttpClient (the libcurl one, test fakes).
Error transport_error(TransportKind k, std::string message, int curl = 0, long status = 0);

using SendResult = Result<const Response*>;

}  // namespace ruleeval::http

namespace ruleeval {

// One HTTP client: options applied to every request it sends, connections kept alive between
// requests. The contracts of the real one (ruleeval::http::Client):
// - configure() replaces the options; they apply from the next send(). A caller with fixed options
//   (a querier) configures once and then pays per request only for its URL, body and headers.
// - send() performs one request. Any HTTP status is a response; errors are transport-level only
//   (an Error of kind kTransport, read with http::transport_kind()). The returned response is the
//   client's own and valid until its next send() or configure().
// Thread-safety: not thread-safe; use one per thread (Env::http_client() is this thread's) or own
// one (Env::new_http_client()). Separate clients may be used from any threads at the same time.
class HttpClient {
 public:
  HttpClient() = default;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  virtual ~HttpClient() = default;

  virtual void configure(http::Options options) = 0;
  virtual const http::Options& options() const = 0;
  virtual http::SendResult send(const http::Request& request) = 0;
};

// Where an Env gets its HTTP clients from (Env::install_default_http). Thread-safe.
class HttpProvider {
 public:
  virtual ~HttpProvider() = default;
  // The calling thread's client, kept for the thread's lifetime (keep-alive across callers).
  virtual HttpClient& this_thread_client() = 0;
  // A new client with `options`, for an owner that keeps it (a querier, a remote-write queue).
  virtual std::unique_ptr<HttpClient> new_client(http::Options options) = 0;
};

}  // namespace ruleeval
