// Parsing Go text/template: structure, literals, trim markers, and Go's error messages.
#include <doctest/doctest.h>

#include "ruleeval/parser/template.hpp"

using namespace ruleeval;
using namespace ruleeval::tmpl;

namespace {

Template must_parse(std::string_view text, Dialect d = Dialect::kPrometheus) {
  ParseOptions o;
  o.dialect = d;
  auto r = parse(text, o);
  if (!r) FAIL("unexpected parse error: " << r.error().to_string());
  return std::move(*r);
}

std::string parse_error(std::string_view text, Dialect d = Dialect::kPrometheus) {
  ParseOptions o;
  o.name = "t";
  o.dialect = d;
  auto r = parse(text, o);
  if (r) return "<parsed>";
  return r.error().message;
}

}  // namespace

TEST_CASE("plain text parses into a single text node") {
  auto t = must_parse("hello world");
  REQUIRE(t.root.size() == 1);
  CHECK(t.root[0].kind == Node::Kind::kText);
  CHECK(t.root[0].text == "hello world");
}

TEST_CASE("an action with a field chain and a pipeline keeps its commands and operands") {
  auto t = must_parse("a {{ .Labels.instance | toUpper }} b");
  REQUIRE(t.root.size() == 3);
  const Node& n = t.root[1];
  CHECK(n.kind == Node::Kind::kAction);
  REQUIRE(n.pipe.cmds.size() == 2);
  REQUIRE(n.pipe.cmds[0].args.size() == 1);
  CHECK(n.pipe.cmds[0].args[0].kind == Operand::Kind::kField);
  CHECK(n.pipe.cmds[0].args[0].fields == std::vector<std::string>{"Labels", "instance"});
  CHECK(n.pipe.cmds[1].args[0].kind == Operand::Kind::kIdentifier);
  CHECK(n.pipe.cmds[1].args[0].name == "toUpper");
  CHECK(to_string(n.pipe) == ".Labels.instance | toUpper");
}

TEST_CASE("literals are decoded with Go's rules") {
  auto t =
      must_parse(R"({{ printf "%s\t\x41\u00e9" `raw\n` 42 -7 1.5 0x1F 1e3 'a' true false nil }})");
  const auto& args = t.root[0].pipe.cmds[0].args;
  REQUIRE(args.size() == 12);
  CHECK(args[1].kind == Operand::Kind::kString);
  CHECK(args[1].str == "%s\tA\xc3\xa9");
  CHECK(args[2].str == "raw\\n");
  CHECK(args[3].is_int);
  CHECK(args[3].int_value == 42);
  CHECK(args[4].int_value == -7);
  CHECK_FALSE(args[5].is_int);
  CHECK(args[5].float_value == 1.5);
  CHECK(args[6].int_value == 31);
  CHECK_FALSE(args[7].is_int);
  CHECK(args[7].float_value == 1000.0);
  CHECK(args[8].int_value == 'a');
  CHECK(args[9].kind == Operand::Kind::kBool);
  CHECK(args[9].bool_value);
  CHECK_FALSE(args[10].bool_value);
  CHECK(args[11].kind == Operand::Kind::kNil);
}

TEST_CASE("trim markers remove the whitespace next to the action") {
  auto t = must_parse("a  \n {{- 1 -}} \n\t b");
  REQUIRE(t.root.size() == 3);
  CHECK(t.root[0].text == "a");
  CHECK(t.root[2].text == "b");
  // A dash without a following space is a negative number, not a trim marker.
  auto n = must_parse("x {{-3}} y");
  CHECK(n.root[0].text == "x ");
  CHECK(n.root[1].pipe.cmds[0].args[0].int_value == -3);
}

TEST_CASE("comments are dropped, strings may contain the closing delimiter") {
  auto t = must_parse("a{{/* a comment }} */}}b{{ \"}}\" }}");
  REQUIRE(t.root.size() == 3);
  CHECK(t.root[0].text == "a");
  CHECK(t.root[1].text == "b");
  CHECK(t.root[2].pipe.cmds[0].args[0].str == "}}");
}

TEST_CASE("if, else if and else nest into one if node with a chained else") {
  auto t = must_parse("{{if .A}}a{{else if .B}}b{{else}}c{{end}}");
  REQUIRE(t.root.size() == 1);
  const Node& n = t.root[0];
  CHECK(n.kind == Node::Kind::kIf);
  REQUIRE(n.list.size() == 1);
  REQUIRE(n.else_list.size() == 1);
  const Node& inner = n.else_list[0];
  CHECK(inner.kind == Node::Kind::kIf);
  CHECK(inner.list[0].text == "b");
  CHECK(inner.else_list[0].text == "c");
}

TEST_CASE("range declares index and element variables visible only inside") {
  auto t = must_parse("{{range $i, $e := .}}{{$i}}={{$e}}{{break}}{{else}}none{{end}}");
  const Node& n = t.root[0];
  CHECK(n.kind == Node::Kind::kRange);
  CHECK(n.pipe.decl == std::vector<std::string>{"$i", "$e"});
  CHECK(n.list.size() == 4);
  CHECK(n.else_list.size() == 1);
  CHECK(parse_error("{{range $i := .}}{{end}}{{$i}}") ==
        "template: t:1: undefined variable \"$i\"");
}

TEST_CASE("define, template and block register named templates") {
  auto t = must_parse(R"({{define "x"}}X{{.}}{{end}}{{template "x" .A}}{{block "y" .}}Y{{end}})");
  CHECK(t.defines.contains("x"));
  CHECK(t.defines.contains("y"));
  REQUIRE(t.root.size() == 2);
  CHECK(t.root[0].kind == Node::Kind::kTemplate);
  CHECK(t.root[0].text == "x");
  CHECK(t.root[0].has_pipe);
}

TEST_CASE("parse errors read like Go's") {
  CHECK(parse_error("{{ foo }}") == "template: t:1: function \"foo\" not defined");
  CHECK(parse_error("{{ $x }}") == "template: t:1: undefined variable \"$x\"");
  CHECK(parse_error("{{ .}") == "template: t:1: unexpected \"}\" in operand");
  CHECK(parse_error("{{ .X") == "template: t:1: unclosed action");
  CHECK(parse_error("{{}}") == "template: t:1: missing value for command");
  CHECK(parse_error("{{if}}{{end}}") == "template: t:1: missing value for if");
  CHECK(parse_error("{{if .X}}") == "template: t:1: unexpected EOF");
  CHECK(parse_error("{{end}}") == "template: t:1: unexpected {{end}}");
  CHECK(parse_error("{{else}}") == "template: t:1: unexpected {{else}}");
  CHECK(parse_error("{{ \"abc }}") == "template: t:1: unterminated quoted string");
  CHECK(parse_error("{{ `abc }}") == "template: t:1: unterminated raw quoted string");
  CHECK(parse_error("{{ 3x }}") == "template: t:1: bad number syntax: \"3x\"");
  CHECK(parse_error("{{ (1 }}") == "template: t:1: unclosed left paren");
  CHECK(parse_error("{{ 1) }}") == "template: t:1: unexpected right paren");
  CHECK(parse_error("{{break}}") == "template: t:1: {{break}} outside {{range}}");
  CHECK(parse_error("{{template foo}}") == "template: t:1: unexpected \"foo\" in template clause");
  CHECK(parse_error("{{/* open") == "template: t:1: unclosed comment");
  CHECK(parse_error("{{ 1 | 2 }}") == "template: t:1: non executable command in pipeline stage 2");
  CHECK(parse_error("a\nb\n{{ nope }}") == "template: t:3: function \"nope\" not defined");
}

TEST_CASE("the function set depends on the dialect") {
  CHECK(parse_error("{{ humanize 1 }}", Dialect::kPrometheus) == "<parsed>");
  CHECK(parse_error("{{ humanize 1 }}", Dialect::kAlertmanager) ==
        "template: t:1: function \"humanize\" not defined");
  CHECK(parse_error("{{ join . \",\" }}", Dialect::kAlertmanager) == "<parsed>");
  CHECK(parse_error("{{ join . \",\" }}", Dialect::kPrometheus) ==
        "template: t:1: function \"join\" not defined");
}

TEST_CASE("alert templates get the Prometheus prefix and user-relative positions") {
  auto ok = parse_alert_template("{{ $labels.instance }} is {{ $value }}", "X");
  REQUIRE(ok);
  CHECK(ok->name == "__alert_X");
  CHECK(ok->prefix_len == kAlertTemplatePrefix.size());

  auto bad = parse_alert_template("Instance {{ $label.foo }} down", "InstanceDown");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "template: __alert_InstanceDown:1: undefined variable \"$label\"");
  CHECK(bad.error().where.line == 1);
  CHECK(bad.error().where.col == 13);  // 1-based column of `$label`

  auto bad2 = parse_alert_template("line one\n  {{ nosuch }}", "X");
  REQUIRE_FALSE(bad2);
  CHECK(bad2.error().message == "template: __alert_X:2: function \"nosuch\" not defined");
  CHECK(bad2.error().where.line == 2);
  CHECK(bad2.error().where.col == 6);
}

TEST_CASE("analysis lists label references and $value and query usage") {
  auto t = parse_alert_template(
      "{{ $labels.instance }} {{ .Labels.job }} {{ index $labels \"pod\" }} {{ humanize $value }}",
      "X");
  REQUIRE(t);
  auto u = analyze(*t);
  REQUIRE(u.labels.size() == 3);
  CHECK(u.labels[0].name == "instance");
  CHECK(u.labels[0].where.col == 4);
  CHECK(u.labels[1].name == "job");
  CHECK(u.labels[2].name == "pod");
  CHECK(u.uses_value);
  CHECK_FALSE(u.uses_query);
  CHECK(u.uses_humanize);

  auto root =
      parse_alert_template("{{ range query \"up\" }}{{ $.Labels.pod }}{{ $.Value }}{{ end }}", "X");
  REQUIRE(root);
  auto ur = analyze(*root);
  REQUIRE(ur.labels.size() == 1);
  CHECK(ur.labels[0].name == "pod");
  CHECK(ur.uses_value);
  CHECK(ur.uses_query);

  auto q = parse_alert_template("{{ with query \"up\" }}{{ . | first | value }}{{ end }}", "X");
  REQUIRE(q);
  auto uq = analyze(*q);
  CHECK(uq.uses_query);
  CHECK_FALSE(uq.uses_value);
  CHECK(uq.labels.empty());
}

TEST_CASE("extra function names supplied by the caller are accepted by the parser") {
  ParseOptions o;
  o.name = "t";
  o.extra_functions = {"myfn"};
  auto t = parse("{{ myfn 1 | humanize }}", o);
  REQUIRE(t);
  FuncMap funcs;
  funcs["myfn"] = FuncSpec{[](std::span<const Value> a) -> Result<Value> {
                             return Value(static_cast<double>(a[0].as_int()) * 2000);
                           },
                           1, 1};
  funcs["humanize"] = prometheus_functions({})["humanize"];
  auto r = render(*t, Value(), funcs);
  REQUIRE(r);
  CHECK(*r == "2k");
  CHECK(parse_error("{{ myfn 1 }}") == "template: t:1: function \"myfn\" not defined");
}

namespace {

// Go's String() of a node list, with every position, so two trees compare exactly.
void dump(const std::vector<Node>& nodes, std::string& out) {
  for (const auto& n : nodes) {
    out += "<" + std::to_string(static_cast<int>(n.kind)) + "@" + std::to_string(n.pos) + ":" +
           n.text + "|" + to_string(n.pipe) + "@" + std::to_string(n.pipe.pos);
    for (const auto& c : n.pipe.cmds) {
      out += "#" + std::to_string(c.pos);
      for (const auto& a : c.args) out += "," + std::to_string(a.pos);
    }
    out += "[";
    dump(n.list, out);
    out += "][";
    dump(n.else_list, out);
    out += "]>";
  }
}

}  // namespace

TEST_CASE("an alert template with the prefix lowered once equals parsing prefix + text whole") {
  // parse() lowers Prometheus's prefix once and continues from its state; the tree, positions,
  // variables and errors must be what parsing the concatenated text gives.
  for (std::string_view text :
        {"{{ $labels.instance }} is down", "{{- $value }} x",
        "{{ if gt $value 1.0 }}a{{ else }}b{{ end }}", "plain {{ .Labels.job }}",
        "{{ define \"x\" }}{{ . }}{{ end }}{{ template \"x\" . }}",
        "{{ $x := 1 }}{{ $x }}{{ $externalURL }}"}) {
    CAPTURE(text);
    auto with_prefix = parse_alert_template(text, "R");
    ParseOptions whole;
    whole.name = "__alert_R";
    auto joined = parse(std::string(kAlertTemplatePrefix) + std::string(text), whole);
    REQUIRE(with_prefix);
    REQUIRE(joined);
    std::string a, b;
    REQUIRE(with_prefix->prelude);  // the prefix's nodes are shared, not copied
    dump(*with_prefix->prelude, a);
    dump(with_prefix->root, a);
    dump(joined->root, b);
    CHECK(a == b);
    CHECK(with_prefix->defines.size() == joined->defines.size());
  }
  // Errors point at the same user position as before (line:col relative to the user's text).
  auto bad = parse_alert_template("ok\n{{ $nope }}", "R");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "template: __alert_R:2: undefined variable \"$nope\"");
  CHECK(bad.error().where.line == 2);
  CHECK(bad.error().where.col == 4);
  auto eof = parse_alert_template("{{ if true }}x", "R");
  REQUIRE_FALSE(eof);
  CHECK(eof.error().message.find("unexpected EOF") != std::string::npos);
}

TEST_CASE("a template whose nodes are shared (shared_root) renders, analyzes and escapes as its own") {
  // The rule loader gives rules with the same annotation text one node tree, each template
  // under its own name; errors must name the template that was rendered.
  ParseOptions o;
  o.name = "first";
  o.dialect = Dialect::kAlertmanager;
  auto parsed = parse("<b>{{ .x }}</b>{{ .Labels.job }}{{ index . 1 }}", o);
  REQUIRE(parsed);
  Template own = *parsed;
  Template shared = std::move(*parsed);
  shared.shared_root = std::make_shared<const std::vector<Node>>(std::move(shared.root));
  shared.root = {};
  Template second = shared;
  second.name = "second";
  CHECK(second.nodes().size() == own.nodes().size());
  CHECK(analyze(second).labels.size() == analyze(own).labels.size());
  const Value data = Value::string_map({{"x", "<i>"}});
  auto a = render(own, data, alertmanager_functions());
  auto b = render(second, data, alertmanager_functions());
  REQUIRE(!a);
  REQUIRE(!b);
  CHECK(a.error().message.find("template: first:") != std::string::npos);
  CHECK(b.error().message.find("template: second:") != std::string::npos);
  // html/template edits the nodes of its own copy; the shared tree stays as it was.
  RenderOptions ro;
  ro.html_contextual = true;
  auto own_html = render(own, data, alertmanager_functions(), ro);
  auto shared_html = render(second, data, alertmanager_functions(), ro);
  REQUIRE(!own_html);
  REQUIRE(!shared_html);
  CHECK(shared_html.error().message.find("second") != std::string::npos);
  CHECK(second.nodes().size() == shared.shared_root->size());
  auto plain_again = render(second, data, alertmanager_functions());
  REQUIRE(!plain_again);
  CHECK(plain_again.error().message == b.error().message);
}
