// The function sets templates run with: Prometheus's alert/console template functions and the
// data Prometheus passes to alert templates; Alertmanager's notification template functions.
// The maps are immutable once built; a live context is read when a function is called.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include "ruleeval/common/env.hpp"
#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/parser/template_exec.hpp"
#include "ruleeval/parser/template_value.hpp"

namespace ruleeval::tmpl {

// One sample of a `query` result: {{ .Labels.x }} and {{ .Value }} in templates.
struct QuerySample {
  Labels labels;
  double value = 0;
};
using QueryFn = std::function<Result<std::vector<QuerySample>>(std::string_view expr)>;

struct PrometheusContext {
  QueryFn query;             // `query` errors when absent
  std::string external_url;  // externalURL / pathPrefix
  double now_seconds = 0;    // evaluation time, returned by `now`
};

// Prometheus's alert/console template functions (template/template.go).
FuncMap prometheus_functions(PrometheusContext ctx);
// The same, reading `ctx` when a function is called: one map can serve many evaluations while
// its owner updates the context (query, now) in between.
FuncMap prometheus_functions_live(const std::shared_ptr<const PrometheusContext>& ctx);
// The data Prometheus passes to alert templates: {Labels, ExternalLabels, ExternalURL, Value}.
Value alert_template_data(const Labels& labels, const Labels& external_labels,
                          std::string_view external_url, double value);
// The same with ExternalLabels already converted (Value::from_labels), to share across alerts.
Value alert_template_data(const Labels& labels, const Value& external_labels,
                          std::string_view external_url, double value);

// Alertmanager's notification template functions (template/template.go DefaultFuncs). `env`
// supplies the wall clock for `since` (ruleeval/common/env.hpp); it must outlive the map.
FuncMap alertmanager_functions(Env* env = Env::Default());

}  // namespace ruleeval::tmpl
