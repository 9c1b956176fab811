// `ruleeval.yaml`, the configuration of `ruleeval run`: global settings, datasources, rule files,
// remote write and where state lives. It follows Prometheus's and Alertmanager's conventions; the
// notification blocks (route, receivers, inhibit_rules, templates and Alertmanager's global keys)
// live in the same file and are decoded by notifiers/. Decoding is strict: unknown keys, bad
// durations and unreadable files are errors that name file:line:col.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"

namespace ruleeval::rules {

struct TlsConfig {
  std::string ca_file, cert_file, key_file;
  bool insecure_skip_verify = false;
};

struct HttpSettings {
  std::string url;
  int64_t timeout_ms = 30'000;
  std::string basic_username, basic_password;  // password_file is read at load
  std::string bearer_token;                    // inline
  std::string bearer_token_file;               // re-read per request (rotation)
  TlsConfig tls;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> params;  // extra query parameters
};

struct DatasourceConfig {
  enum class Type { kPrometheus, kEmbedded };
  std::string name;
  Type type = Type::kPrometheus;
  HttpSettings http;                      // prometheus
  std::vector<std::string> series_files;  // embedded; resolved against the config's directory
  SourceLocation where;
};

struct RemoteWriteConfig {
  bool enabled = false;
  HttpSettings http;
  size_t queue_capacity = 100'000;
  int max_retries = 10;
};

struct RunConfig {
  std::string path;
  std::string base_dir;
  int64_t evaluation_interval_ms = 60'000;
  int64_t query_offset_ms = 0;
  int64_t resend_delay_ms = 60'000;
  int64_t outage_tolerance_ms = 3'600'000;
  Labels external_labels;
  std::string external_url;
  std::vector<DatasourceConfig> datasources;  // in file order
  std::string default_datasource;             // "default" if present, else the first
  std::vector<std::string> rule_files;        // globs, resolved against base_dir
  unsigned experimental_promql = 0;  // promql::PromqlFeature bits           // enable_features: [promql-experimental-functions]
  RemoteWriteConfig remote_write;
  bool has_notifications = false;             // route/receivers or alertmanager_config_file
  std::string alertmanager_config_file;       // resolved against base_dir; "" = inline blocks
  // A receiver paged (alert ReceiverFailing) when an integration keeps failing or a
  // notification fails for good; "" = none.
  std::string fallback_receiver;
  std::string text;                           // the whole file (for the notifier decoder)

  const DatasourceConfig* find_datasource(std::string_view name) const;
};

// Every problem found, each with file:line:col.
std::expected<RunConfig, std::vector<Error>> load_run_config(const std::string& path);
std::expected<RunConfig, std::vector<Error>> parse_run_config(const std::string& text,
                                                              const std::string& path);

}  // namespace ruleeval::rules
