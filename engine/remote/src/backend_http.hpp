// BackendSession: a backend's HttpClientConfig (auth, TLS, headers, timeouts, response limit) on
// an HTTP client of the Env (Env::new_http_client(): libcurl's in the program, a fake in tests),
// for the querier and the remote-write client. Private to engine/remote. Not thread-safe: one
// session per worker.
// The client's options are set once; a request sets only its URL, body and header lines, which
// the client keeps as one cached list while they stay the same, so the per-query cost stays
// close to libcurl's own (tools/bench/bench_query).
#pragma once

#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/http.hpp"
#include "ruleeval/engine/querier.hpp"
#include "ruleeval/http/client.hpp"

namespace ruleeval::engine {

struct HttpReply {
  int status = 0;
  const std::string* body = nullptr;  // the session's buffer, valid until the next request
};

class BackendSession {
 public:
  // `env` gives the HTTP client (kept, options applied once) and reads bearer_token_file; it
  // must outlive the session.
  BackendSession(const HttpClientConfig& config, Env& env);

  // POSTs `body` to `url` with `content_type` and extra header lines ("Name: value").
  // Errors are transport-level only (connection, timeout, TLS, size limit: kTransport; an
  // unreadable bearer_token_file: kConfig); any HTTP status is a reply.
  Result<HttpReply> post(const std::string& url, std::string_view body,
                         std::string_view content_type,
                         std::span<const std::string> extra_headers = {});

  // application/x-www-form-urlencoded encoding of one value.
  static void escape_append(std::string& out, std::string_view s) {
    http::form_escape_append(out, s);
  }

 private:
  const HttpClientConfig& config_;
  Env& env_;
  std::unique_ptr<HttpClient> client_;
  // The header lines of the last request and what they were built from; rebuilt when the
  // content type or the extra lines differ, and on every request with a bearer_token_file
  // (re-read each time, for rotation).
  std::vector<std::string> headers_;
  std::string content_type_;
  std::vector<std::string> extra_;
  bool built_ = false;
};

}  // namespace ruleeval::engine
