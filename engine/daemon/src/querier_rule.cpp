#include "ruleeval/engine/querier_rule.hpp"

namespace ruleeval::engine {

HttpClientConfig http_client_config(const rules::HttpSettings& s) {
  HttpClientConfig c;
  c.url = s.url;
  c.timeout_ms = s.timeout_ms;
  c.basic_username = s.basic_username;
  c.basic_password = s.basic_password;
  c.bearer_token = s.bearer_token;
  c.bearer_token_file = s.bearer_token_file;
  c.ca_file = s.tls.ca_file;
  c.cert_file = s.tls.cert_file;
  c.key_file = s.tls.key_file;
  c.insecure_skip_verify = s.tls.insecure_skip_verify;
  c.headers = s.headers;
  c.query_params = s.params;
  return c;
}

RemoteWriteConfig remote_write_config(const rules::RemoteWriteConfig& c) {
  RemoteWriteConfig out;
  out.http = http_client_config(c.http);
  out.queue_capacity = c.queue_capacity;
  out.max_attempts = c.max_retries + 1;
  return out;
}

namespace {
Result<QueryResult> to_result(QueryOutcome o) {
  if (o) return std::move(*o);
  return make_error(o.error().to_string());
}
}  // namespace

Result<QueryResult> HttpRuleQuerier::instant(const promql::Expr&, std::string_view text, Millis t) {
  return to_result(q_.query(text, t));
}

Result<QueryResult> HttpRuleQuerier::range(const promql::Expr&, std::string_view text, Millis start,
                                           Millis end, Millis step) {
  return to_result(q_.query_range(text, start, end, step));
}

}  // namespace ruleeval::engine
