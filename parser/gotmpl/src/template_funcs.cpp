// Prometheus's and Alertmanager's template functions, with their exact formatting.
#include <arpa/inet.h>
#include <re2/re2.h>

#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "ruleeval/common/millis.hpp"
#include "ruleeval/parser/duration.hpp"
#include "template_html.hpp"
#include "template_internal.hpp"

namespace ruleeval::tmpl {
namespace {

using Args = std::span<const Value>;

template <class F>
FuncSpec fn(int min, int max, F f) {
  return FuncSpec{Function(std::move(f)), min, max};
}

// ---- regexps with Go semantics (RE2 is Go's engine) -----------------------------------------

Result<std::unique_ptr<RE2>> compile(const std::string& pattern) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_never_nl(false);
  o.set_dot_nl(false);
  auto re = std::make_unique<RE2>(pattern, o);
  if (!re->ok()) {
    // Go's regexp/syntax wording for the same error codes (RE2 is Go's engine).
    std::string_view code;
    switch (re->error_code()) {
      case RE2::ErrorBadEscape:
        code = "invalid escape sequence";
        break;
      case RE2::ErrorBadCharClass:
        code = "invalid character class";
        break;
      case RE2::ErrorBadCharRange:
        code = "invalid character class range";
        break;
      case RE2::ErrorMissingBracket:
        code = "missing closing ]";
        break;
      case RE2::ErrorMissingParen:
        code = "missing closing )";
        break;
      case RE2::ErrorUnexpectedParen:
        code = "unexpected )";
        break;
      case RE2::ErrorTrailingBackslash:
        code = "trailing backslash at end of expression";
        break;
      case RE2::ErrorRepeatArgument:
        code = "missing argument to repetition operator";
        break;
      case RE2::ErrorRepeatSize:
        code = "invalid repeat count";
        break;
      case RE2::ErrorRepeatOp:
        code = "invalid nested repetition operator";
        break;
      case RE2::ErrorBadPerlOp:
        code = "invalid or unsupported Perl syntax";
        break;
      case RE2::ErrorBadUTF8:
        code = "invalid UTF-8";
        break;
      case RE2::ErrorBadNamedCapture:
        code = "invalid named capture";
        break;
      default:
        return make_error(fmt::format("error parsing regexp: {}", re->error()));
    }
    return make_error(fmt::format("error parsing regexp: {}: `{}`", code, re->error_arg()));
  }
  return re;
}

size_t rune_width(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  const auto b = static_cast<unsigned char>(s[pos]);
  size_t n = b < 0x80 ? 1 : (b >= 0xF0 ? 4 : (b >= 0xE0 ? 3 : (b >= 0xC0 ? 2 : 1)));
  return std::min(n, s.size() - pos);
}

// regexp.Regexp.Expand's template syntax: $1, ${1}, $name, ${name}, $$.
void expand(std::string& out, std::string_view repl, const std::vector<re2::StringPiece>& groups,
            const RE2& re) {
  const auto& names = re.NamedCapturingGroups();
  for (size_t i = 0; i < repl.size(); ++i) {
    if (repl[i] != '$' || i + 1 >= repl.size()) {
      out += repl[i];
      continue;
    }
    if (repl[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name;
    size_t j = i + 1;
    bool brace = false;
    if (repl[j] == '{') {
      brace = true;
      ++j;
    }
    const size_t start = j;
    while (j < repl.size() && (std::isalnum(static_cast<unsigned char>(repl[j])) || repl[j] == '_'))
      ++j;
    name = std::string(repl.substr(start, j - start));
    if (brace) {
      if (j >= repl.size() || repl[j] != '}' || name.empty()) {
        out += repl[i];  // malformed: literal '$'
        continue;
      }
      ++j;
    } else if (name.empty()) {
      out += repl[i];
      continue;
    }
    i = j - 1;
    int idx = -1;
    if (std::all_of(name.begin(), name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
      idx = name.size() > 9 ? -1 : std::stoi(name);
    } else if (auto it = names.find(name); it != names.end()) {
      idx = it->second;
    }
    if (idx >= 0 && static_cast<size_t>(idx) < groups.size() &&
        groups[static_cast<size_t>(idx)].data() != nullptr) {
      out.append(groups[static_cast<size_t>(idx)].data(), groups[static_cast<size_t>(idx)].size());
    }
  }
}

std::string replace_all(const RE2& re, std::string_view src, std::string_view repl) {
  std::string out;
  const int ngroups = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups));
  re2::StringPiece text(src.data(), src.size());
  size_t last_end = 0;
  size_t search = 0;
  while (search <= src.size()) {
    if (!re.Match(text, search, src.size(), RE2::UNANCHORED, groups.data(), ngroups)) break;
    const size_t a0 = static_cast<size_t>(groups[0].data() - src.data());
    const size_t a1 = a0 + groups[0].size();
    out.append(src.substr(last_end, a0 - last_end));
    if (a1 > last_end || a0 == 0) expand(out, repl, groups, re);
    last_end = a1;
    const size_t w = rune_width(src, search);
    if (search + w > a1) {
      search += w;
    } else if (search + 1 > a1) {
      ++search;
    } else {
      search = a1;
    }
  }
  out.append(src.substr(std::min(last_end, src.size())));
  return out;
}

Result<Value> re_replace_all(Args a) {
  auto p = arg_string(a[0]);
  if (!p) return std::unexpected(p.error());
  auto r = arg_string(a[1]);
  if (!r) return std::unexpected(r.error());
  auto t = arg_string(a[2]);
  if (!t) return std::unexpected(t.error());
  auto re = compile(*p);
  if (!re) {
    // Prometheus uses regexp.MustCompile; text/template turns its panic into this error.
    const bool backquote =
        p->find('`') == std::string::npos && std::none_of(p->begin(), p->end(), [](char c) {
          return (static_cast<unsigned char>(c) < ' ' && c != '\t') || c == 0x7f;
        });
    const std::string quoted = backquote ? "`" + *p + "`" : go_quote(*p);
    return make_error(fmt::format("regexp: Compile({}): {}", quoted, re.error().message));
  }
  return Value(replace_all(**re, *t, *r));
}

Result<Value> match(Args a) {
  auto p = arg_string(a[0]);
  if (!p) return std::unexpected(p.error());
  auto t = arg_string(a[1]);
  if (!t) return std::unexpected(t.error());
  auto re = compile(*p);
  if (!re) return std::unexpected(re.error());
  return Value(RE2::PartialMatch(*t, **re));
}

// ---- strings ------------------------------------------------------------------------------

std::string to_upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string to_lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// strings.Title: upper-cases letters that start a word.
std::string title(std::string s) {
  bool prev_sep = true;
  for (auto& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      prev_sep = false;
      continue;
    }
    if (prev_sep) c = static_cast<char>(std::toupper(u));
    prev_sep = !(std::isalnum(u) || c == '_');
  }
  return s;
}

std::string trim_space(std::string_view s) {
  auto sp = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// net.SplitHostPort.
bool split_host_port(std::string_view hp, std::string& host, std::string& port) {
  if (hp.starts_with('[')) {
    const size_t close = hp.find(']');
    if (close == std::string_view::npos || close + 1 >= hp.size() || hp[close + 1] != ':')
      return false;
    host = std::string(hp.substr(1, close - 1));
    port = std::string(hp.substr(close + 2));
    return port.find(':') == std::string::npos;
  }
  const size_t colon = hp.rfind(':');
  if (colon == std::string_view::npos) return false;
  if (hp.substr(0, colon).find(':') != std::string_view::npos) return false;  // too many colons
  host = std::string(hp.substr(0, colon));
  port = std::string(hp.substr(colon + 1));
  return true;
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

std::string strip_domain(const std::string& hp) {
  std::string host, port;
  if (!split_host_port(hp, host, port)) {
    host = hp;
    port.clear();
  }
  if (is_ip(host)) return hp;
  host.resize(std::min(host.size(), host.find('.')));
  if (!port.empty())
    return host.find(':') != std::string::npos ? "[" + host + "]:" + port : host + ":" + port;
  return host;
}

// ---- numbers ------------------------------------------------------------------------------

std::string humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return go_g4(v);
  static const char* kBig[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
  static const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  std::string prefix;
  if (std::fabs(v) >= 1) {
    for (const char* p : kBig) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return go_g4(v) + prefix;
  }
  for (const char* p : kSmall) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return go_g4(v) + prefix;
}

std::string humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return go_g4(v);
  static const char* kUnits[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
  std::string prefix;
  for (const char* p : kUnits) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return go_g4(v) + prefix;
}

std::string humanize_duration(double v) {
  if (std::isnan(v) || std::isinf(v)) return go_g4(v);
  if (v == 0) return go_g4(v) + "s";
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    const double clamped = std::min(v, 9.2e18);
    const auto d = static_cast<int64_t>(clamped);
    const int64_t seconds = d % 60, minutes = (d / 60) % 60, hours = (d / 3600) % 24,
                  days = d / 86400;
    if (days != 0) return fmt::format("{}{}d {}h {}m {}s", sign, days, hours, minutes, seconds);
    if (hours != 0) return fmt::format("{}{}h {}m {}s", sign, hours, minutes, seconds);
    if (minutes != 0) return fmt::format("{}{}m {}s", sign, minutes, seconds);
    return sign + go_g4(v) + "s";
  }
  static const char* kSmall[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
  std::string prefix;
  for (const char* p : kSmall) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return go_g4(v) + prefix + "s";
}

// Prometheus's floatToTime: seconds -> model.Time (milliseconds, truncated) -> time.Time.
Result<Time> float_to_time(double v) {
  const double ns = v * 1e9;
  if (ns > 9.2233720368547748e18 || ns < -9.2233720368547748e18) {
    return make_error(
        fmt::format("{} cannot be represented as a nanoseconds timestamp since it overflows int64",
                    go_format_float(v)));
  }
  const Millis ms = ns_to_ms(static_cast<int64_t>(ns));
  return Time{ms_to_ns(ms)};
}

template <class F>
FuncSpec float_fn(F f) {
  return fn(1, 1, [f](Args a) -> Result<Value> {
    auto v = to_float(a[0]);
    if (!v) return std::unexpected(v.error());
    return f(*v);
  });
}

// ---- Prometheus data ----------------------------------------------------------------------

std::shared_ptr<const TypeInfo> named_type(std::string name, bool is_struct) {
  auto t = std::make_shared<TypeInfo>();
  t->name = std::move(name);
  t->is_struct = is_struct;
  return t;
}

const std::shared_ptr<const TypeInfo>& sample_type() {
  static const auto t = named_type("*template.sample", true);
  return t;
}
const std::shared_ptr<const TypeInfo>& query_result_type() {
  static const auto t = named_type("template.queryResult", false);
  return t;
}

Value sample_value(const QuerySample& s) {
  Map m;
  m.emplace("Labels", Value::from_labels(s.labels));
  m.emplace("Value", Value(s.value));
  return Value(std::move(m), sample_type());
}

// A *sample argument: a struct value with Labels and Value, or nil.
Result<const Map*> arg_sample(const Value& v) {
  if (v.is_nil()) return static_cast<const Map*>(nullptr);
  if (v.kind() == Value::Kind::kMap && v.type() == sample_type().get()) return &v.as_map();
  return std::unexpected(wrong_type("*template.sample", v));
}

std::string sample_label(const Map* s, const std::string& name) {
  if (s == nullptr) return "";
  auto it = s->find("Labels");
  if (it == s->end() || it->second.kind() != Value::Kind::kMap) return "";
  const auto& m = it->second.as_map();
  auto l = m.find(name);
  return l == m.end() || l->second.kind() != Value::Kind::kString ? "" : l->second.as_string();
}

std::string url_path(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t from = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t slash = url.find('/', from);
  if (slash == std::string::npos) return "";
  std::string path = url.substr(slash);
  path.resize(std::min(path.size(), path.find_first_of("?#")));
  return path;
}

}  // namespace

FuncMap prometheus_functions(PrometheusContext ctx) {
  return prometheus_functions_live(std::make_shared<const PrometheusContext>(std::move(ctx)));
}

FuncMap prometheus_functions_live(const std::shared_ptr<const PrometheusContext>& ctx) {
  FuncMap m;
  m["query"] = fn(1, 1, [ctx](Args a) -> Result<Value> {
    auto q = arg_string(a[0]);
    if (!q) return std::unexpected(q.error());
    if (!ctx->query) return make_error("the query function is not available here");
    auto r = ctx->query(*q);
    if (!r) return std::unexpected(r.error());
    List l;
    for (const auto& s : *r) l.push_back(sample_value(s));
    return Value(std::move(l), query_result_type());
  });
  m["first"] = fn(1, 1, [](Args a) -> Result<Value> {
    if (a[0].kind() != Value::Kind::kList)
      return std::unexpected(wrong_type("template.queryResult", a[0]));
    if (a[0].as_list().empty()) return make_error("first() called on vector with no elements");
    return a[0].as_list().front();
  });
  m["label"] = fn(2, 2, [](Args a) -> Result<Value> {
    auto l = arg_string(a[0]);
    if (!l) return std::unexpected(l.error());
    auto s = arg_sample(a[1]);
    if (!s) return std::unexpected(s.error());
    return Value(sample_label(*s, *l));
  });
  m["value"] = fn(1, 1, [](Args a) -> Result<Value> {
    auto s = arg_sample(a[0]);
    if (!s) return std::unexpected(s.error());
    if (*s == nullptr) return Value(0.0);
    auto it = (*s)->find("Value");
    return it == (*s)->end() ? Value(0.0) : it->second;
  });
  m["strvalue"] = fn(1, 1, [](Args a) -> Result<Value> {
    auto s = arg_sample(a[0]);
    if (!s) return std::unexpected(s.error());
    return Value(sample_label(*s, "__value__"));
  });
  m["args"] = fn(0, -1, [](Args a) -> Result<Value> {
    Map out;
    for (size_t i = 0; i < a.size(); ++i) out.emplace(fmt::format("arg{}", i), a[i]);
    return Value(std::move(out));
  });
  m["reReplaceAll"] = fn(3, 3, re_replace_all);
  m["match"] = fn(2, 2, match);
  m["safeHtml"] = fn(1, 1, [](Args a) -> Result<Value> {
    auto s = arg_string(a[0]);
    if (!s) return std::unexpected(s.error());
    return Value(*s);
  });
  auto str_fn = [](auto f) {  // a std::string (*)(std::string) or a lambda
    return fn(1, 1, [f](Args a) -> Result<Value> {
      auto s = arg_string(a[0]);
      if (!s) return std::unexpected(s.error());
      return Value(f(*s));
    });
  };
  m["title"] = str_fn(title);
  m["toUpper"] = str_fn(to_upper);
  m["toLower"] = str_fn(to_lower);
  m["graphLink"] = str_fn(
      [](const std::string& e) { return "/graph?g0.expr=" + url_query_escape(e) + "&g0.tab=0"; });
  m["tableLink"] = str_fn(
      [](const std::string& e) { return "/graph?g0.expr=" + url_query_escape(e) + "&g0.tab=1"; });
  m["sortByLabel"] = fn(2, 2, [](Args a) -> Result<Value> {
    auto l = arg_string(a[0]);
    if (!l) return std::unexpected(l.error());
    if (a[1].kind() != Value::Kind::kList)
      return std::unexpected(wrong_type("template.queryResult", a[1]));
    List items = a[1].as_list();
    std::string label = *l;
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      auto sx = arg_sample(x), sy = arg_sample(y);
      return sample_label(sx ? *sx : nullptr, label) < sample_label(sy ? *sy : nullptr, label);
    });
    return Value(std::move(items), a[1].type_ptr());
  });
  m["stripPort"] = str_fn([](const std::string& hp) {
    std::string host, port;
    return split_host_port(hp, host, port) ? host : hp;
  });
  m["stripDomain"] = str_fn([](const std::string& hp) { return strip_domain(hp); });
  m["humanize"] = float_fn([](double v) -> Result<Value> { return Value(humanize(v)); });
  m["humanize1024"] = float_fn([](double v) -> Result<Value> { return Value(humanize1024(v)); });
  m["humanizeDuration"] =
      float_fn([](double v) -> Result<Value> { return Value(humanize_duration(v)); });
  m["humanizePercentage"] =
      float_fn([](double v) -> Result<Value> { return Value(go_g4(v * 100) + "%"); });
  m["humanizeTimestamp"] = float_fn([](double v) -> Result<Value> {
    if (std::isnan(v) || std::isinf(v)) return Value(go_g4(v));
    auto t = float_to_time(v);
    if (!t) return std::unexpected(t.error());
    return Value(go_format_time(*t));
  });
  m["toTime"] = float_fn([](double v) -> Result<Value> {
    if (std::isnan(v) || std::isinf(v)) return make_error("value is NaN or Inf");
    auto t = float_to_time(v);
    if (!t) return std::unexpected(t.error());
    return Value(*t);
  });
  m["toDuration"] = float_fn([](double v) -> Result<Value> {
    if (std::isnan(v) || std::isinf(v)) return make_error("value is NaN or Inf");
    const double ns = std::clamp(v * 1e9, -9.2e18, 9.2e18);
    return Value(Duration{static_cast<int64_t>(ns)});
  });
  m["now"] = fn(0, 0, [ctx](Args) -> Result<Value> { return Value(ctx->now_seconds); });
  m["pathPrefix"] =
      fn(0, 0, [ctx](Args) -> Result<Value> { return Value(url_path(ctx->external_url)); });
  m["externalURL"] = fn(0, 0, [ctx](Args) -> Result<Value> { return Value(ctx->external_url); });
  m["parseDuration"] = fn(1, 1, [](Args a) -> Result<Value> {
    auto s = arg_string(a[0]);
    if (!s) return std::unexpected(s.error());
    auto d = parse_duration(*s);
    if (!d) return std::unexpected(d.error());
    return Value(ms_to_seconds(*d));
  });
  m["urlQueryEscape"] = str_fn([](const std::string& s) { return url_query_escape(s); });
  return m;
}

Value alert_template_data(const Labels& labels, const Labels& external_labels,
                          std::string_view external_url, double value) {
  return alert_template_data(labels, Value::from_labels(external_labels), external_url, value);
}

Value alert_template_data(const Labels& labels, const Value& external_labels,
                          std::string_view external_url, double value) {
  static const auto kType = named_type(
      "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; "
      "Value interface {} }",
      true);
  Map m;
  m.emplace("Labels", Value::from_labels(labels));
  m.emplace("ExternalLabels", external_labels);
  m.emplace("ExternalURL", Value(external_url));
  m.emplace("Value", Value(value));
  return Value(std::move(m), kType);
}

FuncMap alertmanager_functions(Env* env) {
  auto now = [env] { return env->now_nanos(); };
  FuncMap m;
  auto str_fn = [](auto f) {  // a std::string (*)(std::string) or a lambda
    return fn(1, 1, [f](Args a) -> Result<Value> {
      auto s = arg_string(a[0]);
      if (!s) return std::unexpected(s.error());
      return Value(f(*s));
    });
  };
  m["toUpper"] = str_fn(to_upper);
  m["toLower"] = str_fn(to_lower);
  m["title"] = str_fn(title);
  m["trimSpace"] = str_fn([](const std::string& s) { return trim_space(s); });
  // html/template.HTML: html/template's escapers leave it as it is in element text.
  m["safeHtml"] = fn(1, 1, [](Args a) -> Result<Value> {
    auto s = arg_string(a[0]);
    if (!s) return std::unexpected(s.error());
    return detail::html_value(std::move(*s));
  });
  m["match"] = fn(2, 2, match);
  m["reReplaceAll"] = fn(3, 3, re_replace_all);
  m["join"] = fn(2, 2, [](Args a) -> Result<Value> {
    auto sep = arg_string(a[0]);
    if (!sep) return std::unexpected(sep.error());
    if (a[1].kind() != Value::Kind::kList) return std::unexpected(wrong_type("[]string", a[1]));
    std::string out;
    bool first = true;
    for (const auto& e : a[1].as_list()) {
      if (e.kind() != Value::Kind::kString) return std::unexpected(wrong_type("[]string", a[1]));
      if (!first) out += *sep;
      first = false;
      out += e.as_string();
    }
    return Value(std::move(out));
  });
  m["stringSlice"] = fn(0, -1, [](Args a) -> Result<Value> {
    std::vector<std::string> out;
    for (const auto& e : a) {
      auto s = arg_string(e);
      if (!s) return std::unexpected(s.error());
      out.push_back(*s);
    }
    return Value::strings(out);
  });
  m["date"] = fn(2, 2, [](Args a) -> Result<Value> {
    auto f = arg_string(a[0]);
    if (!f) return std::unexpected(f.error());
    auto t = arg_time(a[1]);
    if (!t) return std::unexpected(t.error());
    return Value(go_time_format(*t, *f));
  });
  m["tz"] = fn(2, 2, [](Args a) -> Result<Value> {
    auto n = arg_string(a[0]);
    if (!n) return std::unexpected(n.error());
    auto t = arg_time(a[1]);
    if (!t) return std::unexpected(t.error());
    if (*n != "UTC" && !n->empty()) return make_error(fmt::format("unknown time zone {}", *n));
    return Value(*t);
  });
  m["since"] = fn(1, 1, [now](Args a) -> Result<Value> {
    auto t = arg_time(a[0]);
    if (!t) return std::unexpected(t.error());
    return Value(time_sub(Time{now()}, *t));
  });
  m["humanizeDuration"] =
      float_fn([](double v) -> Result<Value> { return Value(humanize_duration(v)); });
  return m;
}

}  // namespace ruleeval::tmpl
