// Queries against Prometheus-compatible HTTP backends (Prometheus, VictoriaMetrics, Thanos,
// Mimir): POST /api/v1/query and /api/v1/query_range, decoded in place with RapidJSON.
// Thread-safety: a HttpQuerier owns one HTTP client (connection reuse) and one response buffer;
// use one per worker thread. decode_query_response() is pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/engine/value.hpp"

namespace ruleeval::engine {

// Results use the embedded engine's value types (value.hpp): a vector is engine::Vector, a
// matrix engine::Matrix, and so on, so backend and local evaluation look the same to callers.

// A query's result, or an Error saying what the backend said or what went wrong on the way:
// kind kTransport (connect/TLS/timeout/size limit, from common/http; http_status when the client
// saw one), kHttp (non-2xx without a Prometheus error envelope), kApi ({"status":"error",
// "errorType", "error"}: `code` holds the errorType, e.g. "bad_data", "execution"), kMalformed
// (not the JSON we expect) or kConfig (e.g. an unreadable bearer_token_file); the messages of
// all but kApi start with the URL (password redacted). Error::to_string() gives the one-liner,
// e.g. "HTTP 422 (execution): <message>" or "request failed: <url>: <what happened>".
using QueryOutcome = Result<QueryResult>;

// "vector" | "matrix" | "scalar" | "string"
std::string_view result_type_name(const Value& v);

// Decodes a Prometheus API response body. `http_status` is the HTTP status (an error envelope
// can arrive with 400/422/503). `body` is copied once into a scratch buffer that RapidJSON
// parses in situ; strings are not copied again until they become Labels.
QueryOutcome decode_query_response(std::string_view body, int http_status);

// Parses Prometheus API sample values: "1", "-2.5e-3", "NaN", "+Inf", "-Inf".
Result<double> parse_prom_value(std::string_view s);
// Parses API timestamps ("1435781451.781", 1435781451) to milliseconds exactly, without going
// through a double.
Result<Millis> parse_prom_time(std::string_view s);
// Formats milliseconds the way the API accepts them: "1435781451.781", "1435781451".
std::string format_prom_time(Millis t);

// Where and how to reach a backend.
struct HttpClientConfig {
  std::string url;  // base URL, e.g. "http://127.0.0.1:9090" or ".../prometheus" (path prefix)
  // Auth: basic, or bearer (inline token or a file re-read on every request, for rotation).
  std::string basic_username;
  std::string basic_password;
  std::string bearer_token;
  std::string bearer_token_file;
  // TLS: verification is on unless insecure_skip_verify.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure_skip_verify = false;
  std::vector<std::pair<std::string, std::string>> headers;       // sent with every request
  std::vector<std::pair<std::string, std::string>> query_params;  // added to every query form
  Millis timeout_ms = 30'000;
  Millis connect_timeout_ms = 5'000;
  size_t max_response_bytes = 64u << 20;  // larger responses fail instead of eating memory
  bool gzip = true;                       // Accept-Encoding: gzip
};

class BackendSession;  // engine/remote/src: the backend's HTTP client (common/http)

// Anything that can answer PromQL queries. The state-restore code and the scheduler take this,
// so tests can pass fakes.
class Querier {
 public:
  virtual ~Querier() = default;
  virtual QueryOutcome query(std::string_view expr, Millis t) = 0;
  virtual QueryOutcome query_range(std::string_view expr, Millis start, Millis end,
                                   Millis step) = 0;
};

class HttpQuerier final : public Querier {
 public:
  // HTTP (one client, kept, options applied once) and bearer_token_file come from `env`, which
  // must outlive the querier.
  explicit HttpQuerier(HttpClientConfig config, Env* env = Env::Default());
  ~HttpQuerier() override;
  HttpQuerier(const HttpQuerier&) = delete;
  HttpQuerier& operator=(const HttpQuerier&) = delete;

  QueryOutcome query(std::string_view expr, Millis t) override;
  QueryOutcome query_range(std::string_view expr, Millis start, Millis end, Millis step) override;

  const HttpClientConfig& config() const { return config_; }

  // Cumulative response traffic of this querier, for the datasource metrics: body bytes (after gzip
  // decompression) and the time spent decoding them.
  struct Traffic {
    uint64_t response_bytes = 0;
    double decode_seconds = 0;
  };
  const Traffic& traffic() const { return traffic_; }

 private:
  QueryOutcome post(std::string_view path,
                    std::initializer_list<std::pair<std::string_view, std::string_view>> form);

  HttpClientConfig config_;
  std::unique_ptr<BackendSession> session_;
  Traffic traffic_;
  std::string body_, url_;  // reused between requests
  std::string base_, query_, shown_base_;  // config URL split at '?'; base with the password redacted
};

}  // namespace ruleeval::engine
