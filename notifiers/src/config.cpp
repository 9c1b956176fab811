#include "ruleeval/notifiers/config.hpp"

#include "ruleeval/common/yaml_duplicates.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

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

class Loader {
 public:
  Loader(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

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
    host = host.substr(0, host.find_first_of("/?#"));
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
      if (!ok) fail(it->first, path + "." + key, "unknown key");
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
    if (!d) fail(n, path, d.error());
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
  std::string read_secret(const YAML::Node& n, const std::string& path) {
    std::string p = str(n, path);
    std::filesystem::path fp(p);
    if (fp.is_relative() && !base_dir_.empty()) fp = std::filesystem::path(base_dir_) / fp;
    std::ifstream in(fp, std::ios::binary);
    if (!in) fail(n, path, "cannot read file \"" + fp.string() + "\"");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string v = ss.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }
  // `key` or `key_file` (not both).
  void secret(const YAML::Node& parent, const std::string& path, const std::string& key,
              std::string& out) {
    auto a = parent[key];
    auto b = parent[key + "_file"];
    if (a && b) fail(b, path + "." + key + "_file", "cannot be combined with " + key);
    if (a) out = str(a, path + "." + key);
    if (b) out = read_secret(b, path + "." + key + "_file");
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

  HttpSettings http(const YAML::Node& parent, const std::string& path) {
    HttpSettings h;
    auto n = parent["http_config"];
    if (!n) return h;
    auto p = path + ".http_config";
    check_keys(n, p, {"authorization", "basic_auth", "bearer_token", "bearer_token_file",
                      "tls_config", "timeout", "follow_redirects"});
    secret(n, p, "bearer_token", h.bearer_token);
    if (auto a = n["authorization"]) {
      check_keys(a, p + ".authorization", {"type", "credentials", "credentials_file"});
      if (a["type"] && str(a["type"], p + ".authorization.type") != "Bearer") {
        fail(a["type"], p + ".authorization.type", "only Bearer is supported");
      }
      secret(a, p + ".authorization", "credentials", h.bearer_token);
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
      secret(b, p + ".basic_auth", "password", h.basic_password);
    }
    if (auto t = n["tls_config"]) {
      check_keys(t, p + ".tls_config", {"insecure_skip_verify"});
      if (t["insecure_skip_verify"]) {
        h.insecure_skip_verify =
            boolean(t["insecure_skip_verify"], p + ".tls_config.insecure_skip_verify");
      }
    }
    if (n["timeout"]) h.timeout_ms = duration(n["timeout"], p + ".timeout");
    return h;
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
      out[k] = str(it->second, path + "." + k);
    }
  }

  ReceiverConfig receiver(const YAML::Node& n, const std::string& path) {
    check_keys(n, path,
               {"name", "slack_configs", "pagerduty_configs", "email_configs", "webhook_configs",
                "alertmanager_configs", "file_configs"});
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
                    "fallback", "color", "footer", "callback_id", "link_names", "http_config"});
        SlackConfig sc;
        opt_bool(c, "send_resolved", p, sc.send_resolved);
        secret(c, p, "api_url", sc.api_url);
        if (sc.api_url.empty()) fail(c, p + ".api_url", "is required (or api_url_file)");
        check_url(c, p, "api_url");
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
        r.slack.push_back(std::move(sc));
      });
    }
    if (auto s = n["pagerduty_configs"]) {
      each(s, path + ".pagerduty_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "routing_key", "routing_key_file", "url", "client",
                    "client_url", "description", "severity", "source", "class", "component",
                    "group", "details", "http_config"});
        PagerDutyConfig pc;
        opt_bool(c, "send_resolved", p, pc.send_resolved);
        secret(c, p, "routing_key", pc.routing_key);
        if (pc.routing_key.empty()) fail(c, p + ".routing_key", "is required (or routing_key_file)");
        for (auto [key, field] :
             {std::pair{"url", &pc.url}, {"client", &pc.client}, {"client_url", &pc.client_url},
              {"description", &pc.description}, {"severity", &pc.severity},
              {"source", &pc.source}, {"class", &pc.class_}, {"component", &pc.component},
              {"group", &pc.group}}) {
          opt(c, key, p, *field);
        }
        if (c["details"]) string_map(c["details"], p + ".details", pc.details);
        check_url(c, p, "url");
        pc.http = http(c, p);
        r.pagerduty.push_back(std::move(pc));
      });
    }
    if (auto s = n["email_configs"]) {
      each(s, path + ".email_configs", [&](const YAML::Node& c, const std::string& p) {
        check_keys(c, p,
                   {"send_resolved", "to", "from", "smarthost", "hello", "auth_username",
                    "auth_password", "auth_password_file", "auth_identity", "require_tls",
                    "force_implicit_tls", "tls_config", "html", "text", "headers", "timeout"});
        EmailConfig ec;
        opt_bool(c, "send_resolved", p, ec.send_resolved);
        for (auto [key, field] :
             {std::pair{"to", &ec.to}, {"from", &ec.from}, {"smarthost", &ec.smarthost},
              {"hello", &ec.hello}, {"auth_username", &ec.auth_username},
              {"auth_identity", &ec.auth_identity}, {"html", &ec.html}, {"text", &ec.text}}) {
          opt(c, key, p, *field);
        }
        secret(c, p, "auth_password", ec.auth_password);
        opt_bool(c, "require_tls", p, ec.require_tls);
        opt_bool(c, "force_implicit_tls", p, ec.force_implicit_tls);
        if (auto t = c["tls_config"]) {
          check_keys(t, p + ".tls_config", {"insecure_skip_verify"});
          opt_bool(t, "insecure_skip_verify", p + ".tls_config", ec.insecure_skip_verify);
        }
        if (c["headers"]) string_map(c["headers"], p + ".headers", ec.headers);
        if (c["timeout"]) ec.timeout_ms = duration(c["timeout"], p + ".timeout");
        if (ec.to.empty()) fail(c, p + ".to", "is required");
        if (ec.from.empty()) fail(c, p + ".from", "is required");
        if (ec.smarthost.empty()) fail(c, p + ".smarthost", "is required");
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
        secret(c, p, "url", wc.url);
        if (wc.url.empty()) fail(c, p + ".url", "is required (or url_file)");
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
        secret(c, p, "url", ac.url);
        if (ac.url.empty()) fail(c, p + ".url", "is required (or url_file)");
        check_url(c, p, "url");
        while (!ac.url.empty() && ac.url.back() == '/') ac.url.pop_back();
        ac.http = http(c, p);
        r.alertmanager.push_back(std::move(ac));
      });
    }
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
    return r;
  }

  RouteConfig route(const YAML::Node& n, const std::string& path) {
    check_keys(n, path,
               {"receiver", "matchers", "match", "match_re", "group_by", "group_wait",
                "group_interval", "repeat_interval", "continue", "routes"});
    RouteConfig r;
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
};

}  // namespace

Result<NotifyConfig> parse_notify_config(std::string_view yaml, const std::string& file,
                                         const std::string& base_dir) {
  Loader loader(file, base_dir);
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (auto dup = find_duplicate_key(root)) {
      return make_error("key \"" + dup->key + "\" already set in map",
                        SourceLocation{file, static_cast<uint32_t>(dup->line),
                                       static_cast<uint32_t>(dup->column)});
    }
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

Result<NotifyConfig> load_notify_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot read notification config \"" + path + "\"");
  std::stringstream ss;
  ss << in.rdbuf();
  auto dir = std::filesystem::path(path).parent_path().string();
  return parse_notify_config(ss.str(), path, dir);
}

}  // namespace ruleeval::notifiers
