// `ruleeval promql parse|format EXPR`: parse a PromQL expression and print its AST (text or
// --json) or its canonical form. EXPR `-` reads stdin. Invalid input: the rendered error, exit 1.
#include <CLI/CLI.hpp>

#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "commands.hpp"
#include "features.hpp"
#include "ruleeval/parser/promql.hpp"

namespace ruleeval::cli {
namespace {

namespace pq = ruleeval::promql;

std::string read_expr(const std::string& arg) {
  if (arg != "-") return arg;
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

std::string matchers_text(const pq::VectorSelector& vs) {
  std::string out;
  for (const auto& m : vs.matchers) {
    if (!out.empty()) out += ", ";
    out += m.name;
    out += pq::to_string(m.op);
    out += '"' + m.value + '"';
  }
  return out;
}

// An indented tree, one node per line, with the node's canonical text.
void print_tree(const pq::Expr& e, int depth, std::ostream& os) {
  std::string pad(static_cast<size_t>(depth) * 2, ' ');
  std::string kind;
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, pq::NumberLiteral>) {
          kind = "NumberLiteral";
        } else if constexpr (std::is_same_v<T, pq::StringLiteral>) {
          kind = "StringLiteral";
        } else if constexpr (std::is_same_v<T, pq::VectorSelector>) {
          kind = "VectorSelector name=\"" + n.name + "\" matchers=[" + matchers_text(n) + "]";
          if (n.offset) kind += " offset=" + std::to_string(n.offset) + "ms";
        } else if constexpr (std::is_same_v<T, pq::MatrixSelector>) {
          kind = "MatrixSelector range=" + std::to_string(n.range) + "ms";
        } else if constexpr (std::is_same_v<T, pq::Subquery>) {
          kind = "Subquery range=" + std::to_string(n.range) + "ms step=" +
                 std::to_string(n.step) + "ms";
        } else if constexpr (std::is_same_v<T, pq::Paren>) {
          kind = "Paren";
        } else if constexpr (std::is_same_v<T, pq::Unary>) {
          kind = n.op == pq::UnaryOp::Minus ? "Unary -" : "Unary +";
        } else if constexpr (std::is_same_v<T, pq::Binary>) {
          kind = "Binary " + std::string(pq::to_string(n.op));
          if (n.return_bool) kind += " bool";
        } else if constexpr (std::is_same_v<T, pq::Aggregate>) {
          kind = "Aggregate " + std::string(pq::to_string(n.op));
        } else if constexpr (std::is_same_v<T, pq::Call>) {
          kind = "Call " + std::string(n.func->name);
        }
      },
      e.node);
  os << pad << kind << " :: " << pq::to_string(e.type()) << " [" << e.span.begin << ","
     << e.span.end << ")  " << pq::format(e) << "\n";
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, pq::MatrixSelector>) {
          print_tree(*n.vector, depth + 1, os);
        } else if constexpr (std::is_same_v<T, pq::Subquery> || std::is_same_v<T, pq::Paren> ||
                             std::is_same_v<T, pq::Unary>) {
          print_tree(*n.expr, depth + 1, os);
        } else if constexpr (std::is_same_v<T, pq::Binary>) {
          print_tree(*n.lhs, depth + 1, os);
          print_tree(*n.rhs, depth + 1, os);
        } else if constexpr (std::is_same_v<T, pq::Aggregate>) {
          if (n.param) print_tree(*n.param, depth + 1, os);
          print_tree(*n.expr, depth + 1, os);
        } else if constexpr (std::is_same_v<T, pq::Call>) {
          for (const auto& a : n.args) print_tree(*a, depth + 1, os);
        }
      },
      e.node);
}

}  // namespace

void register_promql(CLI::App& app, int& exit_code) {
  auto* sub = app.add_subcommand("promql", "Parse and print PromQL expressions");
  sub->require_subcommand(1);

  struct Opts {
    std::string expr;
    bool json = false;
    bool experimental = false;
    std::vector<std::string> features;
  };
  static Opts parse_opts;
  static Opts format_opts;

  auto run = [&exit_code](const Opts& o, bool format_only) {
    unsigned features = o.experimental ? pq::kFeatureAllPromql : 0u;
    if (std::string unknown; !parse_features(o.features, features, unknown)) {
      std::cerr << "ruleeval promql: unknown feature \"" << unknown << "\"\n";
      exit_code = 2;
      return;
    }
    std::string input = read_expr(o.expr);
    auto r = pq::parse(input, pq::parse_options_for(features));
    if (!r) {
      std::cerr << pq::render_parse_error(r.error(), input);
      exit_code = 1;
      return;
    }
    if (format_only) {
      std::cout << pq::format(**r) << "\n";
    } else if (o.json) {
      std::cout << pq::to_json(**r) << "\n";
    } else {
      print_tree(**r, 0, std::cout);
    }
    exit_code = 0;
  };

  auto* p = sub->add_subcommand("parse", "Print the AST of EXPR (`-` reads stdin)");
  p->add_option("expr", parse_opts.expr, "PromQL expression")->required();
  p->add_flag("--json", parse_opts.json, "Print the AST as JSON");
  p->add_flag("--experimental", parse_opts.experimental,
              "Enable every experimental PromQL feature (functions, extended range selectors, fill modifiers)");
  p->add_option("--enable-feature", parse_opts.features,
                "Enable experimental PromQL (promql-experimental-functions, ...)")
      ->allow_extra_args(false);
  p->callback([run] { run(parse_opts, false); });

  auto* f = sub->add_subcommand("format", "Print EXPR in canonical form (`-` reads stdin)");
  f->add_option("expr", format_opts.expr, "PromQL expression")->required();
  f->add_flag("--experimental", format_opts.experimental,
              "Enable every experimental PromQL feature (functions, extended range selectors, fill modifiers)");
  f->add_option("--enable-feature", format_opts.features,
                "Enable experimental PromQL (promql-experimental-functions, ...)")
      ->allow_extra_args(false);
  f->callback([run] { run(format_opts, true); });
}

}  // namespace ruleeval::cli
