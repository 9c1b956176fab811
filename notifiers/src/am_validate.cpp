// Alertmanager 0.25's configuration checks (config/config.go, config/notifiers.go,
// timeinterval/timeinterval.go and prometheus/common v0.38's HTTPClientConfig), re-expressed over
// yaml-cpp nodes. Messages carry Alertmanager's wording after a "path: " prefix so that the
// differential test can compare the problem named by `amtool check-config` with ours.
// Also the Microsoft Teams receivers of later versions (msteams 0.26+, msteamsv2 0.28+).
#include "am_validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <regex>
#include <set>
#include <string_view>
#include <vector>

#include "ruleeval/common/env.hpp"
#include "ruleeval/notifiers/matcher.hpp"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::notifiers::detail {

bool am_valid_label_name(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

namespace {

struct Fail {
  Error err;
};

using Keys = std::initializer_list<std::string_view>;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Go's textproto.CanonicalMIMEHeaderKey for ASCII header names.
std::string canonical_header(std::string s) {
  bool upper = true;
  for (auto& c : s) {
    if (c == ' ') return s;  // invalid names are left alone, as Go does
  }
  for (auto& c : s) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c))
                                : std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return s;
}

class Validator {
 public:
  Validator(std::string file, AmMode mode) : file_(std::move(file)), mode_(mode) {}

  void run(const YAML::Node& root) {
    if (!root || root.IsNull()) fail(root, "config", "no route provided in config");
    if (!root.IsMap()) type_error(root, "config", "config.plain");
    if (mode_ == AmMode::kAlertmanagerFile) {
      keys(root, "config", {"global", "route", "inhibit_rules", "receivers", "templates",
                            "mute_time_intervals", "time_intervals"});
    }
    // Decoding order of Alertmanager's Config struct fields does not matter for single faults;
    // document order is followed inside each block.
    global(root["global"]);
    if (auto r = root["route"]; present(r)) route(r, "route");
    if (auto ir = root["inhibit_rules"]; present(ir)) {
      seq(ir, "inhibit_rules", [&](const YAML::Node& n, const std::string& p) { inhibit(n, p); });
    }
    std::vector<YAML::Node> receivers;
    if (auto rs = root["receivers"]; present(rs)) {
      seq(rs, "receivers", [&](const YAML::Node& n, const std::string& p) {
        receiver(n, p);
        receivers.push_back(n);
      });
    }
    if (auto t = root["templates"]; present(t)) strings(t, "templates");
    std::vector<std::pair<std::string, YAML::Node>> intervals;
    for (const char* key : {"mute_time_intervals", "time_intervals"}) {
      if (auto ti = root[key]; present(ti)) {
        seq(ti, key, [&](const YAML::Node& n, const std::string& p) {
          named_interval(n, p, std::string_view(key) == "mute_time_intervals");
        });
      }
    }
    config_checks(root, receivers);
    auto r = root["route"];
    if (r.IsMap() && present(r["continue"]) && boolean(r["continue"], "route.continue")) {
      fail(r["continue"], "route.continue", "cannot have continue in root route");
    }
  }

 private:
  // ---- helpers -------------------------------------------------------------------------------
  SourceLocation loc(const YAML::Node& n) const {
    SourceLocation l;
    l.file = file_;
    if (n) {
      auto m = n.Mark();
      if (m.line >= 0) {
        l.line = static_cast<uint32_t>(m.line + 1);
        l.col = static_cast<uint32_t>(m.column + 1);
      }
    }
    return l;
  }
  [[noreturn]] void fail(const YAML::Node& n, const std::string& path, const std::string& msg) {
    throw Fail{Error(path + ": " + msg, loc(n))};
  }
  // The tag gopkg.in/yaml.v2 (Alertmanager's YAML decoder) resolves a node to: a quoted scalar
  // is a string; a plain one is null, bool (yes/no/on/off too, YAML 1.1), int (Go's base prefixes
  // and `_` separators, 0b binary), float, or else a string (resolve.go).
  static std::string tag_of(const YAML::Node& n) {
    if (n.IsSequence()) return "!!seq";
    if (n.IsMap()) return "!!map";
    if (n.Tag() != "?") return "!!str";  // quoted (yaml-cpp tags those "!") or explicitly tagged
    const std::string& v = n.Scalar();
    static const std::set<std::string> kNull{"", "~", "null", "Null", "NULL"};
    static const std::set<std::string> kBool{
        "y",    "Y",    "yes",  "Yes",  "YES",   "true",  "True",  "TRUE", "on",  "On", "ON",
        "n",    "N",    "no",   "No",   "NO",    "false", "False", "FALSE", "off", "Off", "OFF"};
    static const std::set<std::string> kSpecialFloat{
        ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
        ".nan", ".NaN", ".NAN"};
    if (kNull.count(v) != 0) return "!!null";
    if (kBool.count(v) != 0) return "!!bool";
    if (kSpecialFloat.count(v) != 0) return "!!float";
    std::string plain;
    for (char c : v) {
      if (c != '_') plain += c;
    }
    std::string_view digits = plain;
    const bool negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
    int base = 10;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      base = 16;
      digits.remove_prefix(2);
    } else if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'b' || digits[1] == 'B')) {
      base = 2;
      digits.remove_prefix(2);
    } else if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O')) {
      base = 8;
      digits.remove_prefix(2);
    } else if (digits.size() > 1 && digits[0] == '0') {
      base = 8;  // Go's ParseInt(s, 0, 64): a leading 0 is octal
      digits.remove_prefix(1);
    }
    auto is_digit = [base](char c) {
      if (base == 16) return std::isxdigit(static_cast<unsigned char>(c)) != 0;
      return c >= '0' && c < static_cast<char>('0' + base);
    };
    if (!digits.empty() && std::all_of(digits.begin(), digits.end(), is_digit)) {
      // In range of int64, or of uint64 when not negative (Go's ParseInt, then ParseUint).
      uint64_t magnitude = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
      if (ec == std::errc() && end == digits.data() + digits.size() &&
          (!negative || magnitude <= uint64_t{1} << 63)) {
        return "!!int";
      }
    }
    // yaml.v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    static const std::regex kFloat(R"(^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$)");
    if (std::regex_match(plain, kFloat)) return "!!float";
    return "!!str";
  }
  // `!!tag `value`` as yaml.v2's type errors show a scalar: values over 10 bytes cut to 7 and
  // "..." (decode.go, terror); sequences and mappings have no value.
  static std::string shown(const YAML::Node& n) {
    std::string what = tag_of(n);
    if (n.IsScalar()) {
      const std::string& v = n.Scalar();
      what += " `" + (v.size() > 10 ? v.substr(0, 7) + "..." : v) + "`";
    }
    return what;
  }
  [[noreturn]] void type_error(const YAML::Node& n, const std::string& path,
                               const std::string& go_type) {
    fail(n, path, "cannot unmarshal " + shown(n) + " into " + go_type);
  }
  static bool present(const YAML::Node& n) { return n && !n.IsNull(); }

  void keys(const YAML::Node& n, const std::string& path, Keys known, Keys extra = {}) {
    if (!n.IsMap()) type_error(n, path, "config.plain");
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) fail(it->first, path, "keys must be strings");
      const std::string& k = it->first.Scalar();
      if (!seen.insert(k).second) {
        fail(it->first, fmt::format("{}.{}", path, k),
             fmt::format("mapping key \"{}\" already defined", k));
      }
      bool ok = std::find(known.begin(), known.end(), k) != known.end();
      if (!ok && mode_ == AmMode::kInline) {
        ok = std::find(extra.begin(), extra.end(), k) != extra.end();
      }
      if (!ok) {
        fail(it->first, fmt::format("{}.{}", path, k),
             fmt::format("field {} not found in type config.plain", k));
      }
    }
  }
  std::string str(const YAML::Node& n, const std::string& path) {
    if (!present(n)) return {};
    if (!n.IsScalar()) type_error(n, path, "string");
    return n.Scalar();
  }
  bool boolean(const YAML::Node& n, const std::string& path) {
    if (!present(n)) return false;
    bool b = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) type_error(n, path, "bool");
    return b;
  }
  int64_t integer(const YAML::Node& n, const std::string& path, const char* go_type, bool sign) {
    if (!present(n)) return 0;
    if (!n.IsScalar()) type_error(n, path, go_type);
    const std::string& s = n.Scalar();
    try {
      size_t used = 0;
      long long v = std::stoll(s, &used, 0);
      if (used == s.size() && (sign || v >= 0)) return v;
    } catch (...) {
    }
    type_error(n, path, go_type);
  }
  int64_t duration(const YAML::Node& n, const std::string& path) {
    std::string s = str(n, path);
    auto d = parse_duration(s);
    if (!d) {
      if (s.empty()) fail(n, path, "empty duration string");
      fail(n, path, "not a valid duration string: \"" + s + "\"");
    }
    return *d;
  }
  // Go's time.ParseDuration (pushover retry/expire): units ns us µs ms s m h, decimals allowed.
  void go_duration(const YAML::Node& n, const std::string& path) {
    std::string s = str(n, path);
    std::string_view v = s;
    if (!v.empty() && (v[0] == '+' || v[0] == '-')) v.remove_prefix(1);
    bool ok = !v.empty();
    if (v == "0") v = {};
    while (ok && !v.empty()) {
      size_t i = 0;
      bool digits = false;
      while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) {
        digits = true;
        ++i;
      }
      if (!digits) {
        ok = false;
        break;
      }
      v.remove_prefix(i);
      bool unit = false;
      for (std::string_view u : {"ns", "us", "\xC2\xB5s", "ms", "s", "m", "h"}) {
        if (v.substr(0, u.size()) == u && !(u == "m" && v.substr(0, 2) == "ms")) {
          v.remove_prefix(u.size());
          unit = true;
          break;
        }
      }
      if (!unit) ok = false;
    }
    if (!ok) fail(n, path, "time: invalid duration \"" + s + "\"");
  }
  std::vector<std::string> strings(const YAML::Node& n, const std::string& path) {
    std::vector<std::string> out;
    if (!present(n)) return out;
    if (!n.IsSequence()) type_error(n, path, "[]string");
    for (size_t i = 0; i < n.size(); ++i) {
      out.push_back(str(n[i], path + "[" + std::to_string(i) + "]"));
    }
    return out;
  }
  std::map<std::string, std::string> string_map(const YAML::Node& n, const std::string& path) {
    std::map<std::string, std::string> out;
    if (!present(n)) return out;
    if (!n.IsMap()) type_error(n, path, "map[string]string");
    for (auto it = n.begin(); it != n.end(); ++it) {
      auto k = str(it->first, path);
      out[k] = str(it->second, fmt::format("{}.{}", path, k));
    }
    return out;
  }
  template <class F>
  void seq(const YAML::Node& n, const std::string& path, F&& f) {
    if (!present(n)) return;
    if (!n.IsSequence()) type_error(n, path, "[]config.plain");
    for (size_t i = 0; i < n.size(); ++i) f(n[i], path + "[" + std::to_string(i) + "]");
  }
  // Alertmanager's URL: url.Parse, then scheme http/https and a host.
  void url(const YAML::Node& n, const std::string& path, bool secret = false) {
    if (!present(n)) return;
    std::string s = str(n, path);
    if (secret && s == "<secret>") return;
    std::string scheme, rest;
    auto colon = s.find(':');
    bool has_scheme = colon != std::string::npos && colon > 0 &&
                      std::isalpha(static_cast<unsigned char>(s[0]));
    if (has_scheme) {
      for (size_t i = 0; i < colon; ++i) {
        char c = s[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
          has_scheme = false;
        }
      }
    }
    if (has_scheme) {
      scheme = lower(s.substr(0, colon));
      rest = s.substr(colon + 1);
    } else {
      rest = s;
    }
    if (scheme != "http" && scheme != "https") {
      fail(n, path, "unsupported scheme \"" + scheme + "\" for URL");
    }
    std::string host;
    if (rest.rfind("//", 0) == 0) {
      host = rest.substr(2, rest.find_first_of("/?#", 2) - 2);
      if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    }
    if (host.empty()) fail(n, path, "missing host for URL");
  }
  // Alertmanager's HostPort: net.SplitHostPort, port required.
  void host_port(const YAML::Node& n, const std::string& path) {
    std::string s = str(n, path);
    if (s.empty()) return;
    auto err = [&](const std::string& why) { fail(n, path, "address " + s + ": " + why); };
    std::string port;
    if (s[0] == '[') {
      auto end = s.find(']');
      if (end == std::string::npos) err("missing ']' in address");
      if (end + 1 == s.size()) err("missing port in address");
      if (s[end + 1] != ':') err("missing port in address");
      port = s.substr(end + 2);
    } else {
      auto c = s.rfind(':');
      if (c == std::string::npos) err("missing port in address");
      if (s.find(':') != c) err("too many colons in address");
      port = s.substr(c + 1);
    }
    if (port.empty()) fail(n, path, "address \"" + s + "\": port cannot be empty");
  }
  void matchers(const YAML::Node& n, const std::string& path) {
    auto lines = strings(n, path);
    for (size_t i = 0; i < lines.size(); ++i) {
      auto m = parse_matchers(lines[i]);
      if (!m) {
        const auto& msg = m.error().message;
        fail(n[i], path + "[" + std::to_string(i) + "]",
             msg.find("invalid regular expression") != std::string::npos
                 ? "error parsing regexp: " + msg
                 : msg);
      }
    }
  }
  void match_map(const YAML::Node& n, const std::string& path, bool regex) {
    for (auto& [k, v] : string_map(n, path)) {
      if (!am_valid_label_name(k)) fail(n, path, "invalid label name \"" + k + "\"");
      if (regex) {
        auto m = Matcher::make(k, MatchOp::kRegex, v);
        if (!m) {
          fail(n[k], fmt::format("{}.{}", path, k),
               fmt::format("error parsing regexp: {}", m.error().message));
        }
      }
    }
  }
  // `key` and `key_file` are mutually exclusive; returns whether either is set.
  bool secret_pair(const YAML::Node& n, const std::string& path, const std::string& key,
                   const std::string& msg = {}) {
    std::string a = str(n[key], path + "." + key);
    std::string b = str(n[key + "_file"], path + "." + key + "_file");
    if (!a.empty() && !b.empty()) {
      fail(n[key + "_file"], path,
           msg.empty() ? "at most one of " + key + " & " + key + "_file must be configured"
                       : msg);
    }
    return !a.empty() || !b.empty();
  }

  // ---- prometheus/common v0.38 HTTPClientConfig --------------------------------------------
  void tls(const YAML::Node& n, const std::string& path) {
    if (!present(n)) return;
    keys(n, path,
         {"ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify",
          "min_version"});
    for (auto k : {"ca_file", "cert_file", "key_file", "server_name"}) {
      str(n[k], path + "." + k);
    }
    boolean(n["insecure_skip_verify"], path + ".insecure_skip_verify");
    if (present(n["min_version"])) {
      auto v = str(n["min_version"], path + ".min_version");
      if (v != "TLS10" && v != "TLS11" && v != "TLS12" && v != "TLS13") {
        fail(n["min_version"], path + ".min_version", "unknown TLS version: " + v);
      }
    }
  }
  void http_config(const YAML::Node& n, const std::string& path) {
    if (!present(n)) return;
    keys(n, path,
         {"basic_auth", "authorization", "oauth2", "bearer_token", "bearer_token_file",
          "proxy_url", "tls_config", "follow_redirects", "enable_http2",
          // proxy_connect_header: prometheus/common v0.39+, which Debian's amtool 0.25 has;
          // no_proxy, proxy_from_environment: v0.44+ (Alertmanager 0.26+), which it has not.
          "proxy_connect_header", "no_proxy", "proxy_from_environment"},
         {"timeout"});
    auto ba = n["basic_auth"];
    if (present(ba)) {
      keys(ba, path + ".basic_auth", {"username", "password", "password_file"});
      str(ba["username"], path + ".basic_auth.username");
    }
    auto au = n["authorization"];
    if (present(au)) {
      keys(au, path + ".authorization", {"type", "credentials", "credentials_file"});
      str(au["type"], path + ".authorization.type");
      str(au["credentials"], path + ".authorization.credentials");
      str(au["credentials_file"], path + ".authorization.credentials_file");
    }
    auto oa = n["oauth2"];
    if (present(oa)) {
      // no_proxy, proxy_from_environment, proxy_connect_header: OAuth2's inline ProxyConfig of
      // prometheus/common v0.42+ (Alertmanager 0.26+); Debian's amtool 0.25 has proxy_url only.
      keys(oa, path + ".oauth2",
           {"client_id", "client_secret", "client_secret_file", "scopes", "token_url",
            "endpoint_params", "tls_config", "proxy_url", "no_proxy", "proxy_from_environment",
            "proxy_connect_header"});
      for (auto k : {"client_id", "client_secret", "client_secret_file", "token_url"}) {
        str(oa[k], path + ".oauth2." + k);
      }
      strings(oa["scopes"], path + ".oauth2.scopes");
      string_map(oa["endpoint_params"], path + ".oauth2.endpoint_params");
      tls(oa["tls_config"], path + ".oauth2.tls_config");
      if (present(oa["proxy_url"])) url_any(oa["proxy_url"], path + ".oauth2.proxy_url");
      // OAuth2.UnmarshalYAML runs ProxyConfig.Validate with v0.44+'s wording.
      proxy_config(oa, path + ".oauth2", /*amtool_025_wording=*/false);
    }
    std::string bt = str(n["bearer_token"], path + ".bearer_token");
    std::string btf = str(n["bearer_token_file"], path + ".bearer_token_file");
    if (present(n["proxy_url"])) url_any(n["proxy_url"], path + ".proxy_url");
    tls(n["tls_config"], path + ".tls_config");
    boolean(n["follow_redirects"], path + ".follow_redirects");
    boolean(n["enable_http2"], path + ".enable_http2");
    if (present(n["timeout"])) duration(n["timeout"], path + ".timeout");
    const size_t connect_headers = proxy_types(n, path);
    // HTTPClientConfig.Validate
    if (!bt.empty() && !btf.empty()) {
      fail(n, path, "at most one of bearer_token & bearer_token_file must be configured");
    }
    if ((present(ba) || present(oa)) && (!bt.empty() || !btf.empty())) {
      fail(n, path,
           "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be "
           "configured");
    }
    if (present(ba) && !str(ba["password"], path).empty() &&
        !str(ba["password_file"], path).empty()) {
      fail(ba, path + ".basic_auth",
           "at most one of basic_auth password & password_file must be configured");
    }
    if (present(au)) {
      if (!bt.empty() || !btf.empty()) {
        fail(au, path, "authorization is not compatible with bearer_token & bearer_token_file");
      }
      if (!str(au["credentials"], path).empty() && !str(au["credentials_file"], path).empty()) {
        fail(au, path + ".authorization",
             "at most one of authorization credentials & credentials_file must be configured");
      }
      std::string type = str(au["type"], path);
      while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) {
        type.pop_back();
      }
      while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front()))) {
        type.erase(0, 1);
      }
      if (lower(type) == "basic") {
        fail(au["type"], path + ".authorization",
             "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
      }
      if (present(ba) || present(oa)) {
        fail(au, path, "at most one of basic_auth, oauth2 & authorization must be configured");
      }
    }
    if (present(oa)) {
      if (present(ba)) {
        fail(oa, path, "at most one of basic_auth, oauth2 & authorization must be configured");
      }
      if (str(oa["client_id"], path).empty()) {
        fail(oa, path + ".oauth2", "oauth2 client_id must be configured");
      }
      bool cs = !str(oa["client_secret"], path).empty();
      bool csf = !str(oa["client_secret_file"], path).empty();
      if (!cs && !csf) {
        fail(oa, path + ".oauth2",
             "either oauth2 client_secret or client_secret_file must be configured");
      }
      if (str(oa["token_url"], path).empty()) {
        fail(oa, path + ".oauth2", "oauth2 token_url must be configured");
      }
      if (cs && csf) {
        fail(oa, path + ".oauth2",
             "at most one of oauth2 client_secret & client_secret_file must be configured");
      }
    }
    proxy_validate(n, path, connect_headers, /*amtool_025_wording=*/true);
  }
  // prometheus/common's ProxyConfig (proxy_url is checked by the caller): its keys' types and
  // ProxyConfig.Validate. Debian's Alertmanager 0.25 (prometheus/common v0.39-0.41) knows
  // proxy_connect_header but not proxy_from_environment, and words the first check without it.
  void proxy_config(const YAML::Node& n, const std::string& path, bool amtool_025_wording) {
    proxy_validate(n, path, proxy_types(n, path), amtool_025_wording);
  }
  // The types of no_proxy, proxy_from_environment and proxy_connect_header (decoding errors come
  // before any Validate); returns the number of proxy_connect_header entries.
  size_t proxy_types(const YAML::Node& n, const std::string& path) {
    str(n["no_proxy"], path + ".no_proxy");
    boolean(n["proxy_from_environment"], path + ".proxy_from_environment");
    size_t connect_headers = 0;
    if (auto ph = n["proxy_connect_header"]; present(ph)) {
      if (!ph.IsMap()) type_error(ph, path + ".proxy_connect_header", "config.Header");
      for (auto it = ph.begin(); it != ph.end(); ++it) {
        const std::string hp = path + ".proxy_connect_header." + str(it->first, path);
        if (present(it->second) && !it->second.IsSequence()) {
          type_error(it->second, hp, "[]config.Secret");
        }
        strings(it->second, hp);
        ++connect_headers;
      }
    }
    return connect_headers;
  }
  // ProxyConfig.Validate (prometheus/common v0.44+).
  void proxy_validate(const YAML::Node& n, const std::string& path, size_t connect_headers,
                      bool amtool_025_wording) {
    const std::string no_proxy = str(n["no_proxy"], path + ".no_proxy");
    const bool from_env = boolean(n["proxy_from_environment"], path + ".proxy_from_environment");
    const bool has_proxy_url = !str(n["proxy_url"], path).empty();
    if (connect_headers > 0 && !from_env && !has_proxy_url) {
      // Debian's Alertmanager 0.25 is built with prometheus/common v0.39-0.41, which has
      // proxy_connect_header but not proxy_from_environment: its wording unless the config uses
      // the later key.
      fail(n["proxy_connect_header"], path,
           !amtool_025_wording || present(n["proxy_from_environment"])
               ? "if proxy_connect_header is configured, proxy_url or proxy_from_environment "
                 "must also be configured"
               : "if proxy_connect_header is configured proxy_url must also be configured");
    }
    if (from_env && has_proxy_url) {
      fail(n["proxy_from_environment"], path,
           "if proxy_from_environment is configured, proxy_url must not be configured");
    }
    if (from_env && !no_proxy.empty()) {
      fail(n["proxy_from_environment"], path,
           "if proxy_from_environment is configured, no_proxy must not be configured");
    }
    if (!has_proxy_url && !no_proxy.empty()) {
      fail(n["no_proxy"], path, "if no_proxy is configured, proxy_url must also be configured");
    }
  }
  // prometheus/common's URL (proxy_url): any parseable URL.
  void url_any(const YAML::Node& n, const std::string& path) { str(n, path); }

  // ---- global ------------------------------------------------------------------------------
  void global(const YAML::Node& g) {
    if (!present(g)) return;
    const std::string p = "global";
    if (mode_ == AmMode::kAlertmanagerFile) {
      keys(g, p, {"resolve_timeout", "http_config", "smtp_from", "smtp_hello", "smtp_smarthost",
                  "smtp_auth_username", "smtp_auth_password", "smtp_auth_password_file",
                  "smtp_auth_secret", "smtp_auth_identity", "smtp_require_tls", "slack_api_url",
                  "slack_api_url_file", "pagerduty_url", "opsgenie_api_url", "opsgenie_api_key",
                  "opsgenie_api_key_file", "wechat_api_url", "wechat_api_secret",
                  "wechat_api_corp_id", "victorops_api_url", "victorops_api_key",
                  "victorops_api_key_file", "telegram_api_url", "webex_api_url"});
    } else if (!g.IsMap()) {
      type_error(g, p, "config.plain");
    }
    if (present(g["resolve_timeout"])) duration(g["resolve_timeout"], p + ".resolve_timeout");
    http_config(g["http_config"], p + ".http_config");
    for (auto k : {"smtp_from", "smtp_hello", "smtp_auth_username", "smtp_auth_password",
                   "smtp_auth_password_file", "smtp_auth_secret", "smtp_auth_identity",
                   "slack_api_url_file", "opsgenie_api_key", "opsgenie_api_key_file",
                   "wechat_api_secret", "wechat_api_corp_id", "victorops_api_key",
                   "victorops_api_key_file"}) {
      str(g[k], p + "." + k);
    }
    host_port(g["smtp_smarthost"], p + ".smtp_smarthost");
    boolean(g["smtp_require_tls"], p + ".smtp_require_tls");
    url(g["slack_api_url"], p + ".slack_api_url", true);
    for (auto k : {"pagerduty_url", "opsgenie_api_url", "wechat_api_url", "victorops_api_url",
                   "telegram_api_url", "webex_api_url"}) {
      url(g[k], p + "." + k);
    }
  }

  // ---- route / inhibit_rules --------------------------------------------------------------
  void route(const YAML::Node& n, const std::string& path) {
    keys(n, path, {"receiver", "group_by", "match", "match_re", "matchers", "mute_time_intervals",
                   "active_time_intervals", "continue", "routes", "group_wait", "group_interval",
                   "repeat_interval"});
    str(n["receiver"], path + ".receiver");
    auto group_by = strings(n["group_by"], path + ".group_by");
    match_map(n["match"], path + ".match", false);
    match_map(n["match_re"], path + ".match_re", true);
    matchers(n["matchers"], path + ".matchers");
    strings(n["mute_time_intervals"], path + ".mute_time_intervals");
    strings(n["active_time_intervals"], path + ".active_time_intervals");
    boolean(n["continue"], path + ".continue");
    seq(n["routes"], path + ".routes",
        [&](const YAML::Node& c, const std::string& p) { route(c, p); });
    std::optional<int64_t> gi, ri;
    if (present(n["group_wait"])) duration(n["group_wait"], path + ".group_wait");
    if (present(n["group_interval"])) gi = duration(n["group_interval"], path + ".group_interval");
    if (present(n["repeat_interval"])) {
      ri = duration(n["repeat_interval"], path + ".repeat_interval");
    }
    // Route.UnmarshalYAML
    bool all = false;
    std::vector<std::string> names;
    for (auto& l : group_by) {
      if (l == "...") {
        all = true;
      } else {
        if (!am_valid_label_name(l)) {
          fail(n["group_by"], path + ".group_by",
               "invalid label name \"" + l + "\" in group_by list");
        }
        names.push_back(l);
      }
    }
    if (all && !names.empty()) {
      fail(n["group_by"], path + ".group_by",
           "cannot have wildcard group_by (`...`) and other other labels at the same time");
    }
    std::set<std::string> seen;
    for (auto& l : names) {
      if (!seen.insert(l).second) {
        fail(n["group_by"], path + ".group_by", "duplicated label \"" + l + "\" in group_by");
      }
    }
    if (gi && *gi == 0) fail(n["group_interval"], path, "group_interval cannot be zero");
    if (ri && *ri == 0) fail(n["repeat_interval"], path, "repeat_interval cannot be zero");
  }

  void inhibit(const YAML::Node& n, const std::string& path) {
    keys(n, path, {"source_match", "source_match_re", "source_matchers", "target_match",
                   "target_match_re", "target_matchers", "equal"});
    match_map(n["source_match"], path + ".source_match", false);
    match_map(n["source_match_re"], path + ".source_match_re", true);
    matchers(n["source_matchers"], path + ".source_matchers");
    match_map(n["target_match"], path + ".target_match", false);
    match_map(n["target_match_re"], path + ".target_match_re", true);
    matchers(n["target_matchers"], path + ".target_matchers");
    for (auto& l : strings(n["equal"], path + ".equal")) {
      if (!am_valid_label_name(l)) fail(n["equal"], path + ".equal", "\"" + l + "\" is not a valid label name");
    }
  }

  // ---- receivers ---------------------------------------------------------------------------
  void receiver(const YAML::Node& n, const std::string& path) {
    keys(n, path,
         {"name", "discord_configs", "email_configs", "pagerduty_configs", "slack_configs",
          "webhook_configs", "opsgenie_configs", "wechat_configs", "pushover_configs",
          "victorops_configs", "sns_configs", "telegram_configs", "webex_configs",
          "msteams_configs", "msteamsv2_configs"},
         {"alertmanager_configs", "file_configs"});
    str(n["name"], path + ".name");
    auto each = [&](const char* key, auto fn) {
      seq(n[key], path + "." + key, [&](const YAML::Node& c, const std::string& p) { fn(c, p); });
    };
    each("discord_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p, {"send_resolved", "http_config", "webhook_url", "title", "message"});
      common(c, p);
      url(c["webhook_url"], p + ".webhook_url", true);
      str(c["title"], p + ".title");
      str(c["message"], p + ".message");
    });
    each("email_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "to", "from", "hello", "smarthost", "auth_username", "auth_password",
            "auth_password_file", "auth_secret", "auth_identity", "headers", "html", "text",
            "require_tls", "tls_config"},
           {"timeout", "force_implicit_tls"});
      boolean(c["send_resolved"], p + ".send_resolved");
      for (auto k : {"to", "from", "hello", "auth_username", "auth_password",
                     "auth_password_file", "auth_secret", "auth_identity", "html", "text"}) {
        str(c[k], p + "." + k);
      }
      host_port(c["smarthost"], p + ".smarthost");
      auto headers = string_map(c["headers"], p + ".headers");
      boolean(c["require_tls"], p + ".require_tls");
      tls(c["tls_config"], p + ".tls_config");
      if (present(c["timeout"])) duration(c["timeout"], p + ".timeout");
      boolean(c["force_implicit_tls"], p + ".force_implicit_tls");
      if (str(c["to"], p).empty()) fail(c, p, "missing to address in email config");
      std::set<std::string> seen;
      for (auto& [h, v] : headers) {
        auto canon = canonical_header(h);
        if (!seen.insert(canon).second) {
          fail(c["headers"], p + ".headers", "duplicate header \"" + canon + "\" in email config");
        }
      }
    });
    each("pagerduty_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "http_config", "service_key", "service_key_file", "routing_key",
            "routing_key_file", "url", "client", "client_url", "description", "details",
            "images", "links", "source", "severity", "class", "component", "group"});
      common(c, p);
      for (auto k : {"service_key", "service_key_file", "routing_key", "routing_key_file",
                     "client", "client_url", "description", "source", "severity", "class",
                     "component", "group"}) {
        str(c[k], p + "." + k);
      }
      url(c["url"], p + ".url");
      string_map(c["details"], p + ".details");
      seq(c["images"], p + ".images", [&](const YAML::Node& i, const std::string& ip) {
        keys(i, ip, {"src", "alt", "href"});
        for (auto k : {"src", "alt", "href"}) str(i[k], ip + "." + k);
      });
      seq(c["links"], p + ".links", [&](const YAML::Node& i, const std::string& ip) {
        keys(i, ip, {"href", "text"});
        for (auto k : {"href", "text"}) str(i[k], ip + "." + k);
      });
      bool rk = !str(c["routing_key"], p).empty() || !str(c["routing_key_file"], p).empty();
      bool sk = !str(c["service_key"], p).empty() || !str(c["service_key_file"], p).empty();
      if (!rk && !sk) fail(c, p, "missing service or routing key in PagerDuty config");
      secret_pair(c, p, "routing_key");
      secret_pair(c, p, "service_key");
    });
    each("slack_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "http_config", "api_url", "api_url_file", "channel", "username",
            "color", "title", "title_link", "pretext", "text", "fields", "short_fields",
            "footer", "fallback", "callback_id", "icon_emoji", "icon_url", "image_url",
            "thumb_url", "link_names", "mrkdwn_in", "actions"});
      common(c, p);
      url(c["api_url"], p + ".api_url", true);
      for (auto k : {"api_url_file", "channel", "username", "color", "title", "title_link",
                     "pretext", "text", "footer", "fallback", "callback_id", "icon_emoji",
                     "icon_url", "image_url", "thumb_url"}) {
        str(c[k], p + "." + k);
      }
      boolean(c["short_fields"], p + ".short_fields");
      boolean(c["link_names"], p + ".link_names");
      strings(c["mrkdwn_in"], p + ".mrkdwn_in");
      seq(c["fields"], p + ".fields", [&](const YAML::Node& f, const std::string& fp) {
        keys(f, fp, {"title", "value", "short"});
        auto t = str(f["title"], fp + ".title");
        auto v = str(f["value"], fp + ".value");
        boolean(f["short"], fp + ".short");
        if (t.empty()) fail(f, fp, "missing title in Slack field configuration");
        if (v.empty()) fail(f, fp, "missing value in Slack field configuration");
      });
      seq(c["actions"], p + ".actions", [&](const YAML::Node& a, const std::string& ap) {
        keys(a, ap, {"type", "text", "url", "style", "name", "value", "confirm"});
        for (auto k : {"type", "text", "url", "style", "name", "value"}) str(a[k], ap + "." + k);
        if (auto cf = a["confirm"]; present(cf)) {
          keys(cf, ap + ".confirm", {"text", "title", "ok_text", "dismiss_text"});
          for (auto k : {"text", "title", "ok_text", "dismiss_text"}) {
            str(cf[k], ap + ".confirm." + k);
          }
          if (str(cf["text"], ap).empty()) {
            fail(cf, ap + ".confirm", "missing text in Slack confirmation configuration");
          }
        }
        if (str(a["type"], ap).empty()) fail(a, ap, "missing type in Slack action configuration");
        if (str(a["text"], ap).empty()) fail(a, ap, "missing text in Slack action configuration");
        if (str(a["url"], ap).empty() && str(a["name"], ap).empty()) {
          fail(a, ap, "missing name or url in Slack action configuration");
        }
      });
      if (present(c["api_url"]) && !str(c["api_url_file"], p).empty()) {
        fail(c, p, "at most one of api_url & api_url_file must be configured");
      }
    });
    each("webhook_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p, {"send_resolved", "http_config", "url", "max_alerts"}, {"url_file"});
      common(c, p);
      url(c["url"], p + ".url");
      integer(c["max_alerts"], p + ".max_alerts", "uint64", false);
      if (!present(c["url"]) && !(mode_ == AmMode::kInline && present(c["url_file"]))) {
        fail(c, p, "missing URL in webhook config");
      }
    });
    each("opsgenie_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "http_config", "api_key", "api_key_file", "api_url", "message",
            "description", "source", "details", "entity", "responders", "actions", "tags",
            "note", "priority", "update_alerts"});
      common(c, p);
      for (auto k : {"api_key", "api_key_file", "message", "description", "source", "entity",
                     "actions", "tags", "note", "priority"}) {
        str(c[k], p + "." + k);
      }
      url(c["api_url"], p + ".api_url");
      string_map(c["details"], p + ".details");
      boolean(c["update_alerts"], p + ".update_alerts");
      seq(c["responders"], p + ".responders", [&](const YAML::Node& r, const std::string& rp) {
        keys(r, rp, {"id", "name", "username", "type"});
        for (auto k : {"id", "name", "username", "type"}) str(r[k], rp + "." + k);
      });
      secret_pair(c, p, "api_key");
      seq(c["responders"], p + ".responders", [&](const YAML::Node& r, const std::string& rp) {
        if (str(r["id"], rp).empty() && str(r["username"], rp).empty() &&
            str(r["name"], rp).empty()) {
          fail(r, rp, "has to have at least one of id, username or name specified");
        }
        auto type = str(r["type"], rp);
        if (type.find("{{") != std::string::npos) return;
        auto t = lower(type);
        if (t != "team" && t != "teams" && t != "user" && t != "escalation" && t != "schedule") {
          fail(r, rp,
               "type does not match valid options ^(team|teams|user|escalation|schedule)$");
        }
      });
    });
    each("wechat_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "http_config", "api_secret", "corp_id", "message", "api_url",
            "to_user", "to_party", "to_tag", "agent_id", "message_type"});
      common(c, p);
      for (auto k : {"api_secret", "corp_id", "message", "to_user", "to_party", "to_tag",
                     "agent_id", "message_type"}) {
        str(c[k], p + "." + k);
      }
      url(c["api_url"], p + ".api_url");
      auto mt = str(c["message_type"], p);
      if (!mt.empty() && mt != "text" && mt != "markdown") {
        fail(c["message_type"], p,
             "weChat message type \"" + mt + "\" does not match valid options ^(text|markdown)$");
      }
    });
    each("pushover_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "http_config", "user_key", "token", "title", "message", "url",
            "url_title", "sound", "priority", "retry", "expire", "html"});
      common(c, p);
      for (auto k : {"user_key", "token", "title", "message", "url", "url_title", "sound",
                     "priority"}) {
        str(c[k], p + "." + k);
      }
      if (present(c["retry"])) go_duration(c["retry"], p + ".retry");
      if (present(c["expire"])) go_duration(c["expire"], p + ".expire");
      boolean(c["html"], p + ".html");
      if (str(c["user_key"], p).empty()) fail(c, p, "missing user key in Pushover config");
      if (str(c["token"], p).empty()) fail(c, p, "missing token in Pushover config");
    });
    each("victorops_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "http_config", "api_key", "api_key_file", "api_url", "routing_key",
            "message_type", "state_message", "entity_display_name", "monitoring_tool",
            "custom_fields"});
      common(c, p);
      for (auto k : {"api_key", "api_key_file", "routing_key", "message_type", "state_message",
                     "entity_display_name", "monitoring_tool"}) {
        str(c[k], p + "." + k);
      }
      url(c["api_url"], p + ".api_url");
      auto custom = string_map(c["custom_fields"], p + ".custom_fields");
      if (str(c["routing_key"], p).empty()) fail(c, p, "missing Routing key in VictorOps config");
      secret_pair(c, p, "api_key");
      for (auto f : {"routing_key", "message_type", "state_message", "entity_display_name",
                     "monitoring_tool", "entity_id", "entity_state"}) {
        if (custom.count(f)) {
          fail(c["custom_fields"], p,
               std::string("victorOps config contains custom field ") + f +
                   " which cannot be used as it conflicts with the fixed/static fields");
        }
      }
    });
    each("sns_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "http_config", "api_url", "sigv4", "topic_arn", "phone_number",
            "target_arn", "subject", "message", "attributes"});
      common(c, p);
      for (auto k : {"api_url", "topic_arn", "phone_number", "target_arn", "subject",
                     "message"}) {
        str(c[k], p + "." + k);
      }
      string_map(c["attributes"], p + ".attributes");
      if (auto s = c["sigv4"]; present(s)) {
        keys(s, p + ".sigv4", {"region", "access_key", "secret_key", "profile", "role_arn"});
        for (auto k : {"region", "access_key", "secret_key", "profile", "role_arn"}) {
          str(s[k], p + ".sigv4." + k);
        }
        // SigV4Config.Validate (prometheus/common sigv4).
        if (str(s["access_key"], p).empty() != str(s["secret_key"], p).empty()) {
          fail(s, p + ".sigv4",
               "must provide a AWS SigV4 Access key and Secret Key if credentials are specified "
               "in the SigV4 config");
        }
      }
      bool a = str(c["target_arn"], p).empty();
      bool b = str(c["topic_arn"], p).empty();
      bool d = str(c["phone_number"], p).empty();
      if ((a != b) != d) {
        fail(c, p,
             "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config");
      }
    });
    each("telegram_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p,
           {"send_resolved", "http_config", "api_url", "bot_token", "chat_id", "message",
            "disable_notifications", "parse_mode"});
      common(c, p);
      url(c["api_url"], p + ".api_url");
      str(c["bot_token"], p + ".bot_token");
      int64_t chat = integer(c["chat_id"], p + ".chat_id", "int64", true);
      str(c["message"], p + ".message");
      boolean(c["disable_notifications"], p + ".disable_notifications");
      auto pm = str(c["parse_mode"], p + ".parse_mode");
      if (str(c["bot_token"], p).empty()) fail(c, p, "missing bot_token on telegram_config");
      if (chat == 0) fail(c, p, "missing chat_id on telegram_config");
      if (present(c["parse_mode"]) && !pm.empty() && pm != "Markdown" && pm != "MarkdownV2" &&
          pm != "HTML") {
        fail(c["parse_mode"], p,
             "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or "
             "empty string");
      }
    });
    each("webex_configs", [&](const YAML::Node& c, const std::string& p) {
      keys(c, p, {"send_resolved", "http_config", "api_url", "message", "room_id"});
      common(c, p);
      url(c["api_url"], p + ".api_url");
      str(c["message"], p + ".message");
      if (str(c["room_id"], p + ".room_id").empty()) {
        fail(c, p, "missing room_id on webex_config");
      }
      auto h = c["http_config"];
      if (!present(h) || !present(h["authorization"])) {
        fail(c, p, "missing webex_configs.http_config.authorization");
      }
    });
    // Microsoft Teams: Alertmanager 0.26+ (msteams) and 0.28+ (msteamsv2), which amtool 0.25
    // does not know; validated as those versions' UnmarshalYAML does.
    for (const char* key : {"msteams_configs", "msteamsv2_configs"}) {
      const bool v2 = std::string_view(key) == "msteamsv2_configs";
      each(key, [&](const YAML::Node& c, const std::string& p) {
        if (v2) {
          keys(c, p, {"send_resolved", "http_config", "webhook_url", "webhook_url_file", "title",
                      "text"});
        } else {
          keys(c, p, {"send_resolved", "http_config", "webhook_url", "webhook_url_file", "title",
                      "summary", "text"});
        }
        common(c, p);
        url(c["webhook_url"], p + ".webhook_url", true);
        for (auto k : {"webhook_url_file", "title", "summary", "text"}) str(c[k], p + "." + k);
        const bool has_url = present(c["webhook_url"]);
        const bool has_file = !str(c["webhook_url_file"], p).empty();
        if (!has_url && !has_file) {
          fail(c, p, "one of webhook_url or webhook_url_file must be configured");
        }
        if (has_url && has_file) {
          fail(c["webhook_url_file"], p,
               "at most one of webhook_url & webhook_url_file must be configured");
        }
      });
    }
    if (mode_ == AmMode::kInline) {
      each("alertmanager_configs", [&](const YAML::Node& c, const std::string& p) {
        keys(c, p, {"send_resolved", "url", "url_file", "http_config"});
        common(c, p);
      });
      each("file_configs", [&](const YAML::Node& c, const std::string& p) {
        keys(c, p, {"send_resolved", "path"});
        boolean(c["send_resolved"], p + ".send_resolved");
      });
    }
    if (str(n["name"], path).empty()) fail(n, path, "missing name in receiver");
  }
  void common(const YAML::Node& c, const std::string& p) {
    boolean(c["send_resolved"], p + ".send_resolved");
    http_config(c["http_config"], p + ".http_config");
  }

  // ---- time intervals ----------------------------------------------------------------------
  void named_interval(const YAML::Node& n, const std::string& path, bool mute) {
    keys(n, path, {"name", "time_intervals"});
    str(n["name"], path + ".name");
    seq(n["time_intervals"], path + ".time_intervals",
        [&](const YAML::Node& c, const std::string& p) { time_interval(c, p); });
    if (str(n["name"], path).empty()) {
      fail(n, path, mute ? "missing name in mute time interval" : "missing name in time interval");
    }
  }
  static std::optional<int> weekday(const std::string& s) {
    static const char* days[] = {"sunday",   "monday", "tuesday", "wednesday",
                                 "thursday", "friday", "saturday"};
    for (int i = 0; i < 7; ++i) {
      if (s == days[i]) return i;
    }
    return std::nullopt;
  }
  static std::optional<int> atoi_go(const std::string& s) {
    if (s.empty()) return std::nullopt;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i == s.size()) return std::nullopt;
    for (size_t j = i; j < s.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(s[j]))) return std::nullopt;
    }
    try {
      return std::stoi(s);
    } catch (...) {
      return std::nullopt;
    }
  }
  // stringableRangeFromString; `member` returns nullopt with `why` set.
  template <class M>
  std::pair<int, int> range(const YAML::Node& n, const std::string& path, M&& member) {
    std::string in = lower(str(n, path));
    auto one = [&](const std::string& s) { return member(s); };
    if (in.find(':') != std::string::npos) {
      auto c = in.find(':');
      if (in.find(':', c + 1) != std::string::npos) {
        fail(n, path, "couldn't parse range " + in + ", invalid format");
      }
      return {one(in.substr(0, c)), one(in.substr(c + 1))};
    }
    int v = one(in);
    return {v, v};
  }
  static int minutes(const std::string& s, bool& ok) {
    // ^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)
    ok = false;
    if (s == "24:00") {
      ok = true;
      return 24 * 60;
    }
    if (s.size() != 5 || s[2] != ':') return 0;
    for (int i : {0, 1, 3, 4}) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return 0;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59) return 0;
    ok = true;
    return h * 60 + m;
  }
  void time_interval(const YAML::Node& n, const std::string& path) {
    keys(n, path, {"times", "weekdays", "days_of_month", "months", "years", "location"});
    seq(n["times"], path + ".times", [&](const YAML::Node& t, const std::string& p) {
      keys(t, p, {"start_time", "end_time"});
      auto s = str(t["start_time"], p + ".start_time");
      auto e = str(t["end_time"], p + ".end_time");
      if (s.empty() || e.empty()) fail(t, p, "both start and end times must be provided");
      bool ok = false;
      int sm = minutes(s, ok);
      if (!ok) fail(t["start_time"], p, "couldn't parse timestamp " + s + ", invalid format");
      int em = minutes(e, ok);
      if (!ok) fail(t["end_time"], p, "couldn't parse timestamp " + e + ", invalid format");
      if (sm >= em) fail(t, p, "start time cannot be equal or greater than end time");
    });
    seq(n["weekdays"], path + ".weekdays", [&](const YAML::Node& w, const std::string& p) {
      auto [b, e] = range(w, p, [&](const std::string& s) {
        auto d = weekday(s);
        if (!d) fail(w, p, s + " is not a valid weekday");
        return *d;
      });
      if (b > e) fail(w, p, "start day cannot be before end day");
    });
    seq(n["days_of_month"], path + ".days_of_month",
        [&](const YAML::Node& d, const std::string& p) {
          auto [b, e] = range(d, p, [&](const std::string& s) {
            auto v = atoi_go(s);
            if (!v) fail(d, p, "strconv.Atoi: parsing \"" + s + "\": invalid syntax");
            return *v;
          });
          if (b == 0 || b < -31 || b > 31) {
            fail(d, p, std::to_string(b) + " is not a valid day of the month: out of range");
          }
          if (e == 0 || e < -31 || e > 31) {
            fail(d, p, std::to_string(e) + " is not a valid day of the month: out of range");
          }
          if (b < 0 && e > 0) fail(d, p, "end day must be negative if start day is negative");
          int cb = b < 0 ? 28 + b : b;
          int ce = e < 0 ? 28 + e : e;
          if (cb > ce) {
            fail(d, p,
                 "end day " + std::to_string(e) + " is always before start day " +
                     std::to_string(b));
          }
        });
    static const char* months[] = {"",     "january", "february",  "march",   "april",
                                   "may",  "june",    "july",      "august",  "september",
                                   "october", "november", "december"};
    seq(n["months"], path + ".months", [&](const YAML::Node& m, const std::string& p) {
      auto [b, e] = range(m, p, [&](const std::string& s) {
        for (int i = 1; i <= 12; ++i) {
          if (s == months[i]) return i;
        }
        auto v = atoi_go(s);
        if (!v) fail(m, p, s + " is not a valid month");
        return *v;
      });
      if (b > e) {
        auto name = [&](int i) { return (i >= 1 && i <= 12) ? std::string(months[i]) : ""; };
        fail(m, p, "end month " + name(e) + " is before start month " + name(b));
      }
    });
    seq(n["years"], path + ".years", [&](const YAML::Node& y, const std::string& p) {
      auto [b, e] = range(y, p, [&](const std::string& s) {
        auto v = atoi_go(s);
        if (!v) fail(y, p, "strconv.Atoi: parsing \"" + s + "\": invalid syntax");
        return *v;
      });
      if (b > e) {
        fail(y, p,
             "end year " + std::to_string(e) + " is before start year " + std::to_string(b));
      }
    });
    if (present(n["location"])) {
      auto l = str(n["location"], path + ".location");
      if (!am_location_exists(l)) fail(n["location"], path + ".location", "unknown time zone " + l);
    }
  }

 public:
  static bool am_location_exists(const std::string& l) {
    if (l.empty() || l == "UTC" || l == "Local") return true;
    if (l.find("..") != std::string::npos || l[0] == '/' || l.find('\\') != std::string::npos) {
      return false;
    }
    return Env::Default()->is_regular_file("/usr/share/zoneinfo/" + l);
  }

 private:
  // ---- Config.UnmarshalYAML ----------------------------------------------------------------
  void config_checks(const YAML::Node& root, const std::vector<YAML::Node>& receivers) {
    auto g = root["global"];
    auto gs = [&](const char* k) { return present(g) ? str(g[k], "global") : std::string(); };
    if (present(g)) {
      if (present(g["slack_api_url"]) && !gs("slack_api_url_file").empty()) {
        fail(g, "global", "at most one of slack_api_url & slack_api_url_file must be configured");
      }
      for (auto k : {"opsgenie_api_key", "victorops_api_key", "smtp_auth_password"}) {
        if (!gs(k).empty() && !gs((std::string(k) + "_file").c_str()).empty()) {
          fail(g, "global",
               std::string("at most one of ") + k + " & " + k + "_file must be configured");
        }
      }
    }
    std::set<std::string> names;
    for (size_t i = 0; i < receivers.size(); ++i) {
      const auto& rcv = receivers[i];
      std::string p = "receivers[" + std::to_string(i) + "]";
      std::string name = str(rcv["name"], p);
      if (names.count(name)) {
        fail(rcv["name"], p + ".name", "notification config name \"" + name + "\" is not unique");
      }
      auto each = [&](const char* key, auto fn) {
        auto s = rcv[key];
        if (!present(s)) return;
        for (size_t j = 0; j < s.size(); ++j) {
          fn(s[j], p + "." + key + "[" + std::to_string(j) + "]");
        }
      };
      each("email_configs", [&](const YAML::Node& c, const std::string& cp) {
        if (str(c["smarthost"], cp).empty() && gs("smtp_smarthost").empty()) {
          fail(c, cp, "no global SMTP smarthost set");
        }
        if (str(c["from"], cp).empty() && gs("smtp_from").empty()) {
          fail(c, cp, "no global SMTP from set");
        }
      });
      each("slack_configs", [&](const YAML::Node& c, const std::string& cp) {
        if (!present(c["api_url"]) && str(c["api_url_file"], cp).empty() &&
            !(present(g) && present(g["slack_api_url"])) && gs("slack_api_url_file").empty()) {
          fail(c, cp, "no global Slack API URL set either inline or in a file");
        }
      });
      each("opsgenie_configs", [&](const YAML::Node& c, const std::string& cp) {
        if (str(c["api_key"], cp).empty() && str(c["api_key_file"], cp).empty() &&
            gs("opsgenie_api_key").empty() && gs("opsgenie_api_key_file").empty()) {
          fail(c, cp, "no global OpsGenie API Key set either inline or in a file");
        }
      });
      each("wechat_configs", [&](const YAML::Node& c, const std::string& cp) {
        if (str(c["api_secret"], cp).empty() && gs("wechat_api_secret").empty()) {
          fail(c, cp, "no global Wechat ApiSecret set");
        }
        if (str(c["corp_id"], cp).empty() && gs("wechat_api_corp_id").empty()) {
          fail(c, cp, "no global Wechat CorpID set");
        }
      });
      each("victorops_configs", [&](const YAML::Node& c, const std::string& cp) {
        if (str(c["api_key"], cp).empty() && str(c["api_key_file"], cp).empty() &&
            gs("victorops_api_key").empty() && gs("victorops_api_key_file").empty()) {
          fail(c, cp, "no global VictorOps API Key set");
        }
      });
      each("discord_configs", [&](const YAML::Node& c, const std::string& cp) {
        if (!present(c["webhook_url"])) fail(c, cp, "no discord webhook URL provided");
      });
      names.insert(name);
    }
    auto r = root["route"];
    if (!present(r)) fail(root, "route", "no routes provided");
    if (str(r["receiver"], "route").empty()) {
      fail(r, "route", "root route must specify a default receiver");
    }
    if (present(r["match"]) || present(r["match_re"]) ||
        (present(r["matchers"]) && r["matchers"].size() > 0)) {
      fail(r, "route", "root route must not have any matchers");
    }
    if (present(r["mute_time_intervals"]) && r["mute_time_intervals"].size() > 0) {
      fail(r, "route", "root route must not have any mute time intervals");
    }
    if (present(r["active_time_intervals"]) && r["active_time_intervals"].size() > 0) {
      fail(r, "route", "root route must not have any active time intervals");
    }
    check_receiver(r, "route", names);
    std::set<std::string> ti;
    for (const char* key : {"mute_time_intervals", "time_intervals"}) {
      auto s = root[key];
      if (!present(s)) continue;
      for (size_t i = 0; i < s.size(); ++i) {
        auto name = str(s[i]["name"], key);
        if (!ti.insert(name).second) {
          fail(s[i]["name"], std::string(key) + "[" + std::to_string(i) + "].name",
               std::string(std::string_view(key) == "mute_time_intervals" ? "mute time interval"
                                                                          : "time interval") +
                   " \"" + name + "\" is not unique");
        }
      }
    }
    check_intervals(r, "route", ti);
  }
  void check_receiver(const YAML::Node& r, const std::string& path,
                      const std::set<std::string>& names) {
    if (auto rs = r["routes"]; present(rs)) {
      for (size_t i = 0; i < rs.size(); ++i) {
        check_receiver(rs[i], path + ".routes[" + std::to_string(i) + "]", names);
      }
    }
    auto name = str(r["receiver"], path);
    if (!name.empty() && !names.count(name)) {
      fail(r["receiver"], path + ".receiver",
           "undefined receiver \"" + name + "\" used in route");
    }
  }
  void check_intervals(const YAML::Node& r, const std::string& path,
                       const std::set<std::string>& names) {
    if (auto rs = r["routes"]; present(rs)) {
      for (size_t i = 0; i < rs.size(); ++i) {
        check_intervals(rs[i], path + ".routes[" + std::to_string(i) + "]", names);
      }
    }
    for (const char* key : {"active_time_intervals", "mute_time_intervals"}) {
      for (auto& t : strings(r[key], path + "." + key)) {
        if (!names.count(t)) {
          fail(r[key], path + "." + key, "undefined time interval \"" + t + "\" used in route");
        }
      }
    }
  }

  std::string file_;
  AmMode mode_;
};

}  // namespace

std::optional<Error> validate_alertmanager(const YAML::Node& root, const std::string& file,
                                           AmMode mode) {
  try {
    Validator(file, mode).run(root);
  } catch (const Fail& f) {
    return f.err;
  } catch (const YAML::Exception& e) {
    SourceLocation l;
    l.file = file;
    if (e.mark.line >= 0) {
      l.line = static_cast<uint32_t>(e.mark.line + 1);
      l.col = static_cast<uint32_t>(e.mark.column + 1);
    }
    return Error("invalid YAML: " + e.msg, l);
  }
  return std::nullopt;
}

}  // namespace ruleeval::notifiers::detail
