// ruleeval slo library: Go float printing, burn factors, spec loading errors, Sloth's shapes.
#include <doctest/doctest.h>

#include "ruleeval/common/go_format.hpp"
#include "ruleeval/slo/slo.hpp"

using namespace ruleeval::slo;
using ruleeval::format_go_float;
using ruleeval::format_go_float_fixed;

TEST_CASE("common go_format prints the SLO floats like Go's strconv.FormatFloat(v, 'g', -1, 64)") {
  CHECK(format_go_float(100 - 99.9, 6) == "0.09999999999999432");
  CHECK(format_go_float((100 - 99.9) / 100, 6) == "0.0009999999999999432");
  CHECK(format_go_float(99.9 / 100, 6) == "0.9990000000000001");
  CHECK(format_go_float(14.4, 6) == "14.4");
  CHECK(format_go_float(6, 6) == "6");
  CHECK(format_go_float(30, 6) == "30");
  CHECK(format_go_float(1e-05, 6) == "1e-05");
  CHECK(format_go_float((100 - 99.999) / 100, 6) == "1.0000000000047748e-05");
  CHECK(format_go_float(1000000, 6) == "1e+06");
  CHECK(format_go_float(123456, 6) == "123456");
  CHECK(format_go_float(0.0001, 6) == "0.0001");
  CHECK(format_go_float(-2.5, 6) == "-2.5");
  CHECK(format_go_float_fixed(99.9) == "99.9");
  CHECK(format_go_float_fixed(1e21) == "1000000000000000000000");
  CHECK(format_go_float_fixed(0.00001) == "0.00001");
}

TEST_CASE("burn factors from the budget share per window (Sloth's arithmetic)") {
  const int64_t h = 3'600'000, d = 24 * h;
  CHECK(format_go_float(burn_factor(30 * d, 2, h), 6) == "14.4");
  CHECK(format_go_float(burn_factor(30 * d, 5, 6 * h), 6) == "6");
  CHECK(format_go_float(burn_factor(30 * d, 10, d), 6) == "3");
  CHECK(format_go_float(burn_factor(30 * d, 10, 3 * d), 6) == "1");
  CHECK(format_go_float(burn_factor(28 * d, 2, h), 6) == "13.44");
  CHECK(format_go_float(burn_factor(28 * d, 5, 6 * h), 6) == "5.6000000000000005");
  CHECK(format_go_float(burn_factor(28 * d, 10, d), 6) == "2.8000000000000003");
  CHECK(format_go_float(burn_factor(28 * d, 10, 3 * d), 6) == "0.9333333333333333");
}

TEST_CASE("spec errors name file:line:col") {
  auto out = load_specs("version: prometheus/v1\nservice: svc\nslos:\n  - name: ab\n    objective: 99\n"
                        "    sli:\n      plugin: {id: x}\n    alerting: {name: A, oops: 1}\n",
                        "s.yaml", {});
  REQUIRE(out.errors.size() == 2);
  CHECK(out.errors[0].to_string().starts_with("s.yaml:7:15: plugin SLIs are not supported"));
  CHECK(out.errors[1].to_string() == "s.yaml:8:25: unknown field \"oops\" in alerting");
  auto bad = load_specs("version: prometheus/v1\nslos: [\n", "b.yaml", {});
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].where.line == 3);
  auto unknown = load_specs("apiVersion: v1\nkind: ConfigMap\n", "c.yaml", {});
  REQUIRE(unknown.errors.size() == 1);
  CHECK(unknown.errors[0].to_string().starts_with("c.yaml:1:1: unknown SLO spec"));
}

TEST_CASE("Sloth's rules for a 99.9% events SLO") {
  auto out = load_specs(
      "version: prometheus/v1\nservice: svc\nslos:\n  - name: avail\n    objective: 99.9\n"
      "    sli:\n      events:\n        error_query: sum(rate(e[{{.window}}]))\n"
      "        total_query: sum(rate(t[{{.window}}]))\n    alerting:\n      name: Burn\n"
      "      ticket_alert: {disable: true}\n",
      "s.yaml", {});
  REQUIRE(out.errors.empty());
  auto cat = WindowsCatalog::builtin();
  GenerateOptions g;
  g.windows = &cat;
  auto r = generate(out.docs[0], g);
  REQUIRE(r.has_value());
  const auto& groups = r->slos[0].groups;
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].name == "sloth-slo-sli-recordings-svc-avail");
  CHECK(groups[0].rules.size() == 8);  // 5m 30m 1h 2h 6h 1d 3d + 30d
  CHECK(groups[0].rules[0].expr == "(sum(rate(e[5m])))\n/\n(sum(rate(t[5m])))\n");
  CHECK(groups[0].rules[7].record == "slo:sli_error:ratio_rate30d");
  CHECK(groups[1].rules[0].expr == "vector(0.9990000000000001)");
  REQUIRE(groups[2].rules.size() == 1);
  CHECK(groups[2].rules[0].expr.find("> (14.4 * 0.0009999999999999432)) without (sloth_window)") != std::string::npos);
  CHECK(groups[2].rules[0].labels.at("sloth_severity") == "page");
  CHECK(r->slos[0].tiers.size() == 2);
  // go-yaml v2's folding of long plain scalars at column 80.
  std::string yaml = render_groups_yaml({groups[1]});
  CHECK(yaml.find("  - record: slo:period_error_budget_remaining:ratio\n    expr: 1 - slo:period_burn_rate:ratio{sloth_id=\"svc-avail\", sloth_service=\"svc\",\n      sloth_slo=\"avail\"}\n") != std::string::npos);
}

TEST_CASE("AlertWindows files") {
  auto w = WindowsCatalog::parse(
      "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 14d\n  page:\n"
      "    quick: {errorBudgetPercent: 4, shortWindow: 5m, longWindow: 1h}\n"
      "    slow: {errorBudgetPercent: 8, shortWindow: 30m, longWindow: 6h}\n  ticket:\n"
      "    quick: {errorBudgetPercent: 15, shortWindow: 2h, longWindow: 1d}\n"
      "    slow: {errorBudgetPercent: 20, shortWindow: 6h, longWindow: 3d}\n",
      "w.yaml");
  REQUIRE(w.has_value());
  CHECK(w->period_ms == 14LL * 86'400'000);
  CHECK(format_go_float(burn_factor(w->period_ms, w->page_quick.budget_percent, w->page_quick.long_ms), 6) == "13.44");
  auto bad = WindowsCatalog::parse("apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7d\n", "x.yaml");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().to_string() == "x.yaml:4:3: page is required");
}

TEST_CASE("raw input series of SLI queries: the shapes Sloth, OpenSLO and Pyrra specs use") {
  auto check = [](const std::string& q, size_t n_series, bool gauge) {
    auto m = derive_sli_model(q);
    REQUIRE_MESSAGE(m.has_value(), q << ": " << (m ? "" : m.error().message));
    CHECK(m->series.size() == n_series);
    CHECK(m->gauge == gauge);
    for (double p : {0.0, 0.001, 0.25, 1.0}) {
      std::vector<double> x(m->series.size());
      for (size_t i = 0; i < x.size(); ++i) x[i] = p * m->bad[i] + (1 - p) * m->good[i];
      CHECK(eval_sli(q, *m, x) == doctest::Approx(p));
    }
    return *m;
  };
  SUBCASE("events: errors by regex over all requests") {
    auto m = check(R"((sum(rate(http_requests_total{job="api",code=~"5.."}[5m])))
/
(sum(rate(http_requests_total{job="api"}[5m]))))", 2, false);
    CHECK(m.series[0].at("code") == "5xx");
    CHECK(m.series[0].at("job") == "api");
    CHECK_FALSE(m.series[1].contains("code"));
  }
  SUBCASE("latency: count minus the good bucket") {
    auto m = check("(sum(rate(lat_count[5m])) - sum(rate(lat_bucket{le=\"0.3\"}[5m]))) / sum(rate(lat_count[5m]))", 2, false);
    CHECK(m.series[1].at("le") == "0.3");
  }
  SUBCASE("OpenSLO: 1 - good/total, with increase()") {
    check("1 - (sum(increase(logins_total{result=\"ok\"}[1h])) / sum(increase(logins_total[1h])))", 2, false);
  }
  SUBCASE("raw gauge ratio and Pyrra's bool gauge") {
    check("(1 - avg_over_time(queue_fresh_ratio[5m]))", 1, true);
    check("(sum(count_over_time(probe_success{job=\"b\"}[5m])) - sum(sum_over_time(probe_success{job=\"b\"}[5m]))) / "
          "sum(count_over_time(probe_success{job=\"b\"}[5m]))", 1, true);
  }
  SUBCASE("grouping labels get one shared value, so there is one result series") {
    auto m = check("sum by (route) (rate(req_total{code=~\"5..|429\"}[5m])) / sum by (route) (rate(req_total[5m]))", 2, false);
    CHECK(m.out_labels == StrMap{{"route", "ruleeval"}});
    CHECK(m.series[0].at("code") == "5xx");
  }
  SUBCASE("unsupported queries say why") {
    auto nh = derive_sli_model("1 - histogram_fraction(0, 0.25, sum(rate(h[5m])))");
    REQUIRE_FALSE(nh.has_value());
    CHECK(nh.error().message.find("histogram_fraction") != std::string::npos);
    auto mixed = derive_sli_model("sum(rate(a_total[5m])) / sum(avg_over_time(b[5m]))");
    REQUIRE_FALSE(mixed.has_value());
    CHECK(mixed.error().message.find("counters and gauges") != std::string::npos);
    CHECK_FALSE(derive_sli_model("sum(rate(a_total[5m] offset 1h)) / sum(rate(a_total[5m]))").has_value());
  }
}

TEST_CASE("generated tests feed raw series and expect what the simulation gives") {
  const char* spec = R"(version: "prometheus/v1"
service: "svc"
slos:
  - name: "avail"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(req_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(req_total[{{.window}}]))
    alerting:
      name: Burn
      page_alert: {}
      ticket_alert:
        disable: true
)";
  auto loaded = load_specs(spec, "t.yaml", {});
  REQUIRE(loaded.errors.empty());
  WindowsCatalog cat = WindowsCatalog::builtin();
  GenerateOptions opts;
  opts.windows = &cat;
  auto res = generate(loaded.docs[0], opts);
  REQUIRE(res.has_value());
  auto tests = generate_tests(*res, "rules.yml", opts);
  REQUIRE(tests.has_value());
  CHECK(tests->find("series: req_total{code=\"5xx\"}") != std::string::npos);
  CHECK(tests->find("series: req_total{}") != std::string::npos);
  CHECK(tests->find("slo:sli_error") == std::string::npos);  // no recordings fed
  CHECK(tests->find("group_eval_order:\n  - sloth-slo-sli-recordings-svc-avail") != std::string::npos);
  // Page tiers only: 5m/1h and 30m/6h, four cases each, plus the recovery case.
  CHECK(tests->find("page-quick: 5m/1h error ratio just above 14.4x: fires") != std::string::npos);
  CHECK(tests->find("page-quick: 5m/1h error ratio just below 14.4x: is silent") != std::string::npos);
  CHECK(tests->find("page-slow: only the short window 30m above 6x: is silent") != std::string::npos);
  CHECK(tests->find("fires, then resolves") != std::string::npos);
  // The history covers the 6h window before the 1h step at which the burn is checked.
  CHECK(tests->find("eval_time: 7h\n") != std::string::npos);
}
