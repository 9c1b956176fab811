// `ruleeval slo`: SLO specs (Sloth prometheus/v1, the Sloth CRD, OpenSLO v1alpha, Pyrra
// v1alpha1) turned into multi-window multi-burn-rate rules that match Sloth's output rule for rule
// (or Pyrra's with Style::Pyrra), plus promtool-format unit tests that prove every burn tier.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ruleeval/common/error.hpp"

namespace ruleeval::slo {

using StrMap = std::map<std::string, std::string>;

// One burn tier of an AlertWindows spec: `budget_percent` of the budget consumed over `long_ms`.
struct Window {
  double budget_percent = 0;
  int64_t short_ms = 0;
  int64_t long_ms = 0;
};

// Sloth's AlertWindows (sloth.slok.dev/v1): the four tiers of one SLO period.
struct Windows {
  int64_t period_ms = 0;
  Window page_quick, page_slow, ticket_quick, ticket_slow;
  std::string source;  // file it came from ("" for the built-in ones)
};

// Burn factor of a tier: the speed that consumes `budget_percent` of the period's budget within
// the long window (Sloth's getBurnRateFactor, same float operations).
double burn_factor(int64_t period_ms, double budget_percent, int64_t long_ms);

// The catalog of windows by period. Built-in: 30d, 28d (Google's SRE workbook) and 7d. A
// directory replaces the built-in ones (as Sloth's --slo-period-windows-path does).
class WindowsCatalog {
 public:
  static WindowsCatalog builtin();
  static Result<WindowsCatalog> load_dir(const std::string& dir);
  static Result<Windows> parse(const std::string& text, const std::string& path);
  const Windows* find(int64_t period_ms) const;
  std::vector<int64_t> periods() const;

 private:
  std::map<int64_t, Windows> by_period_;
};

enum class SpecKind { SlothV1, SlothK8s, OpenSLO, Pyrra };
const char* spec_kind_name(SpecKind k);  // "prometheus/v1", "sloth.slok.dev/v1", ...

struct AlertMeta {
  bool disable = true;
  std::string name;
  StrMap labels, annotations;
};

enum class SliKind { Events, Raw };

// Pyrra's indicator, kept apart: Pyrra's rules are built from selectors, not query templates.
struct PyrraIndicator {
  enum Kind { None, Ratio, Latency, LatencyNative, BoolGauge } kind = None;
  std::string errors, total;  // ratio: metric selectors; latency: success bucket / total count
  std::string metric;         // latencyNative / boolGauge: the metric selector
  std::string latency;        // latencyNative: the threshold ("1")
  std::vector<std::string> grouping;
};

struct Slo {
  std::string id, name, service, description;
  int64_t period_ms = 0;
  double objective = 0;  // percent, e.g. 99.9
  SliKind sli = SliKind::Events;
  std::string error_query, total_query;  // events, with {{.window}}
  std::string error_ratio_query;         // raw, with {{.window}}
  StrMap labels;
  AlertMeta page, ticket;
  SourceLocation where;  // the SLO's entry in its spec
  // Pyrra
  PyrraIndicator pyrra;
  std::string pyrra_alert_name = "ErrorBudgetBurn";
  std::string pyrra_absent_name = "SLOMetricAbsent";
  bool pyrra_burnrate_alerts = true;
  bool pyrra_absent_alerts = true;
  StrMap pyrra_annotations;  // metadata.annotations (the pyrra.dev/ ones go to the alerts)
};

struct SpecDoc {
  SpecKind kind = SpecKind::SlothV1;
  SourceLocation where;
  std::vector<Slo> slos;
  // Kubernetes objects (Sloth CRD, Pyrra): metadata for the PrometheusRule.
  std::string k8s_name, k8s_namespace;
  StrMap k8s_labels, k8s_annotations;
};

struct LoadOptions {
  int64_t default_period_ms = 30LL * 24 * 3600 * 1000;
};

// Parses every YAML document of `text`. Errors name file:line:col; all are returned.
struct LoadOutcome {
  std::vector<SpecDoc> docs;
  std::vector<Error> errors;
};
LoadOutcome load_specs(const std::string& text, const std::string& path, const LoadOptions& opts);

// ---- generated rules -------------------------------------------------------------------------
struct Rule {
  std::string record, alert, expr, for_;
  StrMap labels, annotations;
};
struct Group {
  std::string name, interval;
  std::vector<Rule> rules;
};

// One burn tier resolved for an SLO: the windows and factor, and the alert it feeds.
struct Tier {
  std::string id;        // page-quick, page-slow, ticket-quick, ticket-slow (Pyrra: 0..3)
  std::string severity;  // page | ticket (Pyrra: critical | warning)
  int64_t short_ms = 0, long_ms = 0, for_ms = 0;
  double factor = 0;
};

enum class Style { Sloth, Pyrra };

struct GenerateOptions {
  const WindowsCatalog* windows = nullptr;
  StrMap extra_labels;
  bool disable_alerts = false;
  bool disable_recordings = false;
  Style style = Style::Sloth;
  std::string version = "ruleeval-0.1.0";  // sloth_version label
};

struct SloResult {
  Slo slo;  // with extra labels merged
  std::vector<Group> groups;
  std::vector<Tier> tiers;  // the MWMB tiers (empty when the alerts are disabled)
  double error_budget_ratio = 0;
};

struct DocResult {
  const SpecDoc* doc = nullptr;
  std::vector<SloResult> slos;
};

Result<DocResult> generate(const SpecDoc& doc, const GenerateOptions& opts);

// Serialises like Sloth does (go-yaml v2: sorted keys, literal blocks, 80-column folding), with
// a leading "---" and a generated-by comment. A PrometheusRule object for Kubernetes sources.
std::string render(const DocResult& res, const GenerateOptions& opts);
std::string render_groups_yaml(const std::vector<Group>& groups);

// ---- generated unit tests --------------------------------------------------------------------
// A promtool rule unit-test file for the SLOs of `res`, reading rules from `rule_file`.
// Per tier: both windows just above the factor (fires), just below (silent), only the short
// window above and only the long one above (silent); plus recovery. Error when an annotation uses
// template syntax the generator cannot expand.
Result<std::string> generate_tests(const DocResult& res, const std::string& rule_file,
                                   const GenerateOptions& opts);

// ---- raw input series of an SLI (sli_model.cpp) ----------------------------------------------
// The series an SLI query reads and two mixes of them, one the query rates as all good (error
// ratio 0), one as all bad (1): feeding p·bad + (1−p)·good gives an error ratio of exactly p.
struct SliModel {
  bool gauge = false;           // *_over_time over gauges (else rate/increase over counters)
  std::vector<StrMap> series;   // label sets, __name__ included
  std::vector<double> bad, good;  // per series: the share of the traffic (counters) or the level (gauges)
  StrMap out_labels;            // the labels of the query's single result series
};

// `expr` is the SLI query for one window. Error: why its input cannot be synthesised.
Result<SliModel> derive_sli_model(const std::string& expr);

// The error ratio the query gives for per-series rates (counters) or levels (gauges) `x`
// (for tests). NaN when it gives no single result.
double eval_sli(const std::string& expr, const SliModel& m, const std::vector<double>& x);

}  // namespace ruleeval::slo
