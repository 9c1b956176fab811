// Executing Go templates: printing rules, control flow, builtins, Prometheus and Alertmanager
// functions, and runtime errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "../common/fake_env.hpp"
#include "ruleeval/parser/template.hpp"

using namespace ruleeval;
using namespace ruleeval::tmpl;

namespace {

std::string render_with(std::string_view text, const Value& data, const FuncMap& funcs,
                        Dialect d = Dialect::kPrometheus, MissingKey mk = MissingKey::kZero) {
  ParseOptions po;
  po.name = "t";
  po.dialect = d;
  auto t = parse(text, po);
  if (!t) return "PARSE: " + t.error().message;
  RenderOptions ro;
  ro.missing_key = mk;
  auto r = render(*t, data, funcs, ro);
  if (!r) return "ERR: " + r.error().message;
  return *r;
}

FuncMap prom_funcs() {
  PrometheusContext ctx;
  ctx.external_url = "https://prom.example.com/prefix";
  ctx.now_seconds = 1700000000.5;
  ctx.query = [](std::string_view expr) -> Result<std::vector<QuerySample>> {
    if (expr == "up") {
      return std::vector<QuerySample>{{Labels{{"instance", "b:9090"}, {"job", "x"}}, 1},
                                      {Labels{{"instance", "a:9090"}, {"job", "x"}}, 0}};
    }
    if (expr == "bad") return make_error("bad_data: parse error");
    return std::vector<QuerySample>{};
  };
  return prometheus_functions(ctx);
}

std::string prom(std::string_view text, const Value& data = Value()) {
  return render_with(text, data, prom_funcs());
}

// Renders {{ func ARG }} with the Prometheus functions.
std::string fn1(std::string_view func, std::string_view arg) {
  return prom("{{ " + std::string(func) + " " + std::string(arg) + " }}");
}

Value alert_data(double value) {
  return alert_template_data(Labels{{"instance", "host:9100"}, {"job", "node"}},
                             Labels{{"cluster", "eu1"}}, "http://prom:9090", value);
}

}  // namespace

TEST_CASE("values print like Go's fmt") {
  CHECK(prom("{{ 1 }} {{ 1.5 }} {{ 1e6 }} {{ 123456.0 }} {{ 0.00001 }}") ==
        "1 1.5 1e+06 123456 1e-05");
  CHECK(prom("{{ true }} {{ \"s\" }} {{ . }}") == "true s <no value>");
  CHECK(go_format_float(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(go_format_float(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(go_format_float(std::nan("")) == "NaN");
  CHECK(go_format_float(1234567.0) == "1.234567e+06");
  CHECK(go_format_float(0.5) == "0.5");
  CHECK(go_format_float(-2.0) == "-2");
  Map m;
  m.emplace("b", Value(2));
  m.emplace("a", Value("x"));
  CHECK(Value(m).to_string() == "map[a:x b:2]");
  CHECK(Value(List{Value(1), Value("a"), Value(2.5)}).to_string() == "[1 a 2.5]");
  CHECK(go_format_time(Time{1435065584128000000}) == "2015-06-23 13:19:44.128 +0000 UTC");
  CHECK(go_format_duration(Duration{3723500000000}) == "1h2m3.5s");
  CHECK(go_format_duration(Duration{500000000}) == "500ms");
  CHECK(go_format_duration(Duration{0}) == "0s");
}

TEST_CASE("an alert template renders labels, external labels and the value") {
  auto t = parse_alert_template(
      "{{ $labels.instance }} of {{ $labels.job }} in {{ $externalLabels.cluster }} is "
      "{{ $value }} ({{ .Value | humanize }}) {{ $labels.missing }}| {{ $externalURL }}",
      "HostDown");
  REQUIRE(t);
  auto r = render(*t, alert_data(1234567), prom_funcs());
  REQUIRE(r);
  CHECK(*r == "host:9100 of node in eu1 is 1.234567e+06 (1.235M) | http://prom:9090");
}

TEST_CASE("missing map keys follow the missingkey option") {
  Map m;
  m.emplace("present", Value("yes"));
  Value data(m);
  auto labels = Value::from_labels(Labels{{"a", "1"}});
  CHECK(render_with("{{ .absent }}", data, {}, Dialect::kPrometheus, MissingKey::kZero) ==
        "<no value>");
  CHECK(render_with("[{{ .absent }}]", labels, {}, Dialect::kPrometheus, MissingKey::kZero) ==
        "[]");
  CHECK(render_with("[{{ .absent }}]", labels, {}, Dialect::kPrometheus, MissingKey::kDefault) ==
        "[<no value>]");
  CHECK(render_with("{{ .absent }}", labels, {}, Dialect::kPrometheus, MissingKey::kError) ==
        "ERR: template: t:1:3: executing \"t\" at <.absent>: map has no entry for key \"absent\"");
}

TEST_CASE("control structures: if, else if, with, range, break and continue") {
  CHECK(prom("{{ if 0 }}a{{ else if 1 }}b{{ else }}c{{ end }}") == "b");
  CHECK(prom("{{ with \"\" }}x{{ else }}empty{{ end }}") == "empty");
  CHECK(prom("{{ with $x := 5 }}{{ . }}{{ $x }}{{ end }}") == "55");
  List l{Value("a"), Value("b"), Value("c"), Value("d")};
  CHECK(prom("{{ range $i, $e := . }}{{ $i }}={{ $e }};{{ end }}", Value(l)) == "0=a;1=b;2=c;3=d;");
  CHECK(prom("{{ range . }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ if eq . \"d\" }}{{ break }}"
             "{{ end }}{{ . }}{{ end }}",
             Value(l)) == "ac");
  CHECK(prom("{{ range . }}x{{ else }}none{{ end }}", Value(List{})) == "none");
  Map m;
  m.emplace("z", Value(1));
  m.emplace("a", Value(2));
  CHECK(prom("{{ range $k, $v := . }}{{ $k }}{{ $v }}{{ end }}", Value(m)) == "a2z1");
  CHECK(prom("{{ range 3 }}{{ . }}{{ end }}") == "012");
  CHECK(prom("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}") == "2");
}

TEST_CASE("define, template and block execute named templates") {
  CHECK(
      prom(
          R"~({{ define "t1" }}[{{ . }}]{{ end }}{{ template "t1" "x" }}{{ block "b" 3 }}<{{ . }}>{{ end }})~") ==
      "[x]<3>");
  CHECK(prom(R"~({{ template "nope" }})~") ==
        "ERR: template: t:1:0: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not "
        "defined");
  CHECK(prom(R"~({{ define "x" }}X{{ end }}{{ tmpl "x" . | toLower }})~") == "x");
}

TEST_CASE("builtins behave like Go's") {
  CHECK(prom("{{ and 1 0 2 }} {{ or 0 \"\" 3 }} {{ not 1 }}") == "0 3 false");
  CHECK(prom("{{ len \"abc\" }} {{ index . 1 }} {{ slice \"abcdef\" 1 3 }}",
             Value(List{Value("p"), Value("q")})) == "3 q bc");
  CHECK(prom("{{ print 1 2 \"a\" \"b\" 3 }}") == "1 2ab3");  // no space next to strings
  CHECK(prom("{{ println 1 \"a\" }}") == "1 a\n");
  CHECK(prom("{{ eq 1 2 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 2.5 }} "
             "{{ ge \"b\" \"a\" }}") == "true true true true false true");
  CHECK(prom("{{ html \"<a href='x'>&\" }}") == "&lt;a href=&#39;x&#39;&gt;&amp;");
  CHECK(prom("{{ js \"it's <b>\" }}") == "it\\'s \\u003Cb\\u003E");
  CHECK(prom("{{ urlquery \"a b&c\" }}") == "a+b%26c");
  CHECK(prom("{{ eq 1 1.0 }}") ==
        "ERR: template: t:1:3: executing \"t\" at <eq 1 1.0>: error calling eq: incompatible "
        "types for comparison");
  CHECK(prom("{{ index . 5 }}", Value(List{Value(1)})) ==
        "ERR: template: t:1:3: executing \"t\" at <index . 5>: error calling index: index out of "
        "range: 5");
}

TEST_CASE("printf supports Go's common verbs") {
  CHECK(
      prom(
          R"~({{ printf "%s|%d|%f|%.2f|%v|%q|%x|%g|%e" "a" 42 1.5 3.14159 2.5 "q\"" 255 0.000012 1234.5 }})~") ==
      "a|42|1.500000|3.14|2.5|\"q\\\"\"|ff|1.2e-05|1.234500e+03");
  CHECK(prom(R"~({{ printf "%5s|%-5s|%05d|%+d|%%" "ab" "cd" 42 7 }})~") ==
        "   ab|cd   |00042|+7|%");
  CHECK(prom(R"~({{ printf "%d %s" 1.5 }})~") == "%!d(float64=1.5) %!s(MISSING)");
  CHECK(prom(R"~({{ printf "%d" 1 2 }})~") == "1%!(EXTRA int=2)");
  CHECK(prom(R"~({{ printf "%.1f%%" 99.95 }})~") == "100.0%");
}

TEST_CASE("humanize formats with SI prefixes like Prometheus") {
  CHECK(fn1("humanize", "0") == "0");
  CHECK(fn1("humanize", "1234567") == "1.235M");
  CHECK(fn1("humanize", "1234567.0") == "1.235M");
  CHECK(fn1("humanize", "999") == "999");
  CHECK(fn1("humanize", "1000") == "1k");
  CHECK(fn1("humanize", "0.001") == "1m");
  CHECK(fn1("humanize", "0.0000012") == "1.2u");
  CHECK(fn1("humanize", "-1500") == "-1.5k");
  CHECK(fn1("humanize", "\"2e9\"") == "2G");
  CHECK(fn1("humanize", "\"+Inf\"") == "+Inf");
  CHECK(fn1("humanize", "\"NaN\"") == "NaN");
  CHECK(fn1("humanize", "\"x\"") ==
        "ERR: template: t:1:3: executing \"t\" at <humanize \"x\">: error calling humanize: "
        "strconv.ParseFloat: parsing \"x\": invalid syntax");
}

TEST_CASE("humanize1024 uses binary prefixes") {
  CHECK(fn1("humanize1024", "1024") == "1ki");
  CHECK(fn1("humanize1024", "1") == "1");
  CHECK(fn1("humanize1024", "0.5") == "0.5");
  CHECK(fn1("humanize1024", "1048576") == "1Mi");
  CHECK(fn1("humanize1024", "1536") == "1.5ki");
}

TEST_CASE("humanizeDuration formats seconds like Prometheus") {
  CHECK(fn1("humanizeDuration", "0") == "0s");
  CHECK(fn1("humanizeDuration", "0.5") == "500ms");
  CHECK(fn1("humanizeDuration", "1.5") == "1.5s");
  CHECK(fn1("humanizeDuration", "93784") == "1d 2h 3m 4s");
  CHECK(fn1("humanizeDuration", "3723") == "1h 2m 3s");
  CHECK(fn1("humanizeDuration", "61") == "1m 1s");
  CHECK(fn1("humanizeDuration", "-61") == "-1m 1s");
  CHECK(fn1("humanizeDuration", "0.000001") == "1us");
  CHECK(fn1("humanizeDuration", "\"Inf\"") == "+Inf");
}

TEST_CASE("percentages, timestamps, times and durations") {
  CHECK(fn1("humanizePercentage", "0.1234") == "12.34%");
  CHECK(fn1("humanizePercentage", "1") == "100%");
  CHECK(fn1("humanizeTimestamp", "1435065584.128") == "2015-06-23 13:19:44.128 +0000 UTC");
  CHECK(fn1("humanizeTimestamp", "0") == "1970-01-01 00:00:00 +0000 UTC");
  CHECK(fn1("humanizeTimestamp", "\"NaN\"") == "NaN");
  CHECK(fn1("toTime", "1435065584") == "2015-06-23 13:19:44 +0000 UTC");
  CHECK(fn1("toDuration", "90.5") == "1m30.5s");
  CHECK(fn1("parseDuration", "\"1h30m\"") == "5400");
  CHECK(prom("{{ now }}") == "1.7000000005e+09");
}

TEST_CASE("string, regexp and URL functions") {
  CHECK(fn1("title", "\"hello wide-world\"") == "Hello Wide-World");
  CHECK(fn1("toUpper", "\"abc\"") == "ABC");
  CHECK(fn1("toLower", "\"ABC\"") == "abc");
  CHECK(prom(R"~({{ reReplaceAll "(a+)(b)" "[$2$1]" "xaabyab" }})~") == "x[baa]y[ba]");
  CHECK(prom(R"~({{ reReplaceAll "x*" "-" "abc" }})~") == "-a-b-c-");
  CHECK(prom(R"~({{ reReplaceAll "(?P<h>[^:]+):.*" "${h}" "host:9100" }})~") == "host");
  CHECK(prom(R"~({{ match "^a.c$" "abc" }} {{ match "b" "abc" }} {{ match "^b" "abc" }})~") ==
        "true true false");
  CHECK(prom(R"~({{ match "(" "x" }})~") ==
        "ERR: template: t:1:3: executing \"t\" at <match \"(\" \"x\">: error calling match: "
        "error parsing regexp: missing closing ): `(`");
  CHECK(prom(R"~({{ reReplaceAll "(" "" "x" }})~")
            .ends_with("error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: "
                       "missing closing "
                       "): `(`"));
  CHECK(prom(R"~({{ match "a**" "x" }})~")
            .ends_with("error parsing regexp: invalid nested repetition operator: `**`"));
  CHECK(fn1("stripPort", "\"host:9100\"") == "host");
  CHECK(fn1("stripPort", "\"[::1]:80\"") == "::1");
  CHECK(fn1("stripPort", "\"host\"") == "host");
  CHECK(fn1("stripDomain", "\"node1.example.com:9100\"") == "node1:9100");
  CHECK(fn1("stripDomain", "\"10.0.0.1:9100\"") == "10.0.0.1:9100");
  CHECK(fn1("stripDomain", "\"node1.example.com\"") == "node1");
  CHECK(fn1("graphLink", "\"up == 0\"") == "/graph?g0.expr=up+%3D%3D+0&g0.tab=0");
  CHECK(fn1("tableLink", "\"up\"") == "/graph?g0.expr=up&g0.tab=1");
  CHECK(fn1("urlQueryEscape", "\"a/b c\"") == "a%2Fb+c");
  CHECK(prom("{{ externalURL }} {{ pathPrefix }}") == "https://prom.example.com/prefix /prefix");
  CHECK(prom("{{ safeHtml \"<b>\" }}") == "<b>");
  CHECK(prom("{{ with args 1 \"x\" }}{{ .arg0 }}-{{ .arg1 }}{{ end }}") == "1-x");
}

TEST_CASE("query results can be walked, sorted and picked") {
  CHECK(prom("{{ range query \"up\" }}{{ .Labels.instance }}={{ .Value }} {{ end }}") ==
        "b:9090=1 a:9090=0 ");
  CHECK(prom("{{ range sortByLabel \"instance\" (query \"up\") }}{{ label \"instance\" . }} {{ end "
             "}}") == "a:9090 b:9090 ");
  CHECK(prom("{{ with query \"up\" }}{{ . | first | value | humanize }}{{ end }}") == "1");
  CHECK(prom("{{ query \"up\" | first }}") == "&{map[instance:b:9090 job:x] 1}");
  CHECK(prom("{{ query \"none\" | first }}") ==
        "ERR: template: t:1:18: executing \"t\" at <first>: error calling first: first() called "
        "on vector with no elements");
  CHECK(prom("{{ query \"bad\" }}") ==
        "ERR: template: t:1:3: executing \"t\" at <query \"bad\">: error calling query: "
        "bad_data: parse error");
  // Without a query callback, query fails at run time.
  CHECK(render_with("{{ query \"up\" }}", Value(), prometheus_functions({}))
            .starts_with(
                "ERR: template: t:1:3: executing \"t\" at <query \"up\">: error calling query:"));
}

TEST_CASE("runtime errors read like Go's and expand to Prometheus's text") {
  CHECK(prom("{{ humanize 1 2 }}") ==
        "ERR: template: t:1:3: executing \"t\" at <humanize 1 2>: wrong number of args for "
        "humanize: want 1 got 2");
  CHECK(prom("{{ \"x\" 1 }}") ==
        "ERR: template: t:1:3: executing \"t\" at <\"x\" 1>: can't give argument to non-function "
        "\"x\"");
  // Go reports a field chain's error at its second field (".foo", byte 9): amtool 0.25 prints
  // ":1:12" for `{{ .Receiver.X }}` and ":1:19" for `<p>{{ .CommonLabels.Foo.Bar }}`.
  CHECK(prom("{{ .Value.foo }}", alert_data(1)) ==
        "ERR: template: t:1:9: executing \"t\" at <.Value.foo>: can't evaluate field foo in type "
        "float64");
  CHECK(prom("{{ toUpper 1 }}") ==
        "ERR: template: t:1:3: executing \"t\" at <toUpper 1>: wrong type for value; expected "
        "string; got int");

  auto t = parse_alert_template("{{ humanize \"x\" }}", "A");
  REQUIRE(t);
  auto r = render(*t, alert_data(1), prom_funcs());
  REQUIRE_FALSE(r);
  CHECK(error_expanding_template(*t, r.error()) ==
        "<error expanding template: error executing template __alert_A: template: __alert_A:1:" +
            std::to_string(kAlertTemplatePrefix.size() + 3) +
            ": executing \"__alert_A\" at <humanize \"x\">: error calling humanize: "
            "strconv.ParseFloat: parsing \"x\": invalid syntax>");
  CHECK(r.error().where.col == 4);
}

TEST_CASE("runaway templates are stopped") {
  ParseOptions po;
  auto t = parse(R"~({{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }})~", po);
  REQUIRE(t);
  auto r = render(*t, Value(), {});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("exceeded maximum template depth (100)") != std::string::npos);
  RenderOptions ro;
  ro.max_output_bytes = 100;
  auto big = parse("{{ range 1000 }}0123456789{{ end }}", po);
  REQUIRE(big);
  CHECK_FALSE(render(*big, Value(), {}, ro));
}

TEST_CASE("Alertmanager functions") {
  static FakeEnv clock(90'000);  // 90 s after the epoch
  auto am = [](std::string_view text, const Value& data = Value()) {
    return render_with(text, data, alertmanager_functions(&clock),
                       Dialect::kAlertmanager, MissingKey::kDefault);
  };
  CHECK(am("{{ join \", \" (stringSlice \"a\" \"b\") }}") == "a, b");
  CHECK(am("{{ stringSlice \"a\" \"b\" | join \"-\" }}") == "a-b");
  CHECK(am("{{ trimSpace \"  x \" }}|{{ toUpper \"a\" }}|{{ title \"foo bar\" }}") ==
        "x|A|Foo Bar");
  Map m;
  m.emplace("T", Value(Time{1435065584128000000}));
  CHECK(am("{{ .T.Missing }}", Value(m)).starts_with("ERR:"));
  CHECK(am("{{ date \"2006-01-02 15:04:05.000 MST Mon Jan _2\" .T }}", Value(m)) ==
        "2015-06-23 13:19:44.128 UTC Tue Jun 23");
  CHECK(am("{{ (tz \"UTC\" .T).Foo }}", Value(m)).starts_with("ERR:"));
  Map z;
  z.emplace("T", Value(Time{0}));
  CHECK(am("{{ since .T }}", Value(z)) == "1m30s");
  CHECK(am("{{ humanizeDuration 90 }}") == "1m 30s");
  CHECK(am("{{ .nothing }}", Value(Map{})) == "<no value>");
}

TEST_CASE("Alertmanager notification data exposes alerts, label maps and their methods") {
  NotificationData d;
  d.receiver = "team-x";
  d.status = "firing";
  d.external_url = "http://am:9093";
  d.common_labels = Labels{{"alertname", "HighCPU"}, {"cluster", "eu"}, {"a", "1"}};
  d.group_labels = Labels{{"alertname", "HighCPU"}};
  d.common_annotations = Labels{{"summary", "CPU is high"}};
  d.alerts.push_back({"firing", Labels{{"alertname", "HighCPU"}, {"instance", "h1"}},
                      Labels{{"summary", "s1"}}, Time{1'700'000'000'000'000'000}, Time{},
                      "http://gen/1", "abc"});
  d.alerts.push_back({"resolved", Labels{{"alertname", "HighCPU"}, {"instance", "h2"}}, Labels{},
                      Time{}, Time{}, "", "def"});
  const Value data = notification_template_data(d);
  auto am = [&](std::string_view text) {
    return render_with(text, data, alertmanager_functions(), Dialect::kAlertmanager,
                       MissingKey::kDefault);
  };
  CHECK(am("[{{ .Status | toUpper }}:{{ .Alerts.Firing | len }}] {{ .CommonLabels.alertname }} "
           "for {{ .Receiver }}") == "[FIRING:1] HighCPU for team-x");
  CHECK(am("{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}") ==
        "alertname=HighCPU a=1 cluster=eu ");
  CHECK(am("{{ .CommonLabels.Names | join \",\" }}") == "alertname,a,cluster");
  CHECK(am("{{ .CommonLabels.Values | join \",\" }}") == "HighCPU,1,eu");
  CHECK(am("{{ (.CommonLabels.Remove (stringSlice \"a\" \"cluster\")).Names }}") == "[alertname]");
  CHECK(am("{{ range .Alerts.Resolved }}{{ .Labels.instance }} {{ .Fingerprint }}{{ end }}") ==
        "h2 def");
  CHECK(am("{{ range .Alerts }}{{ .Annotations.summary }};{{ end }}") == "s1;<no value>;");
  CHECK(am("{{ (index .Alerts 0).StartsAt }}") == "2023-11-14 22:13:20 +0000 UTC");
  CHECK(am("{{ .Nope }}") ==
        "ERR: template: t:1:3: executing \"t\" at <.Nope>: can't evaluate field Nope in type "
        "template.Data");
}

TEST_CASE("definitions from another template file can be added and called") {
  ParseOptions po;
  po.dialect = Dialect::kAlertmanager;
  auto lib =
      parse(R"~({{ define "title" }}[{{ .Status | toUpper }}] {{ .Receiver }}{{ end }})~", po);
  REQUIRE(lib);
  auto user = parse(R"~({{ template "title" . }}!)~", po);
  REQUIRE(user);
  NotificationData d;
  d.status = "resolved";
  d.receiver = "ops";
  CHECK_FALSE(render(*user, notification_template_data(d), alertmanager_functions()));
  add_definitions(*user, *lib);
  auto r = render(*user, notification_template_data(d), alertmanager_functions());
  REQUIRE(r);
  CHECK(*r == "[RESOLVED] ops!");
  CHECK(render_named(*user, "title", notification_template_data(d), alertmanager_functions())
            .value_or("") == "[RESOLVED] ops");
}
