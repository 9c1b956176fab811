#include <doctest/doctest.h>

#include "ruleeval/rules/report.hpp"

using namespace ruleeval::rules;

namespace {
std::vector<Diagnostic> sample() {
  Diagnostic d;
  d.check = "alerts/for";
  d.severity = Severity::Warning;
  d.message = "for: 0s is \"redundant\"";
  d.where = {"r.yml", 3, 10};
  d.group = "g";
  d.rule = "R";
  Diagnostic e;
  e.check = "yaml/parse";
  e.severity = Severity::Error;
  e.message = "a < b & c, d: e\nnext";
  e.where = {"r.yml", 0, 0};
  return {d, e};
}
}  // namespace

TEST_CASE("text output shows the source line with a caret under the column") {
  RuleFile f;
  f.path = "r.yml";
  f.text = "groups:\n- name: g\n  x:      for: 0s\n";
  const RuleFile* files[] = {&f};
  auto diags = sample();
  const std::string out = render_report(diags, OutputFormat::Text, files);
  CHECK(out ==
        "r.yml:3:10: warning: for: 0s is \"redundant\" [alerts/for]\n"
        " 3 |   x:      for: 0s\n"
        "   |          ^\n"
        "r.yml: error: a < b & c, d: e\nnext [yaml/parse]\n");
}

TEST_CASE("json, github, sarif and checkstyle outputs escape their special characters") {
  auto diags = sample();
  const std::span<const RuleFile* const> none;
  const std::string json = render_report(diags, OutputFormat::Json, none);
  CHECK(json.find("{\"file\":\"r.yml\",\"line\":3,\"column\":10,\"severity\":\"warning\","
                  "\"check\":\"alerts/for\",\"message\":\"for: 0s is \\\"redundant\\\"\","
                  "\"group\":\"g\",\"rule\":\"R\"}") != std::string::npos);
  CHECK(json.find("\\nnext") != std::string::npos);
  const std::string gh = render_report(diags, OutputFormat::Github, none);
  CHECK(gh ==
        "::warning file=r.yml,line=3,col=10,title=alerts/for::for: 0s is \"redundant\"\n"
        "::error file=r.yml,title=yaml/parse::a < b & c, d: e%0Anext\n");
  const std::string sarif = render_report(diags, OutputFormat::Sarif, none);
  CHECK(sarif.find("\"version\":\"2.1.0\"") != std::string::npos);
  CHECK(sarif.find("{\"ruleId\":\"alerts/for\",\"level\":\"warning\",\"message\":{\"text\":\"for: "
                   "0s is \\\"redundant\\\"\"},\"locations\":[{\"physicalLocation\":{"
                   "\"artifactLocation\":{\"uri\":\"r.yml\"},\"region\":{\"startLine\":3,"
                   "\"startColumn\":10}}}]}") != std::string::npos);
  const std::string cs = render_report(diags, OutputFormat::Checkstyle, none);
  CHECK(cs.find("<file name=\"r.yml\">") != std::string::npos);
  CHECK(cs.find("message=\"a &lt; b &amp; c, d: e&#10;next\" source=\"ruleeval.yaml/parse\"") !=
        std::string::npos);
}

TEST_CASE("summaries count problems by severity") {
  auto diags = sample();
  CHECK(to_string(summarize(diags, 2)) == "2 problems (1 error, 1 warning, 0 info) in 2 files");
  CHECK(to_string(summarize({}, 1)) == "no problems in 1 file");
  CHECK(parse_output_format("sarif") == OutputFormat::Sarif);
  CHECK_FALSE(parse_output_format("xml").has_value());
}
