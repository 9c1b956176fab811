// CurlSession: one libcurl easy handle with the project's HTTP settings (timeouts, gzip, auth,
// TLS, custom headers, a response size limit). Shared by the querier and the remote-write client.
// Private to engine/src. Not thread-safe: one session per worker.
// The handle is configured once; a request only sets its URL, body and (cached) header list, so
// the per-query cost stays close to libcurl's own (tools/bench/bench_query).
#pragma once

#include <curl/curl.h>

#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "ruleeval/engine/querier.hpp"

namespace ruleeval::engine {

struct HttpReply {
  int status = 0;
  const std::string* body = nullptr;  // the session's buffer, valid until the next request
};

class CurlSession {
 public:
  explicit CurlSession(const HttpClientConfig& config);
  ~CurlSession();
  CurlSession(const CurlSession&) = delete;
  CurlSession& operator=(const CurlSession&) = delete;

  // POSTs `body` to `url` with `content_type` and extra header lines ("Name: value").
  // Errors are transport-level only (curl, size limit, bearer token file); any HTTP status is a
  // reply.
  std::expected<HttpReply, QueryError> post(const std::string& url, std::string_view body,
                                            std::string_view content_type,
                                            std::span<const std::string> extra_headers = {});

  // application/x-www-form-urlencoded encoding of one value.
  static std::string escape(std::string_view s);
  static void escape_append(std::string& out, std::string_view s);

 private:
  static size_t on_data(char* ptr, size_t size, size_t nmemb, void* self);
  void configure();

  const HttpClientConfig& config_;
  CURL* curl_ = nullptr;
  // The header list of the last request and what it was built from; rebuilt when they differ,
  // and on every request with a bearer_token_file (re-read each time, for rotation).
  curl_slist* headers_ = nullptr;
  std::string headers_key_;
  std::string url_;  // the URL set on the handle
  std::string buffer_;
  bool over_limit_ = false;
  char errbuf_[CURL_ERROR_SIZE] = {};
};

}  // namespace ruleeval::engine
