#include "ruleeval/notifiers/config.hpp"

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/yaml_duplicates.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>


#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include "am_validate.hpp"
#include "payloads.hpp"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::notifiers {

std::string_view kind_name(IntegrationKind k) {
  switch (k) {
    case IntegrationKind::kSlack:
      return "slack";
    case IntegrationKind::kPagerDuty:
      return "pagerduty";
    case IntegrationKind::kEmail:
      return "email";
    case IntegrationKind::kWebhook:
      return "webhook";
    case IntegrationKind::kAlertmanager:
      return "alertmanager";
    case IntegrationKind::kFile:
      return "file";
    case IntegrationKind::kOpsGenie:
      return "opsgenie";
    case IntegrationKind::kVictorOps:
      return "victorops";
    case IntegrationKind::kPushover:
      return "pushover";
    case IntegrationKind::kTelegram:
      return "telegram";
    case IntegrationKind::kDiscord:
      return "discord";
    case IntegrationKind::kWebex:
      return "webex";
    case IntegrationKind::kSns:
      return "sns";
    case IntegrationKind::kWechat:
      return "wechat";
    case IntegrationKind::kMSTeams:
      return "msteams";
    case IntegrationKind::kMSTeamsV2:
      return "msteamsv2";
  }
  return "unknown";
}

const ReceiverConfig* NotifyConfig::find_receiver(std::string_view name) const {
  for (const auto& r : receivers) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

namespace {

// Thrown inside the loader only; converted to an Error at the API boundary.
struct ConfigError {
  Error err;
};

// Alertmanager's global defaults, applied per receiver in Config.UnmarshalYAML.
struct Globals {
  std::string smtp_from, smtp_hello = "localhost", smtp_smarthost, smtp_auth_username,
      smtp_auth_password, smtp_auth_secret, smtp_auth_identity;
  std::string smtp_auth_password_file;  // a path, read at send time (as every *_file below)
  bool smtp_require_tls = true;
  std::string slack_api_url, slack_api_url_file;
  std::string wechat_api_url = "https://qyapi.weixin.qq.com/cgi-bin/", wechat_api_secret,
              wechat_api_corp_id;
  std::string pagerduty_url = "https://events.pagerduty.com/v2/enqueue";
  // opsgenie, victorops, telegram, webex (Alertmanager's DefaultGlobalConfig); *_key_file is a
  // path, read at send time.
  std::string opsgenie_api_url = "https://api.opsgenie.com/", opsgenie_api_key,
              opsgenie_api_key_file;
  std::string victorops_api_url =
      "https://alert.victorops.com/integrations/generic/20131114/alert/";
  std::string victorops_api_key, victorops_api_key_file;
  std::string telegram_api_url = "https://api.telegram.org";
  std::string webex_api_url = "https://webexapis.com/v1/messages";
  HttpSettings http;  // DefaultHTTPClientConfig unless global.http_config is given
};

class Loader {
 public:
  Loader(std::string file, std::string base_dir, detail::AmMode mode)
      : file_(std::move(file)), base_dir_(std::move(base_dir)), mode_(mode) {}

  SourceLocation loc(const YAML::Node& n) const {
    SourceLocation l;
    l.file = file_;
    auto m = n.Mark();
    if (m.line >= 0) {
      l.line = static_cast<uint32_t>(m.line + 1);
      l.col = static_cast<uint32_t>(m.column + 1);
    }
    return l;
  }
  [[noreturn]] void fail(const YAML::Node& n, const std::string& path, const std::string& msg) {
    throw ConfigError{Error(path + ": " + msg, loc(n))};
  }
  // An inline URL must be absolute http(s) with a host, as Alertmanager's config.URL requires.
  void check_url(const YAML::Node& parent, const std::string& path, const char* key) {
    auto n = parent[key];
    if (!n || !n.IsScalar()) return;
    const std::string u = n.as<std::string>();
    const size_t scheme = u.find("://");
    const std::string s = scheme == std::string::npos ? "" : u.substr(0, scheme);
    if (s != "http" && s != "https") {
      fail(n, path + "." + key, "unsupported scheme \"" + s + "\" for URL (want http or https)");
    }
    std::string host = u.substr(scheme + 3);
    host.resize(std::min(host.size(), host.find_first_of("/?#")));
    if (const size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    if (host.empty() || host.front() == ':' || host.find_first_of(" \t\r\n") != std::string::npos) {
      fail(n, path + "." + key, "invalid URL \"" + u + "\": no valid host");
    }
  }


  void check_keys(const YAML::Node& n, const std::string& path,
                  std::initializer_list<std::string_view> known) {
    if (!n.IsMap()) fail(n, path, "must be a mapping");
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto key = it->first.as<std::string>();
      bool ok = false;
      for (auto k : known) ok |= (k == key);
      if (!ok) {
        fail(it->first, fmt::format("{}.{}", path, key),
             "is valid Alertmanager configuration but not implemented by ruleeval (refused "
             "rather than ignored)");
      }
    }
  }

  std::string str(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) fail(n, path, "must be a string");
    return n.as<std::string>();
  }
  bool boolean(const YAML::Node& n, const std::string& path) {
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) fail(n, path, "must be true or false");
    return b;
  }
  Millis duration(const YAML::Node& n, const std::string& path) {
    auto d = parse_duration(str(n, path));
    if (!d) fail(n, path, d.error().message);
    return *d;
  }
  uint64_t uint(const YAML::Node& n, const std::string& path) {
    std::string s = str(n, path);
    try {
      size_t used = 0;
      long long v = std::stoll(s, &used);
      if (used == s.size() && v >= 0) return static_cast<uint64_t>(v);
    } catch (...) {
    }
    fail(n, path, "must be a non-negative integer");
  }
  // `key` or `key_file` (not both). A file is not read here: Alertmanager reads these secrets
  // when it sends (notify/slack, notify/pagerduty, notify/webhook, notify/email), so a config
  // naming a file that is not there yet is valid and a rotated secret needs no reload. `file`
  // gets the path, resolved against the config's directory.
  void secret(const YAML::Node& parent, const std::string& path, const std::string& key,
              std::string& out, std::string& file) {
    auto a = parent[key];
    auto b = parent[key + "_file"];
    if (a && b) fail(b, path + "." + key + "_file", "cannot be combined with " + key);
    if (a) out = str(a, path + "." + key);
    if (b) {
      file = str(b, path + "." + key + "_file");
      if (!file.empty()) file = resolve(file);
    }
  }

  Matchers matchers(const YAML::Node& n, const std::string& path) {
    if (!n.IsSequence()) fail(n, path, "must be a list of matchers");
    Matchers out;
    for (size_t i = 0; i < n.size(); ++i) {
      auto p = path + "[" + std::to_string(i) + "]";
      auto ms = parse_matchers(str(n[i], p));
      if (!ms) fail(n[i], p, ms.error().message);
      for (auto& m : *ms) out.push_back(std::move(m));
    }
    return out;
  }
  // Deprecated `match` / `match_re` maps.
  void legacy_match(const YAML::Node& n, const std::string& path, MatchOp op, Matchers& out) {
    if (!n.IsMap()) fail(n, path, "must be a mapping of label names to values");
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto m = Matcher::make(it->first.as<std::string>(), op,
                             str(it->second, path + "." + it->first.as<std::string>()));
      if (!m) fail(it->second, path, m.error().message);
      out.push_back(std::move(*m));
    }
  }

  TlsSettings tls(const YAML::Node& t, const std::string& p) {
    TlsSettings out;
    if (!t || t.IsNull()) return out;
    check_keys(t, p,
               {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify",
                "min_version"});
    for (auto [key, field] : {std::pair{"ca_file", &out.ca_file}, {"cert_file", &out.cert_file},
                              {"key_file", &out.key_file}}) {
      if (t[key]) *field = resolve(str(t[key], p + "." + key));
    }
    opt(t, "server_name", p, out.server_name);
    opt(t, "min_version", p, out.min_version);
    opt_bool(t, "insecure_skip_verify", p, out.insecure_skip_verify);
    return out;
  }
  std::string resolve(const std::string& f) const {
    std::filesystem::path fp(f);
    if (fp.is_relative() && !base_dir_.empty()) fp = std::filesystem::path(base_dir_) / fp;
    return fp.string();
  }

  // A receiver's http_config, or global.http_config when it has none (Alertmanager's rule).
  HttpSettings http(const YAML::Node& parent, const std::string& path) {
    auto n = parent["http_config"];
    if (!n || n.IsNull()) return globals_.http;
    return http_node(n, path + ".http_config");
  }
  HttpSettings http_node(const YAML::Node& n, const std::string& p) {
    HttpSettings h;
    check_keys(n, p, {"authorization", "basic_auth", "bearer_token", "bearer_token_file",
                      "tls_config", "timeout", "follow_redirects", "enable_http2", "proxy_url",
                      "oauth2", "no_proxy", "proxy_from_environment", "proxy_connect_header"});
    // prometheus/common reads *_file secrets at every request: keep the path.
    auto file_secret = [&](const YAML::Node& parent, const std::string& path,
                           const std::string& key, std::string& value, std::string& file) {
      auto a = parent[key];
      auto b = parent[key + "_file"];
      if (a && b && !a.IsNull() && !b.IsNull()) {
        fail(b, path + "." + key + "_file", "cannot be combined with " + key);
      }
      if (a && !a.IsNull()) value = str(a, path + "." + key);
      if (b && !b.IsNull()) {
        file = str(b, path + "." + key + "_file");
        if (!file.empty()) file = resolve(file);
      }
    };
    file_secret(n, p, "bearer_token", h.bearer_token, h.bearer_token_file);
    if (auto a = n["authorization"]) {
      check_keys(a, p + ".authorization", {"type", "credentials", "credentials_file"});
      if (a["type"]) {
        std::string t = str(a["type"], p + ".authorization.type");
        while (!t.empty() && t.back() == ' ') t.pop_back();
        while (!t.empty() && t.front() == ' ') t.erase(0, 1);
        if (!t.empty()) h.authorization_type = t;
      }
      file_secret(a, p + ".authorization", "credentials", h.bearer_token, h.bearer_token_file);
    }
    if (n["basic_auth"] && (n["bearer_token"] || n["bearer_token_file"])) {
      fail(n, p, "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be "
                 "configured");
    }
    if (n["authorization"] && (n["basic_auth"] || n["bearer_token"] || n["bearer_token_file"])) {
      fail(n, p, "at most one of basic_auth, oauth2 & authorization must be configured");
    }
    if (auto b = n["basic_auth"]) {
      check_keys(b, p + ".basic_auth", {"username", "password", "password_file"});
      if (b["username"]) h.basic_user = str(b["username"], p + ".basic_auth.username");
      file_secret(b, p + ".basic_auth", "password", h.basic_password, h.basic_password_file);
    }
    if (auto o = n["oauth2"]; o && !o.IsNull()) {
      const std::string op = p + ".oauth2";
      check_keys(o, op,
                 {"client_id", "client_secret", "client_secret_file", "scopes", "token_url",
                  "endpoint_params", "tls_config", "proxy_url", "no_proxy",
                  "proxy_from_environment", "proxy_connect_header"});
      auto& oa = h.oauth2;
      opt(o, "client_id", op, oa.client_id);
      opt(o, "client_secret", op, oa.client_secret);
      opt(o, "client_secret_file", op, oa.client_secret_file);
      if (!oa.client_secret_file.empty()) oa.client_secret_file = resolve(oa.client_secret_file);
      opt(o, "token_url", op, oa.token_url);
      opt(o, "proxy_url", op, oa.proxy_url);
      opt(o, "no_proxy", op, oa.no_proxy);
      opt_bool(o, "proxy_from_environment", op, oa.proxy_from_environment);
      proxy_connect_header(o, op, oa.proxy_connect_header);
      proxy_validate(o, op, oa.proxy_url, oa.no_proxy, oa.proxy_from_environment,
                     oa.proxy_connect_header);
      if (auto sc = o["scopes"]; sc && !sc.IsNull()) {
        each(sc, op + ".scopes", [&](const YAML::Node& v, const std::string& vp) {
          oa.scopes.push_back(str(v, vp));
        });
      }
      if (auto ep = o["endpoint_params"]; ep && !ep.IsNull()) {
        string_map(ep, op + ".endpoint_params", oa.endpoint_params);
      }
      oa.tls = tls(o["tls_config"], op + ".tls_config");
      if (oa.token_url.empty()) fail(o, op, "oauth2 token_url must be configured");
      if (oa.client_id.empty()) fail(o, op, "oauth2 client_id must be configured");
    }
    h.tls = tls(n["tls_config"], p + ".tls_config");
    h.insecure_skip_verify = h.tls.insecure_skip_verify;
    if (n["timeout"]) h.timeout_ms = duration(n["timeout"], p + ".timeout");
    opt(n, "proxy_url", p, h.proxy_url);
    opt(n, "no_proxy", p, h.no_proxy);
    opt_bool(n, "proxy_from_environment", p, h.proxy_from_environment);
    proxy_connect_header(n, p, h.proxy_connect_header);
    opt_bool(n, "follow_redirects", p, h.follow_redirects);
    opt_bool(n, "enable_http2", p, h.enable_http2);
    return h;
  }

  // prometheus/common's ProxyHeader: a map of header names to lists of values.
  void proxy_connect_header(const YAML::Node& n, const std::string& p,
                            std::vector<std::pair<std::string, std::string>>& out) {
    if (auto ph = n["proxy_connect_header"]; ph && !ph.IsNull()) {
      if (!ph.IsMap()) fail(ph, p + ".proxy_connect_header", "must be a mapping");
      for (auto it = ph.begin(); it != ph.end(); ++it) {
        const auto name = it->first.as<std::string>();
        const std::string hp = fmt::format("{}.proxy_connect_header.{}", p, name);
        if (it->second.IsNull()) continue;
        each(it->second, hp, [&](const YAML::Node& v, const std::string& vp) {
          out.emplace_back(name, str(v, vp));
        });
      }
    }
  }
  // ProxyConfig.Validate (prometheus/common v0.44+), for oauth2's proxy settings.
  void proxy_validate(const YAML::Node& n, const std::string& p, const std::string& proxy_url,
                      const std::string& no_proxy, bool from_env,
                      const std::vector<std::pair<std::string, std::string>>& connect) {
    if (!connect.empty() && !from_env && proxy_url.empty()) {
      fail(n["proxy_connect_header"], p,
           "if proxy_connect_header is configured, proxy_url or proxy_from_environment must "
           "also be configured");
    }
    if (from_env && !proxy_url.empty()) {
      fail(n["proxy_from_environment"], p,
           "if proxy_from_environment is configured, proxy_url must not be configured");
    }
    if (from_env && !no_proxy.empty()) {
      fail(n["proxy_from_environment"], p,
           "if proxy_from_environment is configured, no_proxy must not be configured");
    }
    if (proxy_url.empty() && !no_proxy.empty()) {
      fail(n["no_proxy"], p, "if no_proxy is configured, proxy_url must also be configured");
    }
  }

  // One entry of a named interval's time_intervals (already validated like Alertmanager).
  TimeInterval time_interval(const YAML::Node& n, const std::string& p) {
    TimeInterval ti;
    auto lower = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    auto ranges = [&](const char* key, auto member) {
      std::optional<std::vector<TimeInterval::Range>> out;
      auto l = n[key];
      if (!l || l.IsNull()) return out;
      out.emplace();
      // l[i] is the i-th item of a sequence; a range-for over a map would yield key/value pairs.
      // NOLINTNEXTLINE(modernize-loop-convert)
      for (size_t i = 0; i < l.size(); ++i) {
        std::string s = lower(str(l[i], p + "." + key));
        auto c = s.find(':');
        TimeInterval::Range r;
        r.begin = member(c == std::string::npos ? s : s.substr(0, c));
        r.end = c == std::string::npos ? r.begin : member(s.substr(c + 1));
        out->push_back(r);
      }
      return out;
    };
    static const char* kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                  "thursday", "friday", "saturday"};
    static const char* kMonths[] = {"january", "february", "march",     "april",
                                    "may",     "june",     "july",      "august",
                                    "september", "october", "november", "december"};
    auto number = [](const std::string& s) { return std::stoi(s); };
    ti.weekdays = ranges("weekdays", [&](const std::string& s) {
      for (int i = 0; i < 7; ++i) {
        if (s == kDays[i]) return i;
      }
      return 0;
    });
    ti.days_of_month = ranges("days_of_month", number);
    ti.months = ranges("months", [&](const std::string& s) {
      for (int i = 0; i < 12; ++i) {
        if (s == kMonths[i]) return i + 1;
      }
      return std::stoi(s);
    });
    ti.years = ranges("years", number);
    if (auto t = n["times"]; t && !t.IsNull()) {
      ti.times.emplace();
      // t[i] is the i-th item of a sequence; a range-for over a map would yield key/value pairs.
      // NOLINTNEXTLINE(modernize-loop-convert)
      for (size_t i = 0; i < t.size(); ++i) {
        auto minutes = [](const std::string& s) {
          return std::stoi(s.substr(0, 2)) * 60 + std::stoi(s.substr(3, 2));
        };
        TimeInterval::Range r;
        r.begin = minutes(str(t[i]["start_time"], p + ".times"));
        r.end = minutes(str(t[i]["end_time"], p + ".times"));
        ti.times->push_back(r);
      }
    }
    if (auto l = n["location"]; l && !l.IsNull()) {
      auto tz = TimeZone::load(str(l, p + ".location"));
      if (!tz) fail(l, p + ".location", tz.error().message);
      ti.location = *tz;
    }
    return ti;
  }

  void load_globals(const YAML::Node& g) {
    if (!g || !g.IsMap()) return;
    const std::string p = "global";
    for (auto [key, field] :
         {std::pair{"smtp_from", &globals_.smtp_from}, {"smtp_hello", &globals_.smtp_hello},
          {"smtp_smarthost", &globals_.smtp_smarthost},
          {"smtp_auth_username", &globals_.smtp_auth_username},
          {"smtp_auth_secret", &globals_.smtp_auth_secret},
          {"smtp_auth_identity", &globals_.smtp_auth_identity},
          {"pagerduty_url", &globals_.pagerduty_url},
          {"opsgenie_api_url", &globals_.opsgenie_api_url},
          {"opsgenie_api_key", &globals_.opsgenie_api_key},
          {"victorops_api_url", &globals_.victorops_api_url},
          {"victorops_api_key", &globals_.victorops_api_key},
          {"telegram_api_url", &globals_.telegram_api_url},
          {"webex_api_url", &globals_.webex_api_url},

{"wechat_api_url", &globals_.wechat_api_url},
          {"wechat_api_secret", &globals_.wechat_api_secret},
          {"wechat_api_corp_id", &globals_.wechat_api_corp_id}}) {
      if (g[key] && !g[key].IsNull()) *field = str(g[key], p + "." + key);
    }
    for (auto [key, field] : {std::pair{"opsgenie_api_key_file", &globals_.opsgenie_api_key_file},
                              {"victorops_api_key_file", &globals_.victorops_api_key_file}}) {
      if (g[key] && !g[key].IsNull()) *field = resolve(str(g[key], p + "." + key));
    }
    if (globals_.smtp_hello.empty()) globals_.smtp_hello = "localhost";
    secret(g, p, "smtp_auth_password", globals_.smtp_auth_password,
           globals_.smtp_auth_password_file);
    if (g["smtp_require_tls"] && !g["smtp_require_tls"].IsNull()) {
      globals_.smtp_require_tls = boolean(g["smtp_require_tls"], p + ".smtp_require_tls");
    }
    secret(g, p, "slack_api_url", globals_.slack_api_url, globals_.slack_api_url_file);
    if (auto h = g["http_config"]; h && !h.IsNull()) {
      globals_.http = http_node(h, p + ".http_config");
    }
  }

  template <class F>
  void each(const YAML::Node& n, const std::string& path, F&& f) {
    if (!n.IsSequence()) fail(n, path, "must be a list");
    for (size_t i = 0; i < n.size(); ++i) f(n[i], path + "[" + std::to_string(i) + "]");
  }

  void opt(const YAML::Node& n, const char* key, const std::string& path, std::string& out) {
    if (n[key]) out = str(n[key], path + "." + key);
  }
  void opt_bool(const YAML::Node& n, const char* key, const std::string& path, bool& out) {
    if (n[key]) out = boolean(n[key], path + "." + key);
  }
  void string_map(const YAML::Node& n, const std::string& path,
                  std::map<std::string, std::string>& out) {
    if (!n.IsMap()) fail(n, path, "must be a mapping");
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto k = it->first.as<std::string>();
      out[k] = str(it->second, fmt::format("{}.{}", path, k));
    }
  }

  ReceiverConfig receiver(const YAML::Node& n, const std::string& path) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto key = it->first.as<std::string>();
      if (key != "name" && key != "slack_configs" && key != "pagerduty_configs" &&
          key != "email_configs" && key != "webhook_configs" && key != "alertmanager_configs" &&
          key != "file_configs" && key != "opsgenie_configs" && key != "victorops_configs" &&
          key != "pushover_configs" && key != "telegram_configs" && key != "discord_configs" &&
          key != "webex_configs" && key != "sns_configs" && key != "wechat_configs" &&
          key != "msteams_configs" && key != "msteamsv2_configs" &&
          !it->second.IsNull() && it->second.size() > 0) {
        fail(it->first, fmt::format("{}.{}", path, key),
             "is a valid Alertmanager receiver but not implemented by ruleeval yet (refused "
             "rather than ignored)");
      }
    }
    ReceiverConfig r;
    r.where = loc(n);
    if (!n["name"]) fail(n, path + ".name", "is required");
    r.name = str(n["name"], path + ".name");
    if (r.name.empty()) fail(n["name"], path + ".name", "must not be empty");
    if (auto s = n["slack_configs"]) {
      each(s, path + ".slack_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "api_url", "api_url_file", "channel", "username",
                    "icon_emoji", "icon_url", "title", "title_link", "pretext", "text",
                    "fallback", "color", "footer", "callback_id", "link_names", "http_config",
                    "image_url", "thumb_url", "short_fields", "mrkdwn_in", "fields", "actions"});
        SlackConfig sc;
        opt_bool(c, "send_resolved", p, sc.send_resolved);
        secret(c, p, "api_url", sc.api_url, sc.api_url_file);
        if (sc.api_url.empty() && sc.api_url_file.empty()) {
          sc.api_url = globals_.slack_api_url;
          sc.api_url_file = globals_.slack_api_url_file;
        }
        if (sc.api_url.empty() && sc.api_url_file.empty()) {
          fail(c, p + ".api_url", "no global Slack API URL set either inline or in a file");
        }
        check_url(c, p, "api_url");
        opt(c, "image_url", p, sc.image_url);
        opt(c, "thumb_url", p, sc.thumb_url);
        opt_bool(c, "short_fields", p, sc.short_fields);
        if (auto m = c["mrkdwn_in"]; m && !m.IsNull()) {
          sc.mrkdwn_in.emplace();
          each(m, p + ".mrkdwn_in", [&](const YAML::Node& v, const std::string& vp) {
            sc.mrkdwn_in->push_back(str(v, vp));
          });
        }
        if (auto fs = c["fields"]; fs && !fs.IsNull()) {
          each(fs, p + ".fields", [&](const YAML::Node& f, const std::string& fp) {
            SlackConfig::Field field;
            opt(f, "title", fp, field.title);
            opt(f, "value", fp, field.value);
            if (f["short"] && !f["short"].IsNull()) field.short_ = boolean(f["short"], fp + ".short");
            sc.fields.push_back(std::move(field));
          });
        }
        if (auto as = c["actions"]; as && !as.IsNull()) {
          each(as, p + ".actions", [&](const YAML::Node& a, const std::string& ap) {
            SlackConfig::Action act;
            for (auto [key, field] : {std::pair{"type", &act.type}, {"text", &act.text},
                                      {"url", &act.url}, {"style", &act.style},
                                      {"name", &act.name}, {"value", &act.value}}) {
              opt(a, key, ap, *field);
            }
            if (auto cf = a["confirm"]; cf && !cf.IsNull()) {
              SlackConfig::Action::Confirm conf;
              for (auto [key, field] :
                   {std::pair{"text", &conf.text}, {"title", &conf.title},
                    {"ok_text", &conf.ok_text}, {"dismiss_text", &conf.dismiss_text}}) {
                opt(cf, key, ap + ".confirm", *field);
              }
              act.confirm = conf;
            }
            sc.actions.push_back(std::move(act));
          });
        }
        for (auto [key, field] : {std::pair{"channel", &sc.channel}, {"username", &sc.username},
                                  {"icon_emoji", &sc.icon_emoji}, {"icon_url", &sc.icon_url},
                                  {"title", &sc.title}, {"title_link", &sc.title_link},
                                  {"pretext", &sc.pretext}, {"text", &sc.text},
                                  {"fallback", &sc.fallback}, {"color", &sc.color},
                                  {"footer", &sc.footer}, {"callback_id", &sc.callback_id}}) {
          opt(c, key, p, *field);
        }
        opt_bool(c, "link_names", p, sc.link_names);
        sc.http = http(c, p);
        if (mode_ == detail::AmMode::kAlertmanagerFile) {
          // Alertmanager's DefaultSlackConfig, rendered by its default templates.
          if (sc.username.empty()) sc.username = R"({{ template "slack.default.username" . }})";
          if (sc.text.empty()) sc.text = R"({{ template "slack.default.text" . }})";
          sc.runbook_buttons = false;
        }
        r.slack.push_back(std::move(sc));
      });
    }
    if (auto s = n["pagerduty_configs"]) {
      each(s, path + ".pagerduty_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "routing_key", "routing_key_file", "url", "client",
                    "client_url", "description", "severity", "source", "class", "component",
                    "group", "details", "http_config", "links", "images", "service_key",
                    "service_key_file"});
        PagerDutyConfig pc;
        pc.url = globals_.pagerduty_url;
        opt_bool(c, "send_resolved", p, pc.send_resolved);
        secret(c, p, "routing_key", pc.routing_key, pc.routing_key_file);
        secret(c, p, "service_key", pc.service_key, pc.service_key_file);
        if (pc.v1()) {
          // Alertmanager posts v1 events to PagerDuty's fixed v1 endpoint; ruleeval honours an
          // explicit `url` (for proxies and tests) and otherwise uses that endpoint.
          pc.url = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
        }
        if (pc.routing_key.empty() && pc.service_key.empty() && pc.routing_key_file.empty() &&
            pc.service_key_file.empty()) {
          fail(c, p + ".routing_key", "missing service or routing key in PagerDuty config");
        }
        if (auto ls = c["links"]; ls && !ls.IsNull()) {
          each(ls, p + ".links", [&](const YAML::Node& l, const std::string& lp) {
            PagerDutyConfig::Link link;
            opt(l, "href", lp, link.href);
            opt(l, "text", lp, link.text);
            pc.links.push_back(std::move(link));
          });
        }
        if (auto is = c["images"]; is && !is.IsNull()) {
          each(is, p + ".images", [&](const YAML::Node& l, const std::string& lp) {
            PagerDutyConfig::Image img;
            opt(l, "src", lp, img.src);
            opt(l, "alt", lp, img.alt);
            opt(l, "href", lp, img.href);
            pc.images.push_back(std::move(img));
          });
        }
        for (auto [key, field] :
             {std::pair{"url", &pc.url}, {"client", &pc.client}, {"client_url", &pc.client_url},
              {"description", &pc.description}, {"severity", &pc.severity},
              {"source", &pc.source}, {"class", &pc.class_}, {"component", &pc.component},
              {"group", &pc.group}}) {
          opt(c, key, p, *field);
        }
        if (c["details"]) string_map(c["details"], p + ".details", pc.details);
        check_url(c, p, "url");
        if (mode_ == detail::AmMode::kAlertmanagerFile) {
          // Alertmanager's DefaultPagerdutyConfig: client/source from its default templates,
          // severity "error" unless configured (no mapping from the alerts' labels).
          if (pc.client.empty()) pc.client = R"({{ template "pagerduty.default.client" . }})";
          if (pc.severity.empty()) pc.severity = "error";
          pc.runbook_links = false;
          pc.map_severity = false;
        }
        pc.http = http(c, p);
        r.pagerduty.push_back(std::move(pc));
      });
    }
    if (auto s = n["email_configs"]) {
      each(s, path + ".email_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "to", "from", "smarthost", "hello", "auth_username",
                    "auth_password", "auth_password_file", "auth_identity", "require_tls",
                    "force_implicit_tls", "tls_config", "html", "text", "headers", "timeout",
                    "auth_secret"});
        EmailConfig ec;
        opt_bool(c, "send_resolved", p, ec.send_resolved);
        ec.hello.clear();
        for (auto [key, field] :
             {std::pair{"to", &ec.to}, {"from", &ec.from}, {"smarthost", &ec.smarthost},
              {"hello", &ec.hello}, {"auth_username", &ec.auth_username},
              {"auth_identity", &ec.auth_identity}, {"html", &ec.html}, {"text", &ec.text}}) {
          opt(c, key, p, *field);
        }
        if (c["auth_password"] && c["auth_password_file"] && !c["auth_password"].IsNull() &&
            !c["auth_password_file"].IsNull()) {
          fail(c["auth_password_file"], p + ".auth_password_file",
               "cannot be combined with auth_password");
        }
        opt(c, "auth_password", p, ec.auth_password);
        opt(c, "auth_password_file", p, ec.auth_password_file);
        if (!ec.auth_password_file.empty()) ec.auth_password_file = resolve(ec.auth_password_file);
        std::string auth_secret;
        opt(c, "auth_secret", p, auth_secret);
        // Config.UnmarshalYAML: each unset field takes the global smtp_* value.
        bool own_password = (c["auth_password"] && !c["auth_password"].IsNull()) ||
                            (c["auth_password_file"] && !c["auth_password_file"].IsNull());
        if (ec.smarthost.empty()) ec.smarthost = globals_.smtp_smarthost;
        if (ec.from.empty()) ec.from = globals_.smtp_from;
        if (ec.hello.empty()) ec.hello = globals_.smtp_hello;
        if (ec.auth_username.empty()) ec.auth_username = globals_.smtp_auth_username;
        if (!own_password) {
          ec.auth_password = globals_.smtp_auth_password;
          ec.auth_password_file = globals_.smtp_auth_password_file;
        }
        if (auth_secret.empty()) auth_secret = globals_.smtp_auth_secret;
        if (ec.auth_identity.empty()) ec.auth_identity = globals_.smtp_auth_identity;
        ec.require_tls = globals_.smtp_require_tls;
        opt_bool(c, "require_tls", p, ec.require_tls);
        opt_bool(c, "force_implicit_tls", p, ec.force_implicit_tls);
        ec.auth_secret = auth_secret;
        if (!auth_secret.empty() && !ec.auth_username.empty() &&
            (!ec.auth_password.empty() || !ec.auth_password_file.empty())) {
          // Alertmanager picks CRAM-MD5 (secret) or PLAIN/LOGIN (password) by the order of the
          // server's AUTH list; libcurl uses one password for whichever it picks.
          fail(c["auth_secret"] ? c["auth_secret"] : c, p + ".auth_secret",
               "auth_secret together with auth_password (including global smtp_auth_* values) "
               "is valid Alertmanager configuration but not implemented by ruleeval (refused "
               "rather than ignored): configure one of them");
        }
        if (auto t = c["tls_config"]) {
          ec.tls = tls(t, p + ".tls_config");
          ec.insecure_skip_verify = ec.tls.insecure_skip_verify;
        }
        if (c["headers"]) string_map(c["headers"], p + ".headers", ec.headers);
        if (c["timeout"]) ec.timeout_ms = duration(c["timeout"], p + ".timeout");
        if (ec.to.empty()) fail(c, p + ".to", "missing to address in email config");
        if (ec.from.empty()) fail(c, p + ".from", "no global SMTP from set");
        if (ec.smarthost.empty()) fail(c, p + ".smarthost", "no global SMTP smarthost set");
        if (ec.smarthost.rfind(':') == std::string::npos) {
          fail(c["smarthost"], p + ".smarthost", "must be host:port");
        }
        r.email.push_back(std::move(ec));
      });
    }
    if (auto s = n["webhook_configs"]) {
      each(s, path + ".webhook_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p, {"send_resolved", "url", "url_file", "max_alerts", "http_config"});
        WebhookConfig wc;
        opt_bool(c, "send_resolved", p, wc.send_resolved);
        secret(c, p, "url", wc.url, wc.url_file);
        if (wc.url.empty() && wc.url_file.empty()) fail(c, p + ".url", "is required (or url_file)");
        check_url(c, p, "url");
        if (c["max_alerts"]) wc.max_alerts = uint(c["max_alerts"], p + ".max_alerts");
        wc.http = http(c, p);
        r.webhook.push_back(std::move(wc));
      });
    }
    if (auto s = n["alertmanager_configs"]) {
      each(s, path + ".alertmanager_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p, {"send_resolved", "url", "url_file", "http_config"});
        AlertmanagerConfig ac;
        opt_bool(c, "send_resolved", p, ac.send_resolved);
        secret(c, p, "url", ac.url, ac.url_file);
        if (ac.url.empty() && ac.url_file.empty()) fail(c, p + ".url", "is required (or url_file)");
        check_url(c, p, "url");
        while (!ac.url.empty() && ac.url.back() == '/') ac.url.pop_back();
        ac.http = http(c, p);
        r.alertmanager.push_back(std::move(ac));
      });
    }
    if (auto s = n["sns_configs"]) sns_configs(s, path + ".sns_configs", r);
    if (auto s = n["wechat_configs"]) wechat_configs(s, path + ".wechat_configs", r);
    if (auto s = n["file_configs"]) {
      each(s, path + ".file_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p, {"send_resolved", "path"});
        FileConfig fc;
        opt_bool(c, "send_resolved", p, fc.send_resolved);
        opt(c, "path", p, fc.path);
        if (fc.path.empty()) fail(c, p + ".path", "is required (\"-\" for stdout)");
        r.file.push_back(std::move(fc));
      });
    }
    more_receivers(n, path, r);
    if (auto s = n["msteams_configs"]; s && !s.IsNull()) {
      msteams_configs(s, path + ".msteams_configs", r, false);
    }
    if (auto s = n["msteamsv2_configs"]; s && !s.IsNull()) {
      msteams_configs(s, path + ".msteamsv2_configs", r, true);
    }
    return r;
  }

  // Go's time.ParseDuration, in whole seconds (pushover retry/expire are sent as seconds).
  int64_t go_seconds(const YAML::Node& n, const std::string& path) {
    const std::string s = str(n, path);
    std::string_view v = s;
    bool neg = !v.empty() && v[0] == '-';
    if (!v.empty() && (v[0] == '+' || v[0] == '-')) v.remove_prefix(1);
    if (v == "0") return 0;
    long double ns = 0;
    if (v.empty()) fail(n, path, "time: invalid duration \"" + s + "\"");
    while (!v.empty()) {
      size_t i = 0;
      while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
      if (i == 0) fail(n, path, "time: invalid duration \"" + s + "\"");
      long double num = std::strtold(std::string(v.substr(0, i)).c_str(), nullptr);
      v.remove_prefix(i);
      long double unit = 0;
      for (auto [u, f] : {std::pair<std::string_view, long double>{"ns", 1}, {"us", 1e3},
                          {"\xC2\xB5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 6e10},
                          {"h", 3.6e12}}) {
        if (v.substr(0, u.size()) == u && !(u == "m" && v.substr(0, 2) == "ms")) {
          v.remove_prefix(u.size());
          unit = f;
          break;
        }
      }
      if (unit == 0) fail(n, path, "time: invalid duration \"" + s + "\"");
      ns += num * unit;
    }
    auto secs = static_cast<int64_t>(ns / 1e9L);  // int64(d.Seconds()) truncates
    return neg ? -secs : secs;
  }

  // Alertmanager's URL type: an absolute http(s) URL; `slash` appends the '/' its config adds
  // to opsgenie and victorops API URLs.
  static std::string with_slash(const std::string& u) {
    const size_t q = u.find_first_of("?#", u.find("://") == std::string::npos ? 0 : u.find("://") + 3);
    std::string tail = q == std::string::npos ? "" : u.substr(q);
    std::string head = q == std::string::npos ? u : u.substr(0, q);
    if (head.empty() || head.back() != '/') head += '/';
    return head + tail;
  }

  // opsgenie_configs, victorops_configs, pushover_configs, telegram_configs, discord_configs and
  // webex_configs, with Alertmanager 0.25's defaults (config/notifiers.go) and its global
  // defaults (config.go). Keys of later Alertmanager versions (token_file, bot_token_file,
  // webhook_url_file, ...) are refused by the validation, as amtool 0.25 refuses them.
  void more_receivers(const YAML::Node& n, const std::string& path, ReceiverConfig& r) {
    auto key_file = [&](const YAML::Node& c, const std::string& p, const char* key,
                        std::string& out) {
      if (auto f = c[key]; f && !f.IsNull()) out = resolve(str(f, p + "." + key));
    };
    if (auto s = n["opsgenie_configs"]; s && !s.IsNull()) {
      each(s, path + ".opsgenie_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "http_config", "api_key", "api_key_file", "api_url",
                    "message", "description", "source", "details", "entity", "responders",
                    "actions", "tags", "note", "priority", "update_alerts"});
        OpsGenieConfig oc;
        oc.message = R"({{ template "opsgenie.default.message" . }})";
        oc.description = R"({{ template "opsgenie.default.description" . }})";
        oc.source = R"({{ template "opsgenie.default.source" . }})";
        opt_bool(c, "send_resolved", p, oc.send_resolved);
        opt(c, "api_key", p, oc.api_key);
        key_file(c, p, "api_key_file", oc.api_key_file);
        if (oc.api_key.empty() && oc.api_key_file.empty()) {
          oc.api_key = globals_.opsgenie_api_key;
          oc.api_key_file = globals_.opsgenie_api_key_file;
        }
        if (oc.api_key.empty() && oc.api_key_file.empty()) {
          fail(c, p + ".api_key", "no global OpsGenie API Key set either inline or in a file");
        }
        oc.api_url = globals_.opsgenie_api_url;
        if (c["api_url"] && !c["api_url"].IsNull()) {
          check_url(c, p, "api_url");
          oc.api_url = str(c["api_url"], p + ".api_url");
        }
        oc.api_url = with_slash(oc.api_url);
        for (auto [key, field] :
             {std::pair{"message", &oc.message}, {"description", &oc.description},
              {"source", &oc.source}, {"entity", &oc.entity}, {"actions", &oc.actions},
              {"tags", &oc.tags}, {"note", &oc.note}, {"priority", &oc.priority}}) {
          if (c[key] && !c[key].IsNull()) *field = str(c[key], p + "." + key);
        }
        if (auto d = c["details"]; d && !d.IsNull()) string_map(d, p + ".details", oc.details);
        if (auto rs = c["responders"]; rs && !rs.IsNull()) {
          each(rs, p + ".responders", [&](const YAML::Node& rn, const std::string& rp) {
            OpsGenieConfig::Responder resp;
            for (auto [key, field] : {std::pair{"id", &resp.id}, {"name", &resp.name},
                                      {"username", &resp.username}, {"type", &resp.type}}) {
              if (rn[key] && !rn[key].IsNull()) *field = str(rn[key], rp + "." + key);
            }
            // The type is validated case-insensitively but sent as written (Alertmanager
            // 0.25 lower-cases a copy only).
            oc.responders.push_back(std::move(resp));
          });
        }
        opt_bool(c, "update_alerts", p, oc.update_alerts);
        oc.http = http(c, p);
        r.opsgenie.push_back(std::move(oc));
      });
    }
    if (auto s = n["victorops_configs"]; s && !s.IsNull()) {
      each(s, path + ".victorops_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "http_config", "api_key", "api_key_file", "api_url",
                    "routing_key", "message_type", "state_message", "entity_display_name",
                    "monitoring_tool", "custom_fields"});
        VictorOpsConfig vc;
        vc.state_message = R"({{ template "victorops.default.state_message" . }})";
        vc.entity_display_name = R"({{ template "victorops.default.entity_display_name" . }})";
        vc.monitoring_tool = R"({{ template "victorops.default.monitoring_tool" . }})";
        opt_bool(c, "send_resolved", p, vc.send_resolved);
        opt(c, "api_key", p, vc.api_key);
        key_file(c, p, "api_key_file", vc.api_key_file);
        if (vc.api_key.empty() && vc.api_key_file.empty()) {
          vc.api_key = globals_.victorops_api_key;
          vc.api_key_file = globals_.victorops_api_key_file;
        }
        if (vc.api_key.empty() && vc.api_key_file.empty()) {
          fail(c, p + ".api_key", "no global VictorOps API Key set");
        }
        vc.api_url = globals_.victorops_api_url;
        if (c["api_url"] && !c["api_url"].IsNull()) {
          check_url(c, p, "api_url");
          vc.api_url = str(c["api_url"], p + ".api_url");
        }
        vc.api_url = with_slash(vc.api_url);
        for (auto [key, field] :
             {std::pair{"routing_key", &vc.routing_key}, {"message_type", &vc.message_type},
              {"state_message", &vc.state_message},
              {"entity_display_name", &vc.entity_display_name},
              {"monitoring_tool", &vc.monitoring_tool}}) {
          if (c[key] && !c[key].IsNull()) *field = str(c[key], p + "." + key);
        }
        if (vc.routing_key.empty()) fail(c, p + ".routing_key", "missing Routing key in VictorOps config");
        if (auto d = c["custom_fields"]; d && !d.IsNull()) {
          string_map(d, p + ".custom_fields", vc.custom_fields);
        }
        vc.http = http(c, p);
        r.victorops.push_back(std::move(vc));
      });
    }
    if (auto s = n["pushover_configs"]; s && !s.IsNull()) {
      each(s, path + ".pushover_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "http_config", "user_key", "token", "title", "message",
                    "url", "url_title", "sound", "priority", "retry", "expire", "html"});
        PushoverConfig pc;
        pc.title = R"({{ template "pushover.default.title" . }})";
        pc.message = R"({{ template "pushover.default.message" . }})";
        pc.url = R"({{ template "pushover.default.url" . }})";
        pc.priority = R"({{ if eq .Status "firing" }}2{{ else }}0{{ end }})";
        opt_bool(c, "send_resolved", p, pc.send_resolved);
        for (auto [key, field] :
             {std::pair{"user_key", &pc.user_key}, {"token", &pc.token}, {"title", &pc.title},
              {"message", &pc.message}, {"url", &pc.url}, {"url_title", &pc.url_title},
              {"sound", &pc.sound}, {"priority", &pc.priority}}) {
          if (c[key] && !c[key].IsNull()) *field = str(c[key], p + "." + key);
        }
        if (pc.user_key.empty()) fail(c, p + ".user_key", "missing user key in Pushover config");
        if (pc.token.empty()) fail(c, p + ".token", "missing token in Pushover config");
        if (c["retry"] && !c["retry"].IsNull()) pc.retry_s = go_seconds(c["retry"], p + ".retry");
        if (c["expire"] && !c["expire"].IsNull()) {
          pc.expire_s = go_seconds(c["expire"], p + ".expire");
        }
        opt_bool(c, "html", p, pc.html);
        pc.http = http(c, p);
        r.pushover.push_back(std::move(pc));
      });
    }
    if (auto s = n["telegram_configs"]; s && !s.IsNull()) {
      each(s, path + ".telegram_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "http_config", "api_url", "bot_token", "chat_id",
                    "message", "disable_notifications", "parse_mode"});
        TelegramConfig tc;
        tc.message = R"({{ template "telegram.default.message" . }})";
        tc.api_url = globals_.telegram_api_url;
        opt_bool(c, "send_resolved", p, tc.send_resolved);
        if (c["api_url"] && !c["api_url"].IsNull()) {
          check_url(c, p, "api_url");
          tc.api_url = str(c["api_url"], p + ".api_url");
        }
        opt(c, "bot_token", p, tc.bot_token);
        if (tc.bot_token.empty()) fail(c, p + ".bot_token", "missing bot_token on telegram_config");
        if (c["chat_id"] && !c["chat_id"].IsNull()) {
          try {
            tc.chat_id = std::stoll(str(c["chat_id"], p + ".chat_id"));
          } catch (...) {
            fail(c["chat_id"], p + ".chat_id", "must be an integer");
          }
        }
        if (tc.chat_id == 0) fail(c, p + ".chat_id", "missing chat_id on telegram_config");
        if (c["message"] && !c["message"].IsNull()) tc.message = str(c["message"], p + ".message");
        opt_bool(c, "disable_notifications", p, tc.disable_notifications);
        if (c["parse_mode"] && !c["parse_mode"].IsNull()) {
          tc.parse_mode = str(c["parse_mode"], p + ".parse_mode");
        }
        tc.http = http(c, p);
        r.telegram.push_back(std::move(tc));
      });
    }
    if (auto s = n["discord_configs"]; s && !s.IsNull()) {
      each(s, path + ".discord_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p, {"send_resolved", "http_config", "webhook_url", "title", "message"});
        DiscordConfig dc;
        dc.title = R"({{ template "discord.default.title" . }})";
        dc.message = R"({{ template "discord.default.message" . }})";
        opt_bool(c, "send_resolved", p, dc.send_resolved);
        opt(c, "webhook_url", p, dc.webhook_url);
        if (dc.webhook_url.empty()) fail(c, p + ".webhook_url", "no discord webhook URL provided");
        check_url(c, p, "webhook_url");
        if (c["title"] && !c["title"].IsNull()) dc.title = str(c["title"], p + ".title");
        if (c["message"] && !c["message"].IsNull()) dc.message = str(c["message"], p + ".message");
        dc.http = http(c, p);
        r.discord.push_back(std::move(dc));
      });
    }
    if (auto s = n["webex_configs"]; s && !s.IsNull()) {
      each(s, path + ".webex_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p, {"send_resolved", "http_config", "api_url", "message", "room_id"});
        WebexConfig wc;
        wc.message = R"({{ template "webex.default.message" . }})";
        wc.api_url = globals_.webex_api_url;
        opt_bool(c, "send_resolved", p, wc.send_resolved);
        if (c["api_url"] && !c["api_url"].IsNull()) {
          check_url(c, p, "api_url");
          wc.api_url = str(c["api_url"], p + ".api_url");
        }
        if (c["message"] && !c["message"].IsNull()) wc.message = str(c["message"], p + ".message");
        opt(c, "room_id", p, wc.room_id);
        if (wc.room_id.empty()) fail(c, p + ".room_id", "missing room_id on webex_config");
        auto h = c["http_config"];
        if (!h || h.IsNull() || !h["authorization"] || h["authorization"].IsNull()) {
          fail(c, p + ".http_config", "missing webex_configs.http_config.authorization");
        }
        wc.http = http(c, p);
        r.webex.push_back(std::move(wc));
      });
    }
  }

  // msteams_configs (Alertmanager 0.26+, notify/msteams/config.go) and msteamsv2_configs (0.28+,
  // notify/msteamsv2/config.go): send_resolved defaults to true, the default templates are
  // msteams[v2].default.*, exactly one of webhook_url / webhook_url_file; without its own
  // http_config the integration uses global.http_config whole (Alertmanager 0.28's rule);
  // msteamsv2 also inherits global proxy_url into an http_config without one (0.34).
  void msteams_configs(const YAML::Node& s, const std::string& path, ReceiverConfig& r, bool v2) {
    each(s, path, [&](const YAML::Node& c, const std::string& p) {
      if (v2) {
        check_keys(c, p, {"send_resolved", "http_config", "webhook_url", "webhook_url_file",
                          "title", "text"});
      } else {
        check_keys(c, p, {"send_resolved", "http_config", "webhook_url", "webhook_url_file",
                          "title", "summary", "text"});
      }
      const std::string pre = v2 ? "msteamsv2" : "msteams";
      std::string title = "{{ template \"" + pre + ".default.title\" . }}";
      std::string summary = R"({{ template "msteams.default.summary" . }})";
      std::string text = "{{ template \"" + pre + ".default.text\" . }}";
      bool send_resolved = true;
      std::string url, url_file;
      opt_bool(c, "send_resolved", p, send_resolved);
      opt(c, "webhook_url", p, url);
      if (auto f = c["webhook_url_file"]; f && !f.IsNull()) {
        url_file = str(f, p + ".webhook_url_file");
      }
      if (url.empty() && url_file.empty()) {
        fail(c, p, "one of webhook_url or webhook_url_file must be configured");
      }
      if (!url.empty() && !url_file.empty()) {
        fail(c["webhook_url_file"], p,
             "at most one of webhook_url & webhook_url_file must be configured");
      }
      if (!url.empty()) check_url(c, p, "webhook_url");
      if (!url_file.empty()) url_file = resolve(url_file);
      opt(c, "title", p, title);
      opt(c, "text", p, text);
      if (!v2) opt(c, "summary", p, summary);
      if (v2) {
        MSTeamsV2Config mc;
        mc.send_resolved = send_resolved;
        mc.webhook_url = url;
        mc.webhook_url_file = url_file;
        mc.title = title;
        mc.text = text;
        mc.http = http(c, p);
        // Alertmanager 0.34 (#5379): an http_config of its own without proxy_url still takes
        // global.http_config's proxy_url (only that key; the other receivers take the global
        // block only when they have no http_config at all).
        if (auto h = c["http_config"];
            h && !h.IsNull() && (!h["proxy_url"] || h["proxy_url"].IsNull())) {
          mc.http.proxy_url = globals_.http.proxy_url;
        }
        r.msteamsv2.push_back(std::move(mc));
      } else {
        MSTeamsConfig mc;
        mc.send_resolved = send_resolved;
        mc.webhook_url = url;
        mc.webhook_url_file = url_file;
        mc.title = title;
        mc.summary = summary;
        mc.text = text;
        mc.http = http(c, p);
        r.msteams.push_back(std::move(mc));
      }
    });
  }

  // Amazon SNS: Alertmanager's SNSConfig (DefaultSNSConfig's subject and message).
  void sns_configs(const YAML::Node& s, const std::string& path, ReceiverConfig& r) {
    each(s, path, [&](const YAML::Node& c, const std::string& p) {
      check_keys(c, p,
                 {"send_resolved", "http_config", "api_url", "sigv4", "topic_arn", "phone_number",
                  "target_arn", "subject", "message", "attributes"});
      SnsConfig sc;
      sc.subject = R"({{ template "sns.default.subject" . }})";
      sc.message = R"({{ template "sns.default.message" . }})";
      opt_bool(c, "send_resolved", p, sc.send_resolved);
      for (auto [key, field] :
           {std::pair{"api_url", &sc.api_url}, {"topic_arn", &sc.topic_arn},
            {"phone_number", &sc.phone_number}, {"target_arn", &sc.target_arn},
            {"subject", &sc.subject}, {"message", &sc.message}}) {
        opt(c, key, p, *field);
      }
      if (auto a = c["attributes"]; a && !a.IsNull()) string_map(a, p + ".attributes", sc.attributes);
      if (auto v = c["sigv4"]; v && !v.IsNull()) {
        const std::string vp = p + ".sigv4";
        check_keys(v, vp, {"region", "access_key", "secret_key", "profile", "role_arn"});
        opt(v, "region", vp, sc.region);
        opt(v, "access_key", vp, sc.access_key);
        opt(v, "secret_key", vp, sc.secret_key);
        opt(v, "profile", vp, sc.profile);
        opt(v, "role_arn", vp, sc.role_arn);
      }
      sc.http = http(c, p);
      r.sns.push_back(std::move(sc));
    });
  }

  // WeChat: Alertmanager's WechatConfig (DefaultWechatConfig, global wechat_api_* defaults).
  void wechat_configs(const YAML::Node& s, const std::string& path, ReceiverConfig& r) {
    each(s, path, [&](const YAML::Node& c, const std::string& p) {
      check_keys(c, p,
                 {"send_resolved", "http_config", "api_secret", "corp_id", "message", "api_url",
                  "to_user", "to_party", "to_tag", "agent_id", "message_type"});
      WechatConfig wc;
      wc.message = R"({{ template "wechat.default.message" . }})";
      wc.to_user = R"({{ template "wechat.default.to_user" . }})";
      wc.to_party = R"({{ template "wechat.default.to_party" . }})";
      wc.to_tag = R"({{ template "wechat.default.to_tag" . }})";
      wc.agent_id = R"({{ template "wechat.default.agent_id" . }})";
      wc.api_url.clear();
      opt_bool(c, "send_resolved", p, wc.send_resolved);
      for (auto [key, field] :
           {std::pair{"api_secret", &wc.api_secret}, {"corp_id", &wc.corp_id},
            {"message", &wc.message}, {"api_url", &wc.api_url}, {"to_user", &wc.to_user},
            {"to_party", &wc.to_party}, {"to_tag", &wc.to_tag}, {"agent_id", &wc.agent_id},
            {"message_type", &wc.message_type}}) {
        opt(c, key, p, *field);
      }
      if (wc.api_url.empty()) {
        wc.api_url = globals_.wechat_api_url;
      } else {
        check_url(c, p, "api_url");
      }
      if (wc.api_secret.empty()) wc.api_secret = globals_.wechat_api_secret;
      if (wc.corp_id.empty()) wc.corp_id = globals_.wechat_api_corp_id;
      if (wc.api_secret.empty()) fail(c, p, "no global Wechat ApiSecret set");
      if (wc.corp_id.empty()) fail(c, p, "no global Wechat CorpID set");
      if (wc.message_type.empty()) wc.message_type = "text";
      if (wc.message_type != "text" && wc.message_type != "markdown") {
        fail(c["message_type"], p + ".message_type",
             "weChat message type \"" + wc.message_type +
                 "\" does not match valid options ^(text|markdown)$");
      }
      // Alertmanager appends "/" to the URL's path when missing.
      auto q = wc.api_url.find_first_of("?#");
      std::string head = wc.api_url.substr(0, q == std::string::npos ? wc.api_url.size() : q);
      if (!head.ends_with('/')) {
        wc.api_url = head + "/" + (q == std::string::npos ? "" : wc.api_url.substr(q));
      }
      wc.http = http(c, p);
      r.wechat.push_back(std::move(wc));
    });
  }

  RouteConfig route(const YAML::Node& n, const std::string& path) {
    check_keys(n, path,
               {"receiver", "matchers", "match", "match_re", "group_by", "group_wait",
                "group_interval", "repeat_interval", "continue", "routes",
                "mute_time_intervals", "active_time_intervals"});
    RouteConfig r;
    for (auto [key, field] : {std::pair{"mute_time_intervals", &r.mute_time_intervals},
                              {"active_time_intervals", &r.active_time_intervals}}) {
      if (auto t = n[key]; t && !t.IsNull()) {
        each(t, path + "." + key, [&](const YAML::Node& v, const std::string& vp) {
          field->push_back(str(v, vp));
        });
      }
    }
    r.where = loc(n);
    opt(n, "receiver", path, r.receiver);
    if (n["matchers"]) r.matchers = matchers(n["matchers"], path + ".matchers");
    if (n["match"]) legacy_match(n["match"], path + ".match", MatchOp::kEqual, r.matchers);
    if (n["match_re"]) legacy_match(n["match_re"], path + ".match_re", MatchOp::kRegex, r.matchers);
    if (auto g = n["group_by"]) {
      if (!g.IsSequence()) fail(g, path + ".group_by", "must be a list of label names");
      r.group_by_set = true;
      std::set<std::string> seen;
      for (size_t i = 0; i < g.size(); ++i) {
        auto p = path + ".group_by[" + std::to_string(i) + "]";
        auto name = str(g[i], p);
        if (name == "...") {
          if (g.size() != 1) fail(g[i], p, "'...' must be the only element of group_by");
          r.group_by_all = true;
          continue;
        }
        if (name.empty()) fail(g[i], p, "empty label name");
        if (!seen.insert(name).second) fail(g[i], p, "duplicate label \"" + name + "\"");
        r.group_by.push_back(name);
      }
    }
    if (n["group_wait"]) r.group_wait = duration(n["group_wait"], path + ".group_wait");
    if (n["group_interval"]) {
      r.group_interval = duration(n["group_interval"], path + ".group_interval");
      if (*r.group_interval <= 0) fail(n["group_interval"], path + ".group_interval", "must be > 0");
    }
    if (n["repeat_interval"]) {
      r.repeat_interval = duration(n["repeat_interval"], path + ".repeat_interval");
      if (*r.repeat_interval <= 0) {
        fail(n["repeat_interval"], path + ".repeat_interval", "must be > 0");
      }
    }
    opt_bool(n, "continue", path, r.continue_);
    if (auto rs = n["routes"]) {
      each(rs, path + ".routes", [&](const YAML::Node& c, const std::string& p) {
        r.routes.push_back(route(c, p));
      });
    }
    return r;
  }

  NotifyConfig load(const YAML::Node& root) {
    NotifyConfig cfg;
    if (!root.IsMap()) fail(root, "config", "must be a mapping");
    if (auto g = root["global"]; g && g.IsMap() && g["resolve_timeout"]) {
      cfg.resolve_timeout = duration(g["resolve_timeout"], "global.resolve_timeout");
    }
    load_globals(root["global"]);
    if (auto t = root["templates"]; t && !t.IsNull()) {
      each(t, "templates", [&](const YAML::Node& v, const std::string& vp) {
        cfg.templates.push_back(resolve(str(v, vp)));
        // template.FromGlobs: each glob's matches in lexical order (filepath.Glob); a glob
        // that matches nothing is not an error.
        auto globbed = Env::Default()->glob(cfg.templates.back());
        if (!globbed) fail(v, vp, "cannot expand the glob");
        std::vector<std::string> files = globbed ? std::move(*globbed) : std::vector<std::string>{};
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
          auto read = Env::Default()->read_file(f);
          if (!read) {
            fail(v, vp, "cannot read template file \"" + f + "\": " + read.error().message);
          }
          auto text = std::move(*read);
          if (auto bad = detail::check_template_defs(text); !bad) {
            fail(v, vp, "template file \"" + f + "\": " + bad.error().message);
          }
          cfg.template_defs += text;
        }
      });
    }
    for (const char* key : {"mute_time_intervals", "time_intervals"}) {
      if (auto t = root[key]; t && !t.IsNull()) {
        each(t, key, [&](const YAML::Node& v, const std::string& vp) {
          auto name = str(v["name"], vp + ".name");
          auto& list = cfg.time_intervals[name];
          if (auto tis = v["time_intervals"]; tis && !tis.IsNull()) {
            each(tis, vp + ".time_intervals", [&](const YAML::Node& ti, const std::string& tp) {
              list.push_back(time_interval(ti, tp));
            });
          }
        });
      }
    }
    auto r = root["route"];
    if (!r) fail(root, "route", "is required");
    cfg.route = route(r, "route");
    if (cfg.route.receiver.empty()) fail(r, "route.receiver", "is required on the root route");
    if (!cfg.route.matchers.empty()) fail(r, "route.matchers", "the root route must not have any");
    if (cfg.route.continue_) fail(r, "route.continue", "cannot be set on the root route");
    if (auto rs = root["receivers"]) {
      std::set<std::string> names;
      each(rs, "receivers", [&](const YAML::Node& c, const std::string& p) {
        auto rc = receiver(c, p);
        if (!names.insert(rc.name).second) {
          fail(c["name"], p + ".name", "duplicate receiver \"" + rc.name + "\"");
        }
        cfg.receivers.push_back(std::move(rc));
      });
    }
    if (auto ir = root["inhibit_rules"]) {
      each(ir, "inhibit_rules", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"source_matchers", "target_matchers", "equal", "source_match",
                    "source_match_re", "target_match", "target_match_re"});
        InhibitRule rule;
        rule.where = loc(c);
        if (c["source_matchers"]) {
          rule.source_matchers = matchers(c["source_matchers"], p + ".source_matchers");
        }
        if (c["target_matchers"]) {
          rule.target_matchers = matchers(c["target_matchers"], p + ".target_matchers");
        }
        if (c["source_match"]) {
          legacy_match(c["source_match"], p + ".source_match", MatchOp::kEqual,
                       rule.source_matchers);
        }
        if (c["source_match_re"]) {
          legacy_match(c["source_match_re"], p + ".source_match_re", MatchOp::kRegex,
                       rule.source_matchers);
        }
        if (c["target_match"]) {
          legacy_match(c["target_match"], p + ".target_match", MatchOp::kEqual,
                       rule.target_matchers);
        }
        if (c["target_match_re"]) {
          legacy_match(c["target_match_re"], p + ".target_match_re", MatchOp::kRegex,
                       rule.target_matchers);
        }
        if (auto e = c["equal"]) {
          if (!e.IsSequence()) fail(e, p + ".equal", "must be a list of label names");
          for (size_t i = 0; i < e.size(); ++i) {
            rule.equal.push_back(str(e[i], p + ".equal[" + std::to_string(i) + "]"));
          }
        }
        cfg.inhibit_rules.push_back(std::move(rule));
      });
    }
    return cfg;
  }

 private:
  std::string file_;
  std::string base_dir_;
  detail::AmMode mode_;
  Globals globals_;
};

Result<NotifyConfig> parse_with(std::string_view yaml, const std::string& file,
                                const std::string& base_dir, detail::AmMode mode) {
  Loader loader(file, base_dir, mode);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (auto dup = find_duplicate_key(root)) {
      return make_error("key \"" + dup->key + "\" already set in map",
                        SourceLocation{file, static_cast<uint32_t>(dup->line),
                                       static_cast<uint32_t>(dup->column)});
    }
    if (auto err = detail::validate_alertmanager(root, file, mode)) return std::unexpected(*err);
    return loader.load(root);
  } catch (const ConfigError& e) {
    return std::unexpected(e.err);
  } catch (const YAML::Exception& e) {
    SourceLocation l;
    l.file = file;
    if (e.mark.line >= 0) {
      l.line = static_cast<uint32_t>(e.mark.line + 1);
      l.col = static_cast<uint32_t>(e.mark.column + 1);
    }
    return make_error("invalid YAML: " + e.msg, l);
  }
}

Result<std::string> read_text(const std::string& path) {
  auto text = Env::Default()->read_file(path);
  if (!text) {
    return make_error("cannot read notification config \"" + path + "\": " + text.error().message);
  }
  return text;
}

}  // namespace

Result<NotifyConfig> parse_notify_config(std::string_view yaml, const std::string& file,
                                         const std::string& base_dir) {
  return parse_with(yaml, file, base_dir, detail::AmMode::kInline);
}

Result<NotifyConfig> load_notify_config(const std::string& path) {
  auto text = read_text(path);
  if (!text) return std::unexpected(text.error());
  return parse_notify_config(*text, path, std::filesystem::path(path).parent_path().string());
}

Result<NotifyConfig> parse_alertmanager_config(std::string_view yaml, const std::string& file,
                                               const std::string& base_dir) {
  auto c = parse_with(yaml, file, base_dir, detail::AmMode::kAlertmanagerFile);
  if (!c) return c;
  // Alertmanager's own default templates, read at run time from Debian's
  // prometheus-alertmanager package when installed (they are the very files Alertmanager 0.25
  // compiles in: email.default.html, opsgenie.*, telegram.*, ...). Without them ruleeval's
  // built-in equivalents of the non-HTML defaults are used, with Alertmanager's name.
  std::string am_defaults = R"({{ define "__alertmanager" }}Alertmanager{{ end }})";
  // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in ruleeval calls setenv while it runs
  const char* dir = std::getenv("RULEEVAL_ALERTMANAGER_TEMPLATES");
  std::string tdir = dir ? dir : "/usr/share/prometheus/alertmanager";
  for (const char* name : {"default.tmpl", "email.tmpl"}) {
    auto text = Env::Default()->read_file((std::filesystem::path(tdir) / name).string());
    if (!text) continue;
    if (auto bad = detail::check_template_defs(*text); !bad) {
      return make_error("Alertmanager's default template " + (std::filesystem::path(tdir) / name).string() +
                        " does not parse: " + bad.error().message);
    }
    am_defaults += *text;
    if (std::string_view(name) == "email.tmpl") c->email_default_html = true;
  }
  c->template_defs = am_defaults + c->template_defs;
  if (c->email_default_html) {
    for (auto& r : c->receivers) {
      for (auto& e : r.email) {
        if (e.html.empty()) e.html = R"({{ template "email.default.html" . }})";
        e.default_text = false;  // Alertmanager sends a text part only when `text` is set
      }
    }
  }
  return c;
}

Result<NotifyConfig> load_alertmanager_config(const std::string& path) {
  auto text = read_text(path);
  if (!text) return std::unexpected(text.error());
  return parse_alertmanager_config(*text, path,
                                   std::filesystem::path(path).parent_path().string());
}

Result<NotifyConfig> load_routes_file(const std::string& path) {
  auto text = read_text(path);
  if (!text) return std::unexpected(text.error());
  auto dir = std::filesystem::path(path).parent_path().string();
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception&) {
    return parse_alertmanager_config(*text, path, dir);  // reports the YAML error
  }
  static const std::set<std::string> kAm = {"global",    "route",          "receivers",
                                            "templates", "inhibit_rules",  "time_intervals",
                                            "mute_time_intervals"};
  bool alertmanager_file = root.IsMap();
  if (root.IsMap()) {
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (!it->first.IsScalar() || !kAm.count(it->first.Scalar())) alertmanager_file = false;
    }
  }
  if (alertmanager_file) return parse_alertmanager_config(*text, path, dir);
  if (root.IsMap() && root["alertmanager_config_file"] &&
      root["alertmanager_config_file"].IsScalar()) {
    std::filesystem::path p(root["alertmanager_config_file"].Scalar());
    if (p.is_relative()) p = std::filesystem::path(dir) / p;
    return load_alertmanager_config(p.string());
  }
  return parse_notify_config(*text, path, dir);
}

Result<NotifyConfig> notify_config_of(const rules::RunConfig& cfg) {
  if (!cfg.alertmanager_config_file.empty()) {
    return load_alertmanager_config(cfg.alertmanager_config_file);
  }
  return parse_notify_config(cfg.text, cfg.path, cfg.base_dir);
}

}  // namespace ruleeval::notifiers
