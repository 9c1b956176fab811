// Glue from the backend pieces to `ruleeval run`: a RuleQuerier (group_eval.hpp) that sends the
// rule's PromQL text to a Prometheus-compatible backend, and the mapping from ruleeval.yaml's
// HTTP/remote-write settings (rules/run_config.hpp) to the client configs.
// Thread-safety: like HttpQuerier, one HttpRuleQuerier per worker.
#pragma once

#include <string_view>

#include "ruleeval/common/env.hpp"
#include "ruleeval/engine/group_eval.hpp"
#include "ruleeval/engine/querier.hpp"
#include "ruleeval/engine/remote_write.hpp"
#include "ruleeval/rules/run_config.hpp"

namespace ruleeval::engine {

HttpClientConfig http_client_config(const rules::HttpSettings& s);
RemoteWriteConfig remote_write_config(const rules::RemoteWriteConfig& c);

class HttpRuleQuerier final : public RuleQuerier {
 public:
  // HTTP comes from `env` (HttpQuerier), which must outlive the querier.
  explicit HttpRuleQuerier(HttpClientConfig config, Env* env = Env::Default())
      : q_(std::move(config), env) {}

  // The parsed expression is not needed: the backend gets the text as written.
  Result<QueryResult> instant(const promql::Expr& expr, std::string_view text, Millis t) override;
  Result<QueryResult> range(const promql::Expr& expr, std::string_view text, Millis start,
                            Millis end, Millis step) override;

  HttpQuerier& querier() { return q_; }

 private:
  HttpQuerier q_;
};

}  // namespace ruleeval::engine
