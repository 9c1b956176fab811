// libFuzzer target: parse arbitrary text as a Go template (both dialects), and when it parses,
// render it against a small Prometheus alert data set. Must never crash or hang.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "ruleeval/parser/template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ruleeval;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  tmpl::ParseOptions am;
  am.dialect = tmpl::Dialect::kAlertmanager;
  if (auto at = tmpl::parse(text, am)) {
    // Alertmanager notification data: time.Time/Duration methods over the zero time, times
    // before the epoch and at the ends of the int64 range (.StartsAt.Add, .Format, .Truncate).
    static const tmpl::Value am_data = [] {
      tmpl::NotificationData d;
      d.receiver = "r";
      d.status = "firing";
      d.alerts.push_back({"firing", Labels{{"alertname", "A"}}, Labels{}, tmpl::Time{-1'500'000'001},
                          tmpl::Time{}, "", "x"});
      d.alerts.push_back({"resolved", Labels{{"alertname", "B"}}, Labels{},
                          tmpl::Time{std::numeric_limits<int64_t>::min() + 1}, tmpl::Time{std::numeric_limits<int64_t>::max()}, "", "y"});
      return tmpl::notification_template_data(d);
    }();
    static const tmpl::FuncMap am_funcs = tmpl::alertmanager_functions();
    tmpl::RenderOptions ao;
    ao.max_output_bytes = 1 << 16;
    ao.max_range_iterations = 10000;
    (void)tmpl::render(*at, am_data, am_funcs, ao);
    // As an email `html` template: html/template's contextual escaper.
    ao.html_contextual = true;
    (void)tmpl::render(*at, am_data, am_funcs, ao);
  }
  (void)tmpl::analyze(tmpl::Template{});

  auto t = tmpl::parse_alert_template(text, "Fuzz");
  if (!t) return 0;
  (void)tmpl::analyze(*t);
  static const tmpl::FuncMap funcs = [] {
    tmpl::PrometheusContext ctx;
    ctx.external_url = "http://localhost:9090/prefix";
    ctx.query = [](std::string_view) -> Result<std::vector<tmpl::QuerySample>> {
      return std::vector<tmpl::QuerySample>{{Labels{{"instance", "a:1"}}, 1.5}};
    };
    return tmpl::prometheus_functions(ctx);
  }();
  static const tmpl::Value value = tmpl::alert_template_data(
      Labels{{"instance", "host:9100"}, {"job", "node"}}, Labels{{"dc", "x"}}, "http://x", 42.5);
  tmpl::RenderOptions opts;
  opts.max_output_bytes = 1 << 16;
  opts.max_range_iterations = 10000;
  auto r = tmpl::render(*t, value, funcs, opts);
  if (!r) (void)tmpl::error_expanding_template(*t, r.error());
  return 0;
}
