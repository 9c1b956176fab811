// Strict decoder for promtool's rule unit-test files.
#include "ruleeval/rules/unittest_file.hpp"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <ctime>
#include <set>
#include <sstream>
#include <system_error>

#include "ruleeval/common/env.hpp"
#include "ruleeval/common/millis.hpp"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::rules {
namespace {

class Decoder {
 public:
  Decoder(std::string path, const UnitTestLoadOptions& opts) : path_(std::move(path)), opts_(opts) {}

  std::vector<Error>& errors() { return errors_; }

  UnitTestPos pos(const YAML::Node& n) const {
    auto m = n.Mark();
    if (m.line < 0) return {};
    return {static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
  }

  void error(const YAML::Node& n, std::string msg) {
    auto p = pos(n);
    errors_.emplace_back(std::move(msg), SourceLocation{path_, p.line, p.col});
  }

  // Iterates a mapping strictly: duplicate keys and (unless ignored) unknown keys are errors.
  template <class Fn>
  void fields(const YAML::Node& map, std::string_view type, std::initializer_list<std::string_view> known,
              Fn&& fn) {
    if (!map || map.IsNull()) return;
    if (!map.IsMap()) {
      error(map, "cannot unmarshal " + kind(map) + " into " + std::string(type));
      return;
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& kv : map) {
      const YAML::Node& key = kv.first;
      if (!key.IsScalar()) {
        error(key, "mapping key must be a string");
        continue;
      }
      const std::string& k = key.Scalar();
      if (!seen.insert(k).second) {
        error(key, "mapping key \"" + k + "\" already defined");
        continue;
      }
      bool is_known = false;
      for (auto name : known) is_known = is_known || name == k;
      if (!is_known) {
        if (!opts_.ignore_unknown_fields) {
          error(key, "field " + k + " not found in type " + std::string(type));
        }
        continue;
      }
      fn(k, kv.second);
    }
  }

  std::string kind(const YAML::Node& n) const {
    if (n.IsMap()) return "!!map";
    if (n.IsSequence()) return "!!seq";
    if (n.IsNull()) return "!!null";
    return "!!str";
  }

  std::string str(const YAML::Node& n) {
    if (n.IsNull()) return {};
    if (!n.IsScalar()) {
      error(n, "cannot unmarshal " + kind(n) + " into string");
      return {};
    }
    return n.Scalar();
  }

  int64_t duration(const YAML::Node& n) {
    std::string s = str(n);
    if (s.empty()) return 0;
    auto d = parse_duration(s);
    if (!d) {
      error(n, d.error().message);
      return 0;
    }
    return *d;
  }

  bool boolean(const YAML::Node& n) {
    std::string s = str(n);
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s.empty()) return false;
    error(n, "cannot unmarshal !!str `" + s + "` into bool");
    return false;
  }

  double number(const YAML::Node& n) {
    std::string s = str(n);
    if (s == ".inf" || s == ".Inf" || s == "+.inf" || s == "Inf" || s == "+Inf" || s == "inf") {
      return INFINITY;
    }
    if (s == "-.inf" || s == "-.Inf" || s == "-Inf" || s == "-inf") {
      return -std::numeric_limits<double>::infinity();
    }
    if (s == ".nan" || s == ".NaN" || s == "NaN" || s == "nan") {
      return std::numeric_limits<double>::quiet_NaN();
    }
    double v = 0;
    const char* b = s.data();
    const char* e = b + s.size();
    if (!s.empty() && *b == '+') ++b;
    auto [p, ec] = std::from_chars(b, e, v);
    if (s.empty() || ec != std::errc() || p != e) {
      error(n, "cannot unmarshal !!str `" + s + "` into float64");
      return 0;
    }
    return v;
  }

  Labels string_map(const YAML::Node& n, std::string_view what) {
    std::vector<Label> out;
    if (!n || n.IsNull()) return {};
    if (!n.IsMap()) {
      error(n, "cannot unmarshal " + kind(n) + " into " + std::string(what));
      return {};
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& kv : n) {
      std::string k = str(kv.first);
      if (!seen.insert(k).second) {
        error(kv.first, "mapping key \"" + k + "\" already defined");
        continue;
      }
      out.push_back({k, str(kv.second)});
    }
    return Labels::from_vector(std::move(out));
  }

  template <class Fn>
  void sequence(const YAML::Node& n, Fn&& fn) {
    if (!n || n.IsNull()) return;
    if (!n.IsSequence()) {
      error(n, "cannot unmarshal " + kind(n) + " into a list");
      return;
    }
    for (const auto& item : n) fn(item);
  }

  UnitTestFile decode(const YAML::Node& root) {
    UnitTestFile f;
    f.path = path_;
    fields(root, "main.unitTestFile",
           {"rule_files", "evaluation_interval", "group_eval_order", "tests", "fuzzy_compare"},
           [&](const std::string& k, const YAML::Node& v) {
             if (k == "rule_files") {
               sequence(v, [&](const YAML::Node& i) { f.rule_files.push_back(str(i)); });
             } else if (k == "evaluation_interval") {
               f.evaluation_interval_ms = duration(v);
             } else if (k == "group_eval_order") {
               std::set<std::string> seen;
               sequence(v, [&](const YAML::Node& i) {
                 std::string g = str(i);
                 if (!seen.insert(g).second) {
                   error(i, "group name repeated in evaluation order: " + g);
                 }
                 f.group_eval_order.push_back(g);
               });
             } else if (k == "fuzzy_compare") {
               f.fuzzy_compare = boolean(v);
             } else if (k == "tests") {
               sequence(v, [&](const YAML::Node& i) { f.tests.push_back(group(i)); });
             }
           });
    if (f.evaluation_interval_ms == 0) f.evaluation_interval_ms = 60'000;
    return f;
  }

  UnitTestGroup group(const YAML::Node& n) {
    UnitTestGroup g;
    g.pos = pos(n);
    fields(n, "main.testGroup",
           {"interval", "input_series", "alert_rule_test", "promql_expr_test", "external_labels",
            "external_url", "name", "start_timestamp"},
           [&](const std::string& k, const YAML::Node& v) {
             if (k == "interval") {
               g.interval_ms = duration(v);
             } else if (k == "name") {
               g.name = str(v);
             } else if (k == "external_labels") {
               g.external_labels = string_map(v, "labels.Labels");
             } else if (k == "external_url") {
               g.external_url = str(v);
             } else if (k == "start_timestamp") {
               std::string s = str(v);
               auto t = parse_timestamp(s);
               if (!t) {
                 error(v, "cannot parse start_timestamp \"" + s +
                              "\": want RFC3339 or Unix seconds");
               } else {
                 g.start_ms = *t;
               }
             } else if (k == "input_series") {
               sequence(v, [&](const YAML::Node& i) {
                 InputSeries s;
                 s.pos = pos(i);
                 fields(i, "main.series", {"series", "values"},
                        [&](const std::string& sk, const YAML::Node& sv) {
                          (sk == "series" ? s.series : s.values) = str(sv);
                        });
                 g.input_series.push_back(std::move(s));
               });
             } else if (k == "alert_rule_test") {
               sequence(v, [&](const YAML::Node& i) { g.alert_rule_test.push_back(alert_test(i)); });
             } else if (k == "promql_expr_test") {
               sequence(v, [&](const YAML::Node& i) { g.promql_expr_test.push_back(promql_test(i)); });
             }
           });
    return g;
  }

  AlertTestCase alert_test(const YAML::Node& n) {
    AlertTestCase t;
    t.pos = pos(n);
    fields(n, "main.alertTestCase", {"eval_time", "alertname", "exp_alerts"},
           [&](const std::string& k, const YAML::Node& v) {
             if (k == "eval_time") {
               t.eval_time_ms = duration(v);
             } else if (k == "alertname") {
               t.alertname = str(v);
             } else {
               sequence(v, [&](const YAML::Node& i) {
                 ExpectedAlert a;
                 a.pos = pos(i);
                 fields(i, "main.alert", {"exp_labels", "exp_annotations", "exp_state"},
                        [&](const std::string& ak, const YAML::Node& av) {
                          if (ak == "exp_labels") {
                            a.labels = string_map(av, "map[string]string");
                          } else if (ak == "exp_annotations") {
                            a.annotations = string_map(av, "map[string]string");
                          } else {
                            a.state = str(av);
                            if (a.state != "firing" && a.state != "pending") {
                              error(av, "exp_state must be firing or pending, got \"" + a.state +
                                            "\"");
                            }
                          }
                        });
                 t.exp_alerts.push_back(std::move(a));
               });
             }
           });
    if (t.alertname.empty()) {
      error(n, "an item under alert_rule_test misses required attribute alertname");
    }
    return t;
  }

  PromqlTestCase promql_test(const YAML::Node& n) {
    PromqlTestCase t;
    t.pos = pos(n);
    fields(n, "main.promqlTestCase", {"expr", "eval_time", "exp_samples"},
           [&](const std::string& k, const YAML::Node& v) {
             if (k == "expr") {
               t.expr = str(v);
             } else if (k == "eval_time") {
               t.eval_time_ms = duration(v);
             } else {
               sequence(v, [&](const YAML::Node& i) {
                 ExpectedSample s;
                 s.pos = pos(i);
                 fields(i, "main.sample", {"labels", "value", "histogram"},
                        [&](const std::string& sk, const YAML::Node& sv) {
                          if (sk == "labels") {
                            s.labels = str(sv);
                          } else if (sk == "value") {
                            s.value = number(sv);
                          } else {
                            s.histogram = str(sv);
                          }
                        });
                 t.exp_samples.push_back(std::move(s));
               });
             }
           });
    return t;
  }

 private:
  std::string path_;
  const UnitTestLoadOptions& opts_;
  std::vector<Error> errors_;
};

}  // namespace

std::optional<int64_t> parse_timestamp(const std::string& s) {
  if (s.empty()) return std::nullopt;
  // Unix seconds, integer or float.
  {
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(v)) {
      return seconds_to_ms_rounded(v);
    }
  }
  // RFC3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                  &consumed) != 6) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t i = static_cast<size_t>(consumed);
  int64_t frac_ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    int64_t scale = 100;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (digits < 3) frac_ms += (s[i] - '0') * scale;
      scale /= 10;
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
  }
  int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_s = (int64_t{oh} * 3600 + int64_t{om} * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t t = static_cast<int64_t>(timegm(&tm));
  return seconds_to_ms(t - offset_s) + frac_ms;
}

std::expected<UnitTestFile, std::vector<Error>> load_unittest_text(
    const std::string& text, const std::string& path, const UnitTestLoadOptions& opts) {
  Decoder dec(path, opts);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    Error err("yaml: " + e.msg, SourceLocation{path, static_cast<uint32_t>(e.mark.line + 1),
                                                static_cast<uint32_t>(e.mark.column + 1)});
    return std::unexpected(std::vector<Error>{err});
  }
  UnitTestFile f;
  try {
    f = dec.decode(root);
  } catch (const YAML::Exception& e) {
    dec.errors().emplace_back("yaml: " + e.msg, SourceLocation{path, 0, 0});
  }
  if (!dec.errors().empty()) return std::unexpected(std::move(dec.errors()));
  return f;
}

std::expected<UnitTestFile, std::vector<Error>> load_unittest_file(
    const std::string& path, const UnitTestLoadOptions& opts) {
  auto text = Env::Default()->read_file(path, kMaxInputFileBytes, Env::Streams::kAllow);
  if (!text) {
    return std::unexpected(std::vector<Error>{
        Error("open " + path + ": " + text.error().message, SourceLocation{path, 0, 0})});
  }
  return load_unittest_text(*text, path, opts);
}

}  // namespace ruleeval::rules
