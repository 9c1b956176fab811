// MetricsQL (VictoriaMetrics) functions that PromQL does not have, for VMRule objects: an
// expression that uses one gets a single error naming it instead of a PromQL parse error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ruleeval::rules {

struct MetricsqlUse {
  std::string name;
  uint32_t line = 1;  // 1-based, inside the expression
  uint32_t col = 1;
};

inline bool is_metricsql_only_function(std::string_view n) {
  static constexpr std::string_view kNames[] = {
      // rollup functions
      "aggr_over_time", "ascent_over_time", "count_eq_over_time", "count_gt_over_time",
      "count_le_over_time", "count_ne_over_time", "count_values_over_time",
      "decreases_over_time", "default_rollup", "delta_prometheus", "deriv_fast",
      "descent_over_time", "distinct_over_time", "duration_over_time", "first_over_time",
      "geomean_over_time", "histogram_over_time", "hoeffding_bound_lower",
      "hoeffding_bound_upper", "ideriv", "increase_prometheus", "increase_pure",
      "increases_over_time", "integrate", "lag", "lifetime", "median_over_time",
      "mode_over_time", "outlier_iqr_over_time", "range_over_time", "rate_over_sum", "rollup",
      "rollup_candlestick", "rollup_delta", "rollup_deriv", "rollup_increase", "rollup_rate",
      "rollup_scrape_interval", "scrape_interval", "share_eq_over_time", "share_gt_over_time",
      "share_le_over_time", "sum_eq_over_time", "sum_gt_over_time", "sum_le_over_time",
      "sum2_over_time", "tfirst_over_time", "timestamp_with_name", "tlast_change_over_time",
      "tlast_over_time", "tmax_over_time", "tmin_over_time", "zscore_over_time",
      "stale_samples_over_time",
      // transform functions
      "bitmap_and", "bitmap_or", "bitmap_xor", "buckets_limit", "drop_empty_series",
      "histogram_quantiles", "histogram_share", "interpolate", "keep_last_value",
      "keep_next_value", "labels_equal", "now", "prometheus_buckets", "rand", "rand_exponential",
      "rand_normal", "range_avg", "range_first", "range_last", "range_linear_regression",
      "range_mad", "range_max", "range_median", "range_min", "range_normalize", "range_quantile",
      "range_stddev", "range_stdvar", "range_sum", "range_trim_outliers", "range_trim_spikes",
      "range_trim_zscore", "range_zscore", "remove_resets", "running_avg", "running_max",
      "running_min", "running_sum", "smooth_exponential", "union", "ru", "ttf", "sort_by_label_numeric",
      "sort_by_label_numeric_desc", "rate_prometheus", "sign",
      // label manipulation
      "alias", "drop_common_labels", "label_copy", "label_del", "label_graphite_group",
      "label_keep", "label_lowercase", "label_map", "label_match", "label_mismatch", "label_move",
      "label_set", "label_transform", "label_uppercase", "label_value",
      // aggregations
      "any", "distinct", "geomean", "histogram", "mad", "median", "mode", "outliers_iqr",
      "outliers_mad", "outliersk", "share", "zscore", "bottomk_avg", "bottomk_last",
      "bottomk_max", "bottomk_median", "bottomk_min", "topk_avg", "topk_last", "topk_max",
      "topk_median", "topk_min", "limit_offset", "quantiles", "sum2"};
  for (auto k : kNames) {
    if (k == n) return true;
  }
  return false;
}

// vmalert's group and rule settings that Prometheus's rule format does not have.
inline bool is_vmalert_field(std::string_view name, std::string_view go_type) {
  static constexpr std::string_view kGroup[] = {
      "concurrency", "type", "params", "headers", "notifier_headers", "eval_offset",
      "eval_delay", "eval_alignment", "tenant", "extra_filter_labels", "debug"};
  static constexpr std::string_view kRule[] = {"debug", "update_entries_limit"};
  if (go_type == "rulefmt.RuleGroup") {
    for (auto k : kGroup) {
      if (k == name) return true;
    }
  }
  if (go_type == "rulefmt.Rule") {
    for (auto k : kRule) {
      if (k == name) return true;
    }
  }
  return false;
}

// The first call of a MetricsQL-only function in `expr` (outside string literals and comments).
inline std::optional<MetricsqlUse> find_metricsql_function(std::string_view expr) {
  auto ident_start = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  };
  auto ident_char = [&](char c) { return ident_start(c) || (c >= '0' && c <= '9'); };
  uint32_t line = 1, col = 1;
  size_t i = 0;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && i < expr.size(); ++k, ++i) {
      if (expr[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
  };
  while (i < expr.size()) {
    const char c = expr[i];
    if (c == '"' || c == '\'' || c == '`') {
      advance(1);
      while (i < expr.size() && expr[i] != c) advance(expr[i] == '\\' && c != '`' ? 2 : 1);
      advance(1);
      continue;
    }
    if (c == '#') {
      while (i < expr.size() && expr[i] != '\n') advance(1);
      continue;
    }
    if (ident_start(c) && (i == 0 || !ident_char(expr[i - 1]))) {
      size_t j = i;
      while (j < expr.size() && ident_char(expr[j])) ++j;
      std::string_view name = expr.substr(i, j - i);
      size_t k = j;
      while (k < expr.size() && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n')) ++k;
      if (k < expr.size() && expr[k] == '(' && is_metricsql_only_function(name)) {
        return MetricsqlUse{std::string(name), line, col};
      }
      advance(j - i);
      continue;
    }
    advance(1);
  }
  return std::nullopt;
}

}  // namespace ruleeval::rules
