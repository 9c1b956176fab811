#include "lint_online.hpp"

#include <fmt/format.h>

#include <chrono>
#include <iterator>

#include "ruleeval/common/env.hpp"
#include "ruleeval/engine/online_lint.hpp"
#include "ruleeval/engine/querier_rule.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/rules/run_config.hpp"

namespace ruleeval::cli {

std::string add_online_diagnostics(const OnlineLintFlags& f,
                                   const std::vector<const rules::RuleFile*>& files,
                                   std::vector<rules::Diagnostic>& diags) {
  engine::OnlineLintOptions o;
  auto lookback = parse_duration(f.lookback);
  if (!lookback || *lookback <= 0) return fmt::format("--lookback {:?} is not a duration", f.lookback);
  auto timeout = parse_duration(f.query_timeout);
  if (!timeout || *timeout <= 0) {
    return fmt::format("--query-timeout {:?} is not a duration", f.query_timeout);
  }
  if (f.concurrency == 0) return "--online-concurrency must be at least 1";
  o.lookback = *lookback;
  o.pages_per_day_budget = f.pages_per_day;
  o.concurrency = f.concurrency;
  if (f.datasource.starts_with("http://") || f.datasource.starts_with("https://")) {
    o.backend.url = f.datasource;
  } else {
    auto cfg = rules::load_run_config(f.run_config);
    if (!cfg) {
      std::string msg = fmt::format("--datasource {:?}: cannot load {}", f.datasource, f.run_config);
      for (const auto& e : cfg.error()) msg += "; " + e.to_string();
      return msg;
    }
    const rules::DatasourceConfig* ds = nullptr;
    for (const auto& d : cfg->datasources) {
      if (d.name == f.datasource) ds = &d;
    }
    if (!ds) {
      return fmt::format("--datasource {:?}: no such datasource in {} (nor a http(s):// URL)",
                         f.datasource, f.run_config);
    }
    if (ds->type != rules::DatasourceConfig::Type::kPrometheus) {
      return fmt::format("--datasource {:?}: online checks need an HTTP backend, not an embedded "
                         "one",
                         f.datasource);
    }
    o.backend = engine::http_client_config(ds->http);
  }
  o.backend.timeout_ms = *timeout;
  o.now = Env::Default()->now_ms();
  auto r = engine::online_lint(files, o);
  if (!r) return r.error().message;
  std::move(r->begin(), r->end(), std::back_inserter(diags));
  return {};
}

}  // namespace ruleeval::cli
