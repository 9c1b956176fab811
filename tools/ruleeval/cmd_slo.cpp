// `ruleeval slo generate|validate|test`: SLO specs -> Sloth-compatible burn-rate rules and the
// unit tests that prove them. Flags follow Sloth's. Exit codes: 0 ok, 1 invalid specs or failing
// tests, 2 usage or I/O error.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "ruleeval/common/env.hpp"
#include "ruleeval/engine/rule_unittest.hpp"
#include "ruleeval/parser/duration.hpp"
#include "ruleeval/slo/slo.hpp"

namespace ruleeval::cli {
namespace {

namespace fs = std::filesystem;

struct SloArgs {
  std::string input, out = "-", period = "30d", windows_path, tests_out, style = "sloth";
  std::vector<std::string> extra_labels;
  bool disable_alerts = false, disable_recordings = false;
};

bool read_all(const std::string& path, std::string& out) {
  auto text = Env::Default()->read_file(path, kMaxInputFileBytes, Env::Streams::kAllow);
  if (!text) return false;
  out = std::move(*text);
  return true;
}

bool write_all(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  o << text;
  return static_cast<bool>(o);
}

// The spec files of INPUT: the file, or every *.yaml/*.yml under the folder (sorted).
std::vector<fs::path> discover(const std::string& input) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(input, ec)) {
    for (auto it = fs::recursive_directory_iterator(input, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      auto ext = it->path().extension().string();
      if (it->is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.emplace_back(input);
  }
  return files;
}

struct Generated {
  fs::path spec;
  std::vector<slo::SpecDoc> docs;
  std::vector<slo::DocResult> results;
  std::string text;
};

// Loads and generates every file. Prints errors; returns 0, 1 (invalid) or 2 (usage/I/O).
int run_generate(const SloArgs& a, std::vector<Generated>& out, bool generate_rules) {
  auto period = parse_duration(a.period);
  if (!period || *period <= 0) {
    std::cerr << "ruleeval slo: --default-slo-period: " << (period ? "must be positive" : period.error().message) << "\n";
    return 2;
  }
  slo::WindowsCatalog catalog = slo::WindowsCatalog::builtin();
  if (!a.windows_path.empty()) {
    auto c = slo::WindowsCatalog::load_dir(a.windows_path);
    if (!c) {
      std::cerr << c.error().to_string() << "\n";
      return 1;
    }
    catalog = std::move(*c);
  }
  slo::GenerateOptions g;
  g.windows = &catalog;
  g.disable_alerts = a.disable_alerts;
  g.disable_recordings = a.disable_recordings;
  g.style = a.style == "pyrra" ? slo::Style::Pyrra : slo::Style::Sloth;
  for (const auto& kv : a.extra_labels) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "ruleeval slo: --extra-labels: expected key=value, got \"" << kv << "\"\n";
      return 2;
    }
    std::string k = kv.substr(0, eq);
    bool ok = !std::isdigit(static_cast<unsigned char>(k[0]));
    for (char ch : k) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
    if (!ok) {
      std::cerr << "ruleeval slo: --extra-labels: invalid label name \"" << k << "\"\n";
      return 2;
    }
    g.extra_labels[k] = kv.substr(eq + 1);
  }
  auto files = discover(a.input);
  if (files.empty()) {
    std::cerr << "ruleeval slo: 0 slo specs have been discovered in " << a.input << "\n";
    return 2;
  }
  int rc = 0;
  for (const auto& f : files) {
    Generated gen;
    gen.spec = f;
    std::string text;
    if (!read_all(f.string(), text)) {
      std::cerr << f.string() << ": cannot read file\n";
      return 2;
    }
    slo::LoadOptions lo;
    lo.default_period_ms = *period;
    auto loaded = slo::load_specs(text, f.string(), lo);
    for (const auto& e : loaded.errors) std::cerr << e.to_string() << "\n";
    if (!loaded.errors.empty()) {
      rc = 1;
      continue;
    }
    gen.docs = std::move(loaded.docs);
    bool ok = true;
    for (const auto& d : gen.docs) {
      if (!generate_rules && d.kind == slo::SpecKind::Pyrra) continue;
      if (d.kind == slo::SpecKind::Pyrra && g.style != slo::Style::Pyrra) {
        std::cerr << d.where.to_string() << ": Pyrra specs need --style pyrra\n";
        ok = false;
        continue;
      }
      if (d.kind != slo::SpecKind::Pyrra && g.style == slo::Style::Pyrra) {
        std::cerr << d.where.to_string() << ": --style pyrra applies to Pyrra specs only\n";
        ok = false;
        continue;
      }
      auto r = slo::generate(d, g);
      if (!r) {
        std::cerr << r.error().to_string() << "\n";
        ok = false;
        continue;
      }
      gen.results.push_back(std::move(*r));
    }
    if (!ok) {
      rc = 1;
      continue;
    }
    if (generate_rules)
      for (const auto& r : gen.results) gen.text += slo::render(r, g);
    out.push_back(std::move(gen));
    // DocResult points into docs, whose buffer moved with the vector; re-point by position.
    if (generate_rules)
      for (size_t i = 0; i < out.back().results.size(); ++i) out.back().results[i].doc = &out.back().docs[i];
  }
  return rc;
}

// Output path of a spec with -o: the file itself, or the same relative path under the folder.
fs::path out_path(const SloArgs& a, const fs::path& spec) {
  std::error_code ec;
  if (!fs::is_directory(a.input, ec)) return a.out;
  return fs::path(a.out) / fs::relative(spec, a.input, ec);
}

bool is_k8s_output(const Generated& g) {
  for (const auto& r : g.results)
    if (r.doc->kind == slo::SpecKind::SlothK8s) return true;
  return false;
}

// Writes the tests of `g` into `dir`; returns the test files written (empty + message on error).
int write_tests(const SloArgs& a, const Generated& g, const fs::path& dir, const fs::path* rules_file,
                std::vector<fs::path>& tests) {
  slo::GenerateOptions go;
  std::string stem = g.spec.stem().string();
  // promtool reads plain rule groups, and only a file's first YAML document: the tests get their
  // own single-document copy of the groups. One copy per document, so that the tests of one SLO
  // object do not see another's alerts (Pyrra's absent alerts share their name).
  auto rules_for = [&](size_t doc) -> std::optional<fs::path> {
    if (rules_file && !is_k8s_output(g) && g.results.size() == 1) return *rules_file;
    fs::path rules = dir / (stem + (doc ? "-" + std::to_string(doc) : "") + ".rules.yml");
    std::vector<slo::Group> groups;
    for (const auto& s : g.results[doc].slos)
      for (const auto& gr : s.groups) groups.push_back(gr);
    if (!write_all(rules, slo::render_groups_yaml(groups))) {
      std::cerr << rules.string() << ": cannot write file\n";
      return std::nullopt;
    }
    return rules;
  };
  int i = 0;
  for (size_t doc = 0; doc < g.results.size(); ++doc) {
    const auto& r = g.results[doc];
    auto rules = rules_for(doc);
    if (!rules) return 2;
    std::error_code ec;
    fs::path rel = fs::relative(fs::absolute(*rules, ec), fs::absolute(dir, ec), ec);
    auto t = slo::generate_tests(r, rel.string(), go);
    if (!t) {
      if (t.error().message.find("no burn-rate alerts") != std::string::npos) {
        std::cerr << g.spec.string() << ": no tests written: " << t.error().message << "\n";
        continue;
      }
      std::cerr << t.error().to_string() << "\n";
      return 1;
    }
    fs::path p = dir / (stem + (i ? "-" + std::to_string(i) : "") + "_test.yml");
    ++i;
    if (!write_all(p, *t)) {
      std::cerr << p.string() << ": cannot write file\n";
      return 2;
    }
    tests.push_back(p);
  }
  (void)a;
  return 0;
}

void add_common(CLI::App* c, SloArgs& a) {
  c->add_option("-i,--input", a.input, "SLO spec file or folder (discovered recursively)")->required();
  c->add_option("--default-slo-period", a.period, "SLO period when the spec has none (30d, 28d, 7d or a windows file's)");
  c->add_option("--slo-period-windows-path", a.windows_path, "folder of Sloth AlertWindows files (replaces the built-in ones)");
}

}  // namespace

void register_slo(CLI::App& app, int& exit_code) {
  auto* slo_cmd = app.add_subcommand("slo", "SLO specs (Sloth, OpenSLO, Pyrra) -> burn-rate rules and their tests");
  slo_cmd->require_subcommand(1);
  static SloArgs a;

  auto* gen = slo_cmd->add_subcommand("generate", "generate Sloth-compatible rules");
  add_common(gen, a);
  gen->add_option("-o,--out", a.out, "output file, or folder mirroring an input folder (default stdout)");
  gen->add_option("-l,--extra-labels", a.extra_labels, "extra label k=v on every rule (repeatable)");
  gen->add_flag("--disable-alerts", a.disable_alerts, "no alerting rules");
  gen->add_flag("--disable-recordings", a.disable_recordings, "no recording rules");
  gen->add_option("--tests-out", a.tests_out, "also write a promtool unit-test file per spec into this folder");
  gen->add_option("--style", a.style, "sloth (default) or pyrra (for Pyrra specs)")->check(CLI::IsMember({"sloth", "pyrra"}));
  gen->callback([&exit_code] {
    std::vector<Generated> gens;
    int rc = run_generate(a, gens, true);
    if (rc == 2) {
      exit_code = 2;
      return;
    }
    std::error_code ec;
    bool dir_in = fs::is_directory(a.input, ec);
    if (dir_in && a.out == "-" && gens.size() > 1) {
      // Sloth requires an output folder for a folder input; stdout gets every file in turn.
    }
    for (const auto& g : gens) {
      fs::path rules_file;
      bool have_file = false;
      if (a.out == "-") {
        std::cout << g.text;
      } else {
        rules_file = out_path(a, g.spec);
        if (!write_all(rules_file, g.text)) {
          std::cerr << rules_file.string() << ": cannot write file\n";
          exit_code = 2;
          return;
        }
        have_file = true;
      }
      if (!a.tests_out.empty()) {
        std::vector<fs::path> tests;
        int t = write_tests(a, g, a.tests_out, have_file ? &rules_file : nullptr, tests);
        if (t) rc = std::max(rc, t);
      }
    }
    exit_code = rc;
  });

  auto* val = slo_cmd->add_subcommand("validate", "validate SLO specs (exit 1 with file:line:col errors)");
  add_common(val, a);
  val->callback([&exit_code] {
    std::vector<Generated> gens;
    int rc = run_generate(a, gens, false);
    if (rc == 0) {
      size_t n = 0;
      for (const auto& g : gens)
        for (const auto& d : g.docs) n += d.slos.size();
      std::cout << "ruleeval slo: " << gens.size() << " file(s), " << n << " SLO(s) valid\n";
    }
    exit_code = rc;
  });

  auto* test = slo_cmd->add_subcommand("test", "generate rules and their unit tests, then run the tests");
  add_common(test, a);
  test->add_option("-l,--extra-labels", a.extra_labels, "extra label k=v on every rule (repeatable)");
  test->add_option("--tests-out", a.tests_out, "keep the rules and tests in this folder (default: a temporary one)");
  test->add_option("--style", a.style, "sloth (default) or pyrra (for Pyrra specs)")->check(CLI::IsMember({"sloth", "pyrra"}));
  test->callback([&exit_code] {
    std::vector<Generated> gens;
    int rc = run_generate(a, gens, true);
    if (rc) {
      exit_code = rc;
      return;
    }
    fs::path dir = a.tests_out;
    bool temp = dir.empty();
    if (temp) {
      char tmpl[] = "/tmp/ruleeval-slo-XXXXXX";
      if (!mkdtemp(tmpl)) {
        std::cerr << "ruleeval slo: cannot create a temporary folder\n";
        exit_code = 2;
        return;
      }
      dir = tmpl;
    }
    std::vector<fs::path> tests;
    for (const auto& g : gens) {
      int t = write_tests(a, g, dir, nullptr, tests);
      if (t) {
        exit_code = t;
        return;
      }
    }
    std::vector<std::string> files;
    files.reserve(tests.size());
    for (const auto& t : tests) files.push_back(t.string());
    engine::RuleUnitTestOptions o;
    o.diff = true;
    exit_code = files.empty() ? 0 : engine::run_rule_unittests(files, o, std::cout, std::cerr);
    if (temp) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  });
}

}  // namespace ruleeval::cli
