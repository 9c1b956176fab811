// Go text/template's parse tree as ruleeval keeps it: operands, commands, pipelines, nodes and
// the parsed Template with its {{define}}s, plus Go's String() of nodes for error messages.
// A parsed Template is immutable and may be read (rendered) from several threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include "ruleeval/common/error.hpp"

namespace ruleeval::tmpl {

struct Pipeline;

struct Operand {
  enum class Kind : uint8_t {
    kDot,         // .
    kField,       // .A.B            (fields)
    kVariable,    // $x.A.B          (name = "$x", fields)
    kIdentifier,  // a function name (name)
    kString,      // "..." or `...`  (str = the unquoted value)
    kNumber,      // 1, 1.5, 0x1f, 'a' (is_int, int_value, float_value, str = source text)
    kBool,        // true / false    (bool_value)
    kNil,         // nil
    kPipeline,    // ( pipeline ).A  (pipe, fields)
  };
  Kind kind = Kind::kNil;
  uint32_t pos = 0;  // byte offset in the parsed text
  std::string name;
  std::string str;
  std::vector<std::string> fields;
  bool bool_value = false;
  bool is_int = false;
  int64_t int_value = 0;
  double float_value = 0;
  std::shared_ptr<const Pipeline> pipe;
};

struct Command {
  uint32_t pos = 0;
  std::vector<Operand> args;  // args[0] is the function, field or value
};

struct Pipeline {
  uint32_t pos = 0;
  bool is_assign = false;         // `$x = ...` rather than `$x := ...`
  std::vector<std::string> decl;  // declared variables, e.g. {"$i", "$e"}
  std::vector<Command> cmds;      // stages joined by |
};

struct Node {
  enum class Kind : uint8_t { kText, kAction, kIf, kRange, kWith, kTemplate, kBreak, kContinue };
  Kind kind = Kind::kText;
  uint32_t pos = 0;
  std::string text;        // kText: the literal text; kTemplate: the template name
  bool has_pipe = false;   // kTemplate: whether a pipeline was given
  Pipeline pipe;           // kAction, kIf, kRange, kWith, kTemplate
  std::vector<Node> list;  // kIf, kRange, kWith: the body
  std::vector<Node> else_list;
};

// The parsed template plus every {{define}}/{{block}} found in it.
struct Template {
  std::string name;
  std::string source;       // the full parsed text (including a Prometheus prefix, if any)
  uint32_t prefix_len = 0;  // bytes of prefix before the user's text
  std::vector<Node> root;
  // When set, root is empty and these are the template's nodes, shared with other templates of
  // the same text (a rule file's repeated annotations: one tree, each copy with its own name).
  // Read the nodes with nodes().
  std::shared_ptr<const std::vector<Node>> shared_root;
  // The prefix's nodes when they were lowered once and are shared by every template parsed with
  // the same prefix (null otherwise: then root starts with them). render() runs them before
  // root, in the same scope, so the variables they declare ($labels, $value, ...) exist.
  std::shared_ptr<const std::vector<Node>> prelude;
  std::map<std::string, std::vector<Node>, std::less<>> defines;
  // Go-style messages count lines of the user's text only (ParseOptions::go_positions_in_text).
  bool go_positions_in_text = false;

  const std::vector<Node>& nodes() const { return shared_root ? *shared_root : root; }

  // Go's "line:col" for a byte offset of source (col is the 0-based byte in the line, as Go
  // prints it in execution errors).
  std::string go_position(uint32_t pos) const;
  // 1-based line:col relative to the user's text (after the prefix).
  SourceLocation user_location(uint32_t pos) const;
};

// Go's String() of parsed nodes, as shown in execution error contexts.
std::string to_string(const Operand& o);
std::string to_string(const Command& c);
std::string to_string(const Pipeline& p);

}  // namespace ruleeval::tmpl
