// Grafana's provisioning value interpolation (values.interpolateValue): split at "$$", run the
// expanders (setting.ExpandVar: env, then file, on `$(|__\w+){...}`), then os.ExpandEnv, and join
// the parts with "$".
#include "ruleeval/rules/grafana_interpolate.hpp"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "ruleeval/common/env.hpp"

namespace ruleeval::rules {
namespace {

bool word(char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string getenv_str(const std::string& name) {
  // getenv races only with setenv/putenv, which ruleeval never calls.
  const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
  return v ? std::string(v) : std::string();
}

// One `$(|__\w+){([^}]+)}` match at `i` (s[i] == '$'): the prefix ("" or "__name"), the
// argument and the end; false when there is none at `i`.
bool expander_at(std::string_view s, size_t i, std::string& prefix, std::string& arg,
                 size_t& end) {
  size_t j = i + 1;
  prefix.clear();
  if (s.substr(j, 2) == "__") {
    size_t k = j + 2;
    while (k < s.size() && word(s[k])) ++k;
    if (k == j + 2) return false;
    prefix = std::string(s.substr(j, k - j));
    j = k;
  }
  if (j >= s.size() || s[j] != '{') return false;
  const size_t close = s.find('}', j + 1);
  if (close == std::string_view::npos || close == j + 1) return false;
  arg = std::string(s.substr(j + 1, close - j - 1));
  end = close + 1;
  return true;
}

std::string trim_space(std::string s) {
  const char* ws = " \t\n\r\v\f";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

// One expander over the whole string (Grafana's applyExpander): "env" takes `${X}` and
// `$__env{X}`, "file" takes `$__file{path}`.
Result<std::string> apply_expander(const std::string& s, std::string_view name) {
  std::string out;
  size_t done = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$') continue;
    std::string prefix, arg;
    size_t end = 0;
    if (!expander_at(s, i, prefix, arg, end)) continue;
    const bool mine = prefix == "__" + std::string(name) || (prefix.empty() && name == "env");
    if (prefix != "" && prefix != "__env" && prefix != "__file") {
      std::string msg = "$";
      msg += prefix;
      msg += '{';
      msg += arg;
      msg += "}: the `";
      msg += prefix.substr(2);
      msg += "` expander is not available (Grafana's open-source build has env and file)";
      return make_error(msg);
    }
    if (!mine) {
      i = end - 1;
      continue;
    }
    std::string value;
    if (name == "env") {
      value = getenv_str(arg);
      if (arg == "HOSTNAME" && value.empty()) {
        char host[256] = {};
        if (::gethostname(host, sizeof host - 1) == 0) value = host;
      }
    } else {
      auto text = Env::Default()->read_file(arg, 1u << 20);
      if (!text) return make_error("$__file{" + arg + "}: " + text.error().message);
      value = trim_space(*text);
    }
    out.append(s, done, i - done);
    out += value;
    done = end;
    i = end - 1;
  }
  out.append(s, done, std::string::npos);
  return out;
}

bool shell_special(char c) {
  return c == '*' || c == '#' || c == '$' || c == '@' || c == '!' || c == '?' || c == '-' ||
         (c >= '0' && c <= '9');
}

// Go's os.ExpandEnv (os.Expand with os.Getenv).
std::string expand_env(const std::string& s) {
  std::string out;
  size_t i = 0;
  for (size_t j = 0; j < s.size(); ++j) {
    if (s[j] != '$' || j + 1 >= s.size()) continue;
    out.append(s, i, j - i);
    const std::string_view rest = std::string_view(s).substr(j + 1);
    std::string name;
    size_t w = 0;
    if (rest[0] == '{') {
      if (rest.size() > 2 && shell_special(rest[1]) && rest[2] == '}') {
        name = std::string(rest.substr(1, 1));
        w = 3;
      } else {
        w = 1;  // "${" without a closing brace: eaten
        for (size_t k = 1; k < rest.size(); ++k) {
          if (rest[k] == '}') {
            if (k == 1) {
              w = 2;  // "${}": eaten
            } else {
              name = std::string(rest.substr(1, k - 1));
              w = k + 1;
            }
            break;
          }
        }
      }
    } else if (shell_special(rest[0])) {
      name = std::string(rest.substr(0, 1));
      w = 1;
    } else {
      while (w < rest.size() && word(rest[w])) ++w;
      name = std::string(rest.substr(0, w));
    }
    if (name.empty() && w > 0) {
      // invalid syntax: the characters are eaten
    } else if (name.empty()) {
      out += '$';  // "$" not followed by a name stays
    } else {
      out += getenv_str(name);
    }
    j += w;
    i = j + 1;
  }
  if (i == 0 && out.empty()) return s;
  if (i < s.size()) out.append(s, i, std::string::npos);
  return out;
}

}  // namespace

Result<std::string> grafana_interpolate(std::string_view value) {
  if (value.find('$') == std::string_view::npos) return std::string(value);
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t at = value.find("$$", start);
    parts.emplace_back(value.substr(start, at == std::string_view::npos ? std::string_view::npos
                                                                        : at - start));
    if (at == std::string_view::npos) break;
    start = at + 2;
  }
  std::string out;
  for (size_t p = 0; p < parts.size(); ++p) {
    auto env = apply_expander(parts[p], "env");
    if (!env) return std::unexpected(env.error());
    auto file = apply_expander(*env, "file");
    if (!file) return std::unexpected(file.error());
    if (p > 0) out += '$';
    out += expand_env(*file);
  }
  return out;
}

}  // namespace ruleeval::rules
