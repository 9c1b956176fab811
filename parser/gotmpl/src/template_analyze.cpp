// Static analysis of parsed templates for the linter (pint's alerts/template check): which labels
// a template reads, and whether it uses $value or query.
#include "ruleeval/parser/template_analyze.hpp"

namespace ruleeval::tmpl {
namespace {

class Analyzer {
 public:
  explicit Analyzer(const Template& t) : t_(t) {}

  void nodes(const std::vector<Node>& list) {
    for (const auto& n : list) node(n);
  }

  TemplateUsage usage;

 private:
  bool in_user_text(uint32_t pos) const { return pos >= t_.prefix_len; }

  void node(const Node& n) {
    switch (n.kind) {
      case Node::Kind::kText:
      case Node::Kind::kBreak:
      case Node::Kind::kContinue:
        return;
      case Node::Kind::kTemplate:
        if (n.has_pipe) pipeline(n.pipe);
        return;
      case Node::Kind::kAction:
      case Node::Kind::kIf:
      case Node::Kind::kRange:
      case Node::Kind::kWith:
        pipeline(n.pipe);
        nodes(n.list);
        nodes(n.else_list);
        return;
    }
  }

  void pipeline(const Pipeline& p) {
    if (!in_user_text(p.pos)) return;  // the Prometheus prefix itself
    for (const auto& c : p.cmds) command(c);
  }

  void add_label(const std::string& name, uint32_t pos) {
    usage.labels.push_back(LabelReference{name, t_.user_location(pos)});
  }

  void command(const Command& c) {
    // index $labels "name" / index .Labels "name"
    if (c.args.size() >= 3 && c.args[0].kind == Operand::Kind::kIdentifier &&
        c.args[0].name == "index" && is_labels(c.args[1], 0) &&
        c.args[2].kind == Operand::Kind::kString) {
      add_label(c.args[2].str, c.args[2].pos);
    }
    for (const auto& a : c.args) operand(a);
  }

  // $labels, .Labels (fields up to `depth`).
  static bool is_labels(const Operand& o, size_t depth) {
    if (o.kind == Operand::Kind::kVariable && o.name == "$labels" && o.fields.size() == depth) {
      return true;
    }
    return o.kind == Operand::Kind::kField && o.fields.size() == depth + 1 &&
           o.fields[0] == "Labels";
  }

  void operand(const Operand& o) {
    switch (o.kind) {
      case Operand::Kind::kVariable:
        if (o.name == "$labels" && !o.fields.empty()) add_label(o.fields[0], o.pos);
        if (o.name == "$value") usage.uses_value = true;
        // $.Labels.x and $.Value reach the root data from anywhere.
        if (o.name == "$" && o.fields.size() > 1 && o.fields[0] == "Labels") {
          add_label(o.fields[1], o.pos);
        }
        if (o.name == "$" && !o.fields.empty() && o.fields[0] == "Value") usage.uses_value = true;
        break;
      case Operand::Kind::kField:
        if (o.fields[0] == "Labels" && o.fields.size() > 1) add_label(o.fields[1], o.pos);
        if (o.fields[0] == "Value") usage.uses_value = true;
        break;
      case Operand::Kind::kIdentifier:
        if (o.name == "query") usage.uses_query = true;
        if (o.name.starts_with("humanize")) usage.uses_humanize = true;
        break;
      case Operand::Kind::kPipeline:
        if (o.pipe) {
          for (const auto& c : o.pipe->cmds) command(c);
        }
        break;
      default:
        break;
    }
  }

  const Template& t_;
};

}  // namespace

TemplateUsage analyze(const Template& t) {
  Analyzer a(t);
  a.nodes(t.nodes());
  for (const auto& [name, body] : t.defines) a.nodes(body);
  return a.usage;
}

}  // namespace ruleeval::tmpl
