#include "ruleeval/rules/run_config.hpp"

#include "ruleeval/common/yaml_duplicates.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
#include <system_error>

#include "ruleeval/common/env.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/rules/features.hpp"

namespace ruleeval::rules {
namespace {

namespace fs = std::filesystem;

// Keys decoded by notifiers/ (Alertmanager's blocks), accepted here without a look.
constexpr std::string_view kNotifierKeys[] = {"route", "receivers", "inhibit_rules", "templates",
                                              "time_intervals", "mute_time_intervals"};
constexpr std::string_view kAlertmanagerGlobals[] = {
    "resolve_timeout",   "smtp_from",          "smtp_smarthost",       "smtp_hello",
    "smtp_auth_username", "smtp_auth_password", "smtp_auth_password_file", "smtp_auth_identity",
    "smtp_auth_secret",  "smtp_require_tls",   "slack_api_url",        "slack_api_url_file",
    "pagerduty_url",     "http_config",        "smtp_hello",           "opsgenie_api_url",
    "opsgenie_api_key",  "opsgenie_api_key_file", "wechat_api_url",    "wechat_api_secret",
    "wechat_api_corp_id", "victorops_api_url", "victorops_api_key",    "victorops_api_key_file",
    "telegram_api_url",  "webex_api_url"};

class Decoder {
 public:
  Decoder(std::string path, std::string base) : path_(std::move(path)), base_(std::move(base)) {}
  std::vector<Error>& errors() { return errors_; }

  SourceLocation loc(const YAML::Node& n) const {
    auto m = n.Mark();
    if (m.line < 0) return {path_, 0, 0};
    return {path_, static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
  }
  void error(const YAML::Node& n, std::string msg) { errors_.emplace_back(std::move(msg), loc(n)); }

  template <class Fn>
  void fields(const YAML::Node& map, std::string_view where,
              std::initializer_list<std::string_view> known, Fn&& fn,
              std::span<const std::string_view> also_ok = {}) {
    if (!map || map.IsNull()) return;
    if (!map.IsMap()) {
      error(map, std::string(where) + ": expected a mapping");
      return;
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) {
        error(kv.first, std::string(where) + ": keys must be strings");
        continue;
      }
      const std::string& k = kv.first.Scalar();
      if (!seen.insert(k).second) {
        error(kv.first, std::string(where) + ": key \"" + k + "\" is repeated");
        continue;
      }
      if (std::find(known.begin(), known.end(), k) != known.end()) {
        fn(k, kv.second);
      } else if (std::find(also_ok.begin(), also_ok.end(), k) == also_ok.end()) {
        error(kv.first, std::string(where) + ": unknown key \"" + k + "\"");
      }
    }
  }

  std::string str(const YAML::Node& n, std::string_view where) {
    if (n.IsNull()) return {};
    if (!n.IsScalar()) {
      error(n, std::string(where) + ": expected a string");
      return {};
    }
    return n.Scalar();
  }
  int64_t duration(const YAML::Node& n, std::string_view where) {
    auto d = parse_duration(str(n, where));
    if (!d) {
      error(n, std::string(where) + ": " + d.error().message);
      return 0;
    }
    return *d;
  }
  bool boolean(const YAML::Node& n, std::string_view where) {
    std::string s = str(n, where);
    if (s == "true") return true;
    if (s == "false") return false;
    error(n, std::string(where) + ": expected true or false, got \"" + s + "\"");
    return false;
  }
  std::vector<std::pair<std::string, std::string>> pairs(const YAML::Node& n,
                                                         std::string_view where) {
    std::vector<std::pair<std::string, std::string>> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsMap()) {
      error(n, std::string(where) + ": expected a mapping");
      return out;
    }
    for (const auto& kv : n) out.emplace_back(str(kv.first, where), str(kv.second, where));
    return out;
  }
  std::vector<std::string> strings(const YAML::Node& n, std::string_view where) {
    std::vector<std::string> out;
    if (!n || n.IsNull()) return out;
    if (!n.IsSequence()) {
      error(n, std::string(where) + ": expected a list");
      return out;
    }
    for (const auto& i : n) out.push_back(str(i, where));
    return out;
  }
  std::string resolve(const std::string& p) const {
    if (p.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(base_) / p).lexically_normal().string();
  }
  std::string read_secret(const YAML::Node& n, std::string_view where) {
    std::string p = resolve(str(n, where));
    auto text = Env::Default()->read_file(p, 1u << 20);
    if (!text) {
      error(n, std::string(where) + ": cannot read " + p + ": " + text.error().message);
      return {};
    }
    std::string s = std::move(*text);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
  }

  void http(const YAML::Node& n, const std::string& where, HttpSettings& h,
            std::span<const std::string_view> extra_ok) {
    fields(
        n, where,
        {"url", "timeout", "basic_auth", "bearer_token", "bearer_token_file", "tls_config",
         "headers", "params"},
        [&](const std::string& k, const YAML::Node& v) {
          std::string w = where + "." + k;
          if (k == "url") {
            h.url = str(v, w);
            if (h.url.rfind("http://", 0) != 0 && h.url.rfind("https://", 0) != 0) {
              error(v, w + ": must start with http:// or https://");
            }
          } else if (k == "timeout") {
            h.timeout_ms = duration(v, w);
          } else if (k == "basic_auth") {
            fields(v, w, {"username", "password", "password_file"},
                   [&](const std::string& bk, const YAML::Node& bv) {
                     if (bk == "username") h.basic_username = str(bv, w + "." + bk);
                     if (bk == "password") h.basic_password = str(bv, w + "." + bk);
                     if (bk == "password_file") h.basic_password = read_secret(bv, w + "." + bk);
                   });
          } else if (k == "bearer_token") {
            h.bearer_token = str(v, w);
          } else if (k == "bearer_token_file") {
            h.bearer_token_file = resolve(str(v, w));
            if (!Env::Default()->file_exists(h.bearer_token_file)) {
              error(v, w + ": " + h.bearer_token_file + " does not exist");
            }
          } else if (k == "tls_config") {
            fields(v, w, {"ca_file", "cert_file", "key_file", "insecure_skip_verify"},
                   [&](const std::string& tk, const YAML::Node& tv) {
                     std::string tw = w + "." + tk;
                     if (tk == "insecure_skip_verify") {
                       h.tls.insecure_skip_verify = boolean(tv, tw);
                       return;
                     }
                     std::string p = resolve(str(tv, tw));
                     if (!Env::Default()->file_exists(p)) {
                       error(tv, tw + ": " + p + " does not exist");
                     }
                     (tk == "ca_file" ? h.tls.ca_file : tk == "cert_file" ? h.tls.cert_file
                                                                          : h.tls.key_file) = p;
                   });
          } else if (k == "headers") {
            h.headers = pairs(v, w);
          } else if (k == "params") {
            h.params = pairs(v, w);
          }
        },
        extra_ok);
  }

  RunConfig decode(const YAML::Node& root) {
    RunConfig c;
    std::vector<std::string_view> top_ok(std::begin(kNotifierKeys), std::end(kNotifierKeys));
    fields(
        root, "ruleeval.yaml",
        {"global", "datasources", "rule_files", "remote_write", "enable_features",
         "alertmanager_config_file", "fallback_receiver"},
        [&](const std::string& k, const YAML::Node& v) {
          if (k == "global") {
            fields(
                v, "global",
                {"evaluation_interval", "query_offset", "rule_query_offset", "external_labels",
                 "external_url", "resend_delay", "outage_tolerance"},
                [&](const std::string& gk, const YAML::Node& gv) {
                  std::string w = "global." + gk;
                  if (gk == "evaluation_interval") {
                    c.evaluation_interval_ms = duration(gv, w);
                    if (c.evaluation_interval_ms <= 0) error(gv, w + ": must be positive");
                  } else if (gk == "query_offset" || gk == "rule_query_offset") {
                    c.query_offset_ms = duration(gv, w);
                  } else if (gk == "resend_delay") {
                    c.resend_delay_ms = duration(gv, w);
                  } else if (gk == "outage_tolerance") {
                    c.outage_tolerance_ms = duration(gv, w);
                  } else if (gk == "external_url") {
                    c.external_url = str(gv, w);
                    while (!c.external_url.empty() && c.external_url.back() == '/') {
                      c.external_url.pop_back();
                    }
                  } else if (gk == "external_labels") {
                    std::vector<Label> ls;
                    for (auto& [lk, lv] : pairs(gv, w)) ls.push_back({lk, lv});
                    c.external_labels = Labels::from_vector(std::move(ls));
                  }
                },
                kAlertmanagerGlobals);
          } else if (k == "datasources") {
            if (!v.IsMap()) {
              error(v, "datasources: expected a mapping of name to datasource");
              return;
            }
            std::set<std::string> names;
            for (const auto& kv : v) {
              DatasourceConfig ds;
              ds.name = str(kv.first, "datasources");
              ds.where = loc(kv.first);
              if (!names.insert(ds.name).second) {
                error(kv.first, "datasources: \"" + ds.name + "\" is defined twice");
                continue;
              }
              std::string w = "datasources." + ds.name;
              const YAML::Node& dn = kv.second;
              if (!dn.IsMap()) {
                error(dn, w + ": expected a mapping");
                continue;
              }
              std::string type = dn["type"] ? str(dn["type"], w + ".type") : "prometheus";
              static constexpr std::string_view kTypeKey[] = {"type"};
              static constexpr std::string_view kEmbeddedKeys[] = {"type", "series_files"};
              if (type == "prometheus" || type == "victoriametrics") {
                ds.type = DatasourceConfig::Type::kPrometheus;
                http(dn, w, ds.http, kTypeKey);
                if (ds.http.url.empty()) error(dn, w + ": url is required");
              } else if (type == "embedded") {
                ds.type = DatasourceConfig::Type::kEmbedded;
                fields(dn, w, {"series_files"}, [&](const std::string&, const YAML::Node& sv) {
                  for (const auto& f : strings(sv, w + ".series_files")) {
                    std::string p = resolve(f);
                    if (!Env::Default()->file_exists(p)) {
                      std::string msg = w;
                      msg += ".series_files: ";
                      msg += p;
                      msg += " does not exist";
                      error(sv, msg);
                    }
                    ds.series_files.push_back(p);
                  }
                }, std::span<const std::string_view>(kEmbeddedKeys).first(1));
              } else {
                std::string msg = w;
                msg += ".type: unknown datasource type \"";
                msg += type;
                msg += "\" (want prometheus or embedded)";
                error(dn["type"], msg);
                continue;
              }
              c.datasources.push_back(std::move(ds));
            }
          } else if (k == "enable_features") {
            for (const auto& f : strings(v, "enable_features")) {
              if (!apply_feature(f, c.experimental_promql)) {
                error(v, "enable_features: unknown feature \"" + f + "\"");
              }
            }
          } else if (k == "rule_files") {
            for (const auto& f : strings(v, "rule_files")) c.rule_files.push_back(resolve(f));
          } else if (k == "remote_write") {
            c.remote_write.enabled = true;
            static constexpr std::string_view kRwExtra[] = {"queue_capacity", "max_retries"};
            http(v, "remote_write", c.remote_write.http, kRwExtra);
            if (v.IsMap() && v["queue_capacity"]) {
              c.remote_write.queue_capacity =
                  static_cast<size_t>(std::max<int64_t>(1, v["queue_capacity"].as<int64_t>(1)));
            }
            if (v.IsMap() && v["max_retries"]) c.remote_write.max_retries = v["max_retries"].as<int>(10);
            if (c.remote_write.http.url.empty()) error(v, "remote_write: url is required");
          }
          if (k == "route" || k == "receivers") c.has_notifications = true;
          if (k == "fallback_receiver") {
            if (!v.IsScalar() || v.Scalar().empty()) {
              error(v, "fallback_receiver: must be the name of a receiver");
            } else {
              c.fallback_receiver = v.Scalar();
            }
          }
          if (k == "alertmanager_config_file") {
            // An unchanged alertmanager.yml, relative to this file; decoded by notifiers/.
            c.alertmanager_config_file = resolve(str(v, "alertmanager_config_file"));
            if (c.alertmanager_config_file.empty() || !v.IsScalar() || v.Scalar().empty()) {
              error(v, "alertmanager_config_file: must be a file name");
            }
            c.has_notifications = true;
          }
        },
        top_ok);
    if (root.IsMap() && (root["route"] || root["receivers"])) c.has_notifications = true;
    if (!c.alertmanager_config_file.empty() && root.IsMap()) {
      for (std::string_view k : kNotifierKeys) {
        if (root[std::string(k)]) {
          error(root[std::string(k)], std::string(k) +
                                          ": cannot be combined with alertmanager_config_file "
                                          "(put it in the Alertmanager configuration file)");
        }
      }
      if (auto g = root["global"]; g && g.IsMap()) {
        for (std::string_view k : kAlertmanagerGlobals) {
          if (g[std::string(k)]) {
            error(g[std::string(k)],
                  "global." + std::string(k) +
                      ": cannot be combined with alertmanager_config_file (put it in the "
                      "Alertmanager configuration file's global block)");
          }
        }
      }
    }
    for (const auto& d : c.datasources) {
      if (d.name == "default") c.default_datasource = d.name;
    }
    if (c.default_datasource.empty() && !c.datasources.empty()) {
      c.default_datasource = c.datasources.front().name;
    }
    if (c.datasources.empty()) {
      errors_.emplace_back("datasources: at least one datasource is required",
                           SourceLocation{path_, 0, 0});
    }
    return c;
  }

 private:
  std::string path_;
  std::string base_;
  std::vector<Error> errors_;
};

}  // namespace

const DatasourceConfig* RunConfig::find_datasource(std::string_view name) const {
  for (const auto& d : datasources) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::expected<RunConfig, std::vector<Error>> parse_run_config(const std::string& text,
                                                              const std::string& path) {
  std::string base = fs::path(path).parent_path().string();
  if (base.empty()) base = ".";
  Decoder dec(path, base);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return std::unexpected(std::vector<Error>{
        Error("yaml: " + e.msg, SourceLocation{path, static_cast<uint32_t>(e.mark.line + 1),
                                               static_cast<uint32_t>(e.mark.column + 1)})});
  }
  if (auto dup = find_duplicate_key(root)) {
    return std::unexpected(std::vector<Error>{
        Error("yaml: key \"" + dup->key + "\" already set in map",
              SourceLocation{path, static_cast<uint32_t>(dup->line),
                             static_cast<uint32_t>(dup->column)})});
  }
  RunConfig c;
  try {
    c = dec.decode(root);
  } catch (const YAML::Exception& e) {
    dec.errors().emplace_back("yaml: " + e.msg,
                              SourceLocation{path, static_cast<uint32_t>(e.mark.line + 1),
                                             static_cast<uint32_t>(e.mark.column + 1)});
  }
  if (!dec.errors().empty()) return std::unexpected(std::move(dec.errors()));
  c.path = path;
  c.base_dir = base;
  c.text = text;
  return c;
}

std::expected<RunConfig, std::vector<Error>> load_run_config(const std::string& path) {
  auto text = Env::Default()->read_file(path);
  if (!text) {
    return std::unexpected(std::vector<Error>{
        Error("cannot read config: " + text.error().message, SourceLocation{path, 0, 0})});
  }
  return parse_run_config(*text, path);
}

}  // namespace ruleeval::rules
