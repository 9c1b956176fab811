// Executing parsed Go templates: Go's text/template evaluation rules (fields, methods, variables,
// pipelines, control structures) and its builtin functions.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <optional>
#include <ranges>

#include "ruleeval/parser/template_exec.hpp"
#include "template_html.hpp"
#include "template_internal.hpp"

namespace ruleeval::tmpl {
namespace {

struct ExecError {
  uint32_t pos = 0;
  std::string context;
  std::string message;
  std::string tmpl_name;
};

template <class T>
using X = std::expected<T, ExecError>;

enum class Flow { kNormal, kBreak, kContinue };

bool is_raw_error(const std::string& m) { return m.starts_with("wrong type for value"); }

class State {
 public:
  State(const Template& t, const FuncMap& funcs, const RenderOptions& opts, const Value& data)
      : t_(t), funcs_(funcs), opts_(opts), vars_{{"$", data}} {}

  X<Flow> walk_list(const Value& dot, const std::vector<Node>& list);
  X<void> call_template(std::string_view name, const Value& dot, uint32_t pos,
                        const std::string& ctx);

  std::string out;
  std::string tmpl_name;

 private:
  ExecError err(uint32_t pos, std::string ctx, std::string msg) const {
    return ExecError{pos, std::move(ctx), std::move(msg), tmpl_name};
  }
  X<Flow> walk(const Value& dot, const Node& n);
  X<Value> eval_pipeline(const Value& dot, const Pipeline& p);
  X<Value> eval_command(const Value& dot, const Command& c, const std::optional<Value>& final);
  X<Value> eval_arg(const Value& dot, const Operand& o);
  X<Value> eval_field_chain(const Value& dot, Value receiver, const Operand& node,
                            std::span<const Operand> args, const std::optional<Value>& final,
                            const Command* cmd);
  X<Value> eval_field(const Value& dot, const Value& receiver, const std::string& name,
                      const Operand& node, std::span<const Operand> args,
                      const std::optional<Value>& final, bool last);
  X<Value> eval_function(const Value& dot, const Command& cmd, const Operand& ident,
                         std::span<const Operand> args, const std::optional<Value>& final);
  X<std::vector<Value>> eval_args(const Value& dot, std::span<const Operand> args,
                                  const std::optional<Value>& final);
  X<Value> var_value(const std::string& name, uint32_t pos) const {
    for (const auto& var : std::views::reverse(vars_)) {
      if (var.first == name) return var.second;
    }
    return std::unexpected(err(pos, name, fmt::format("undefined variable: {}", name)));
  }
  void set_var(const std::string& name, const Value& v) {
    for (auto& var : std::views::reverse(vars_)) {
      if (var.first == name) {
        var.second = v;
        return;
      }
    }
  }
  X<void> check_output(uint32_t pos) const {
    if (out.size() > opts_.max_output_bytes) {
      return std::unexpected(err(pos, "", "template output exceeds the size limit"));
    }
    return {};
  }

  const Template& t_;
  const FuncMap& funcs_;
  const RenderOptions& opts_;
  std::vector<std::pair<std::string, Value>> vars_;
  int depth_ = 0;
  uint64_t iterations_ = 0;
};

X<Flow> State::walk_list(const Value& dot, const std::vector<Node>& list) {
  for (const auto& n : list) {
    auto r = walk(dot, n);
    if (!r) return r;
    if (*r != Flow::kNormal) return r;
  }
  return Flow::kNormal;
}

X<Flow> State::walk(const Value& dot, const Node& n) {
  switch (n.kind) {
    case Node::Kind::kText:
      out += n.text;
      if (auto c = check_output(n.pos); !c) return std::unexpected(c.error());
      return Flow::kNormal;
    case Node::Kind::kAction: {
      auto v = eval_pipeline(dot, n.pipe);
      if (!v) return std::unexpected(v.error());
      if (n.pipe.decl.empty()) {
        if (opts_.html_escape) {
          out += detail::go_html_escape(v->is_nil() ? std::string() : v->to_string());
        } else {
          out += v->is_nil() ? "<no value>" : v->to_string();
        }
        if (auto c = check_output(n.pos); !c) return std::unexpected(c.error());
      }
      return Flow::kNormal;
    }
    case Node::Kind::kIf:
    case Node::Kind::kWith: {
      const size_t mark = vars_.size();
      auto v = eval_pipeline(dot, n.pipe);
      if (!v) return std::unexpected(v.error());
      X<Flow> r = Flow::kNormal;
      if (v->truthy()) {
        r = walk_list(n.kind == Node::Kind::kWith ? *v : dot, n.list);
      } else {
        r = walk_list(dot, n.else_list);
      }
      vars_.resize(mark);
      return r;
    }
    case Node::Kind::kRange: {
      const size_t mark = vars_.size();
      // Go evaluates the range pipeline without declaring its variables as ordinary ones.
      Pipeline p = n.pipe;
      p.decl.clear();
      auto v = eval_pipeline(dot, p);
      if (!v) return std::unexpected(v.error());
      auto one = [&](const Value& key, const Value& elem) -> X<Flow> {
        if (++iterations_ > opts_.max_range_iterations) {
          return std::unexpected(err(n.pos, "range", "too many range iterations"));
        }
        const size_t m = vars_.size();
        if (n.pipe.decl.size() == 1) vars_.emplace_back(n.pipe.decl[0], elem);
        if (n.pipe.decl.size() == 2) {
          vars_.emplace_back(n.pipe.decl[0], key);
          vars_.emplace_back(n.pipe.decl[1], elem);
        }
        auto r = walk_list(elem, n.list);
        vars_.resize(m);
        return r;
      };
      bool any = false;
      X<Flow> result = Flow::kNormal;
      switch (v->kind()) {
        case Value::Kind::kList: {
          const auto& l = v->as_list();
          for (size_t i = 0; i < l.size(); ++i) {
            any = true;
            auto r = one(Value(static_cast<int64_t>(i)), l[i]);
            if (!r) return r;
            if (*r == Flow::kBreak) break;
          }
          break;
        }
        case Value::Kind::kMap: {
          for (const auto& [k, e] : v->as_map()) {
            any = true;
            auto r = one(Value(k), e);
            if (!r) return r;
            if (*r == Flow::kBreak) break;
          }
          break;
        }
        case Value::Kind::kInt: {
          if (n.pipe.decl.size() > 1) {
            return std::unexpected(
                err(n.pos, "range", "can't use int to iterate over more than one variable"));
          }
          for (int64_t i = 0; i < v->as_int(); ++i) {
            any = true;
            auto r = one(Value(i), Value(i));
            if (!r) return r;
            if (*r == Flow::kBreak) break;
          }
          break;
        }
        case Value::Kind::kNil:
          break;
        default:
          return std::unexpected(err(n.pos, "range " + to_string(n.pipe),
                                     fmt::format("range can't iterate over {}", v->to_string())));
      }
      if (!any) result = walk_list(dot, n.else_list);
      vars_.resize(mark);
      if (!result) return result;
      return Flow::kNormal;
    }
    case Node::Kind::kTemplate: {
      Value data;
      if (n.has_pipe) {
        auto v = eval_pipeline(dot, n.pipe);
        if (!v) return std::unexpected(v.error());
        data = *v;
      }
      const std::string ctx = fmt::format("{{{{template {}}}}}", go_quote(n.text));
      if (auto r = call_template(n.text, data, n.pos, ctx); !r) return std::unexpected(r.error());
      return Flow::kNormal;
    }
    case Node::Kind::kBreak:
      return Flow::kBreak;
    case Node::Kind::kContinue:
      return Flow::kContinue;
  }
  return Flow::kNormal;
}

X<void> State::call_template(std::string_view name, const Value& dot, uint32_t pos,
                             const std::string& ctx) {
  auto it = t_.defines.find(name);
  if (it == t_.defines.end()) {
    return std::unexpected(err(pos, ctx, fmt::format("template {} not defined", go_quote(name))));
  }
  if (depth_ >= opts_.max_depth) {
    return std::unexpected(
        err(pos, ctx, fmt::format("exceeded maximum template depth ({})", opts_.max_depth)));
  }
  ++depth_;
  auto saved_vars = std::move(vars_);
  auto saved_name = std::move(tmpl_name);
  vars_ = {{"$", dot}};
  tmpl_name = std::string(name);
  auto r = walk_list(dot, it->second);
  vars_ = std::move(saved_vars);
  tmpl_name = std::move(saved_name);
  --depth_;
  if (!r) return std::unexpected(r.error());
  return {};
}

X<Value> State::eval_pipeline(const Value& dot, const Pipeline& p) {
  std::optional<Value> final;
  for (const auto& c : p.cmds) {
    auto v = eval_command(dot, c, final);
    if (!v) return v;
    final = std::move(*v);
  }
  Value result = final ? *final : Value();
  for (const auto& name : p.decl) {
    if (p.is_assign) {
      set_var(name, result);
    } else {
      vars_.emplace_back(name, result);
    }
  }
  return result;
}

X<Value> State::eval_command(const Value& dot, const Command& c,
                             const std::optional<Value>& final) {
  const Operand& first = c.args[0];
  std::span<const Operand> rest(c.args.data() + 1, c.args.size() - 1);
  auto not_func = [&]() -> X<Value> {
    if (!rest.empty() || final) {
      return std::unexpected(
          err(c.pos, to_string(c),
              fmt::format("can't give argument to non-function {}", to_string(first))));
    }
    return Value();
  };
  switch (first.kind) {
    case Operand::Kind::kField:
      return eval_field_chain(dot, dot, first, rest, final, &c);
    case Operand::Kind::kVariable: {
      auto v = var_value(first.name, first.pos);
      if (!v) return v;
      if (first.fields.empty()) {
        if (auto r = not_func(); !r) return r;
        return v;
      }
      return eval_field_chain(dot, *v, first, rest, final, &c);
    }
    case Operand::Kind::kPipeline: {
      const size_t mark = vars_.size();
      auto v = eval_pipeline(dot, *first.pipe);
      vars_.resize(mark);
      if (!v) return v;
      if (first.fields.empty()) {
        if (auto r = not_func(); !r) return r;
        return v;
      }
      return eval_field_chain(dot, *v, first, rest, final, &c);
    }
    case Operand::Kind::kIdentifier:
      return eval_function(dot, c, first, rest, final);
    case Operand::Kind::kNil:
      return std::unexpected(err(c.pos, to_string(c), "nil is not a command"));
    default: {
      if (auto r = not_func(); !r) return r;
      return eval_arg(dot, first);
    }
  }
}

X<Value> State::eval_arg(const Value& dot, const Operand& o) {
  switch (o.kind) {
    case Operand::Kind::kDot:
      return dot;
    case Operand::Kind::kNil:
      return Value();
    case Operand::Kind::kBool:
      return Value(o.bool_value);
    case Operand::Kind::kString:
      return Value(o.str);
    case Operand::Kind::kNumber: {
      // Go's idealConstant: a float literal stays a float, everything else is an int.
      const bool floaty = !o.is_int || (o.name.find_first_of(".eEpP") != std::string::npos &&
                                        !o.name.starts_with("0x") && !o.name.starts_with("0X") &&
                                        !o.name.starts_with("'"));
      if (floaty) return Value(o.float_value);
      return Value(o.int_value);
    }
    case Operand::Kind::kVariable: {
      auto v = var_value(o.name, o.pos);
      if (!v || o.fields.empty()) return v;
      return eval_field_chain(dot, *v, o, {}, std::nullopt, nullptr);
    }
    case Operand::Kind::kField:
      return eval_field_chain(dot, dot, o, {}, std::nullopt, nullptr);
    case Operand::Kind::kPipeline: {
      const size_t mark = vars_.size();
      auto v = eval_pipeline(dot, *o.pipe);
      vars_.resize(mark);
      if (!v || o.fields.empty()) return v;
      return eval_field_chain(dot, *v, o, {}, std::nullopt, nullptr);
    }
    case Operand::Kind::kIdentifier: {
      Command c;
      c.pos = o.pos;
      c.args.push_back(o);
      return eval_function(dot, c, o, {}, std::nullopt);
    }
  }
  return Value();
}

X<Value> State::eval_field_chain(const Value& dot, Value receiver, const Operand& node,
                                 std::span<const Operand> args, const std::optional<Value>& final,
                                 const Command* /*cmd*/) {
  const auto& fields = node.fields;
  for (size_t i = 0; i < fields.size(); ++i) {
    const bool last = i + 1 == fields.size();
    auto v = eval_field(dot, receiver, fields[i], node, last ? args : std::span<const Operand>{},
                        last ? final : std::nullopt, last);
    if (!v) return v;
    receiver = std::move(*v);
  }
  return receiver;
}

namespace {
// Where Go's text/template reports an error in a field chain: at the chain's second element
// (parse.newChain takes the position of the field after the first term), e.g. ".Foo" in
// `.CommonLabels.Foo.Bar` and ".A" in `$x.A.B`; a lone field at itself.
uint32_t go_pos(const Operand& o) {
  if (o.kind == Operand::Kind::kField && o.fields.size() >= 2) {
    return o.pos + 1 + static_cast<uint32_t>(o.fields[0].size());
  }
  if (o.kind == Operand::Kind::kVariable && !o.fields.empty()) {
    return o.pos + static_cast<uint32_t>(o.name.size());
  }
  return o.pos;
}
}  // namespace

X<Value> State::eval_field(const Value& dot, const Value& receiver, const std::string& name,
                           const Operand& node, std::span<const Operand> args,
                           const std::optional<Value>& final, bool /*last*/) {
  const bool has_args = !args.empty() || final.has_value();
  auto ctx = [&node] { return to_string(node); };  // only built for errors
  const TypeInfo* mti = receiver.type();
  if (mti == nullptr && receiver.kind() == Value::Kind::kTime) mti = &time_type();
  if (mti == nullptr && receiver.kind() == Value::Kind::kDuration) mti = &duration_type();
  if (mti != nullptr) {
    auto m = mti->methods.find(name);
    if (m != mti->methods.end()) {
      auto a = eval_args(dot, args, final);
      if (!a) return std::unexpected(a.error());
      auto r = m->second(receiver, *a);
      if (!r) {
        return std::unexpected(
            err(go_pos(node), ctx(), fmt::format("error calling {}: {}", name, r.error().message)));
      }
      return std::move(*r);
    }
  }
  switch (receiver.kind()) {
    case Value::Kind::kNil:
      if (opts_.missing_key == MissingKey::kError) {
        return std::unexpected(
            err(go_pos(node), ctx(), fmt::format("nil data; no entry for key {}", go_quote(name))));
      }
      return Value();
    case Value::Kind::kMap: {
      const TypeInfo* ti = receiver.type();
      const bool is_struct = ti != nullptr && ti->is_struct;
      const auto& m = receiver.as_map();
      auto it = m.find(name);
      if (has_args) {
        return std::unexpected(
            err(go_pos(node), ctx(),
                is_struct ? fmt::format("{} has arguments but cannot be invoked as function", name)
                          : fmt::format("{} is not a method but has arguments", name)));
      }
      if (it != m.end()) return it->second;
      if (is_struct) {
        return std::unexpected(
            err(go_pos(node), ctx(),
                fmt::format("can't evaluate field {} in type {}", name, receiver.type_name())));
      }
      switch (opts_.missing_key) {
        case MissingKey::kZero:
          return (ti != nullptr && ti->string_elems) ? Value(std::string()) : Value();
        case MissingKey::kDefault:
          return Value();
        case MissingKey::kError:
          return std::unexpected(
              err(go_pos(node), ctx(), fmt::format("map has no entry for key {}", go_quote(name))));
      }
      return Value();
    }
    default:
      return std::unexpected(
          err(go_pos(node), ctx(),
              fmt::format("can't evaluate field {} in type {}", name, receiver.type_name())));
  }
}

X<std::vector<Value>> State::eval_args(const Value& dot, std::span<const Operand> args,
                                       const std::optional<Value>& final) {
  std::vector<Value> vals;
  vals.reserve(args.size() + 1);
  for (const auto& a : args) {
    auto v = eval_arg(dot, a);
    if (!v) return std::unexpected(v.error());
    vals.push_back(std::move(*v));
  }
  if (final) vals.push_back(*final);
  return vals;
}

X<Value> State::eval_function(const Value& dot, const Command& cmd, const Operand& ident,
                              std::span<const Operand> args, const std::optional<Value>& final) {
  const std::string& name = ident.name;
  auto ctx = [&cmd] { return to_string(cmd); };  // only built for errors
  const size_t argc = args.size() + (final ? 1 : 0);
  const FuncSpec* spec = nullptr;
  if (auto it = funcs_.find(name); it != funcs_.end()) {
    spec = &it->second;
  } else if (const FuncSpec* b = builtin_function(name)) {
    spec = b;
  } else if (const FuncSpec* h = detail::html_escaper_function(name)) {
    spec = h;  // appended by html/template's escaper
  }
  // and / or short-circuit: they evaluate arguments lazily.
  if ((name == "and" || name == "or") && spec == builtin_function(name)) {
    if (argc < 1) {
      return std::unexpected(err(
          cmd.pos, ctx(), fmt::format("wrong number of args for {}: want at least 1 got 0", name)));
    }
    Value v;
    for (size_t i = 0; i < argc; ++i) {
      if (i < args.size()) {
        auto a = eval_arg(dot, args[i]);
        if (!a) return a;
        v = std::move(*a);
      } else {
        v = *final;
      }
      const bool t = v.truthy();
      if ((name == "and" && !t) || (name == "or" && t)) return v;
    }
    return v;
  }
  if (name == "tmpl" && spec == nullptr) {
    auto a = eval_args(dot, args, final);
    if (!a) return std::unexpected(a.error());
    if (a->size() != 2) {
      return std::unexpected(err(
          cmd.pos, ctx(), fmt::format("wrong number of args for tmpl: want 2 got {}", a->size())));
    }
    if ((*a)[0].kind() != Value::Kind::kString) {
      return std::unexpected(
          err(cmd.pos, ctx(),
              fmt::format("wrong type for value; expected string; got {}", (*a)[0].type_name())));
    }
    std::string saved = std::move(out);
    out.clear();
    auto r = call_template((*a)[0].as_string(), (*a)[1], cmd.pos, ctx());
    std::string rendered = std::move(out);
    out = std::move(saved);
    if (!r) {
      return std::unexpected(
          err(cmd.pos, ctx(), fmt::format("error calling tmpl: {}", r.error().message)));
    }
    return Value(std::move(rendered));
  }
  if (spec == nullptr) {
    return std::unexpected(
        err(ident.pos, ctx(), fmt::format("{} is not a defined function", go_quote(name))));
  }
  const int n = static_cast<int>(argc);
  if (spec->max_args >= 0 && spec->min_args == spec->max_args && n != spec->min_args) {
    return std::unexpected(
        err(cmd.pos, ctx(),
            fmt::format("wrong number of args for {}: want {} got {}", name, spec->min_args, n)));
  }
  if (n < spec->min_args) {
    return std::unexpected(err(cmd.pos, ctx(),
                               fmt::format("wrong number of args for {}: want at least {} got {}",
                                           name, spec->min_args, n)));
  }
  if (spec->max_args >= 0 && n > spec->max_args) {
    return std::unexpected(err(cmd.pos, ctx(),
                               fmt::format("wrong number of args for {}: want at most {} got {}",
                                           name, spec->max_args, n)));
  }
  auto a = eval_args(dot, args, final);
  if (!a) return std::unexpected(a.error());
  auto r = spec->fn(*a);
  if (!r) {
    if (is_raw_error(r.error().message))
      return std::unexpected(err(cmd.pos, ctx(), r.error().message));
    return std::unexpected(
        err(cmd.pos, ctx(), fmt::format("error calling {}: {}", name, r.error().message)));
  }
  return std::move(*r);
}

// `outer` is the template's name in messages (Template::name unless RenderOptions::name), `name`
// the executed one's (outer, or a {{define}}'s for render_named).
Result<std::string> run(const Template& t, std::string_view outer, const std::vector<Node>& list,
                        std::string_view name, const Value& data, const FuncMap& funcs,
                        const RenderOptions& opts, const std::vector<Node>* prelude = nullptr) {
  State s(t, funcs, opts, data);  // $ is the data
  s.tmpl_name = std::string(name);
  X<Flow> r = Flow::kNormal;
  if (prelude != nullptr) r = s.walk_list(data, *prelude);  // same scope as `list`
  if (r && *r == Flow::kNormal) r = s.walk_list(data, list);
  if (!r) {
    const ExecError& e = r.error();
    std::string msg;
    if (e.context.empty()) {
      msg = fmt::format("template: {}:{}: executing {}: {}", outer, t.go_position(e.pos),
                        go_quote(e.tmpl_name), e.message);
    } else {
      msg = fmt::format("template: {}:{}: executing {} at <{}>: {}", outer, t.go_position(e.pos),
                        go_quote(e.tmpl_name), e.context, e.message);
    }
    return make_error(std::move(msg), t.user_location(e.pos));
  }
  return std::move(s.out);
}

}  // namespace

Result<std::string> render(const Template& t, const Value& data, const FuncMap& funcs,
                           const RenderOptions& opts) {
  if (opts.html_contextual) {
    // html/template escapes the template when it is executed.
    auto escaped = detail::html_escape_template(t, t.name);
    if (!escaped) return std::unexpected(escaped.error());
    RenderOptions o = opts;
    o.html_contextual = false;
    o.html_escape = false;  // the escaper commands in the pipelines do it
    return run(*escaped, t.name, escaped->nodes(), t.name, data, funcs, o,
               escaped->prelude.get());
  }
  const std::string_view name = opts.name.empty() ? std::string_view(t.name) : opts.name;
  return run(t, name, t.nodes(), name, data, funcs, opts, t.prelude.get());
}

Result<std::string> render_named(const Template& t, std::string_view name, const Value& data,
                                 const FuncMap& funcs, const RenderOptions& opts) {
  auto it = t.defines.find(name);
  if (it == t.defines.end()) {
    return make_error(fmt::format("template: no template {} associated with template {}",
                                  go_quote(name), go_quote(t.name)));
  }
  if (opts.html_contextual) {
    auto escaped = detail::html_escape_template(t, name);
    if (!escaped) return std::unexpected(escaped.error());
    RenderOptions o = opts;
    o.html_contextual = false;
    o.html_escape = false;  // the escaper commands in the pipelines do it
    return run(*escaped, t.name, escaped->defines.at(std::string(name)), name, data, funcs,
               o);
  }
  return run(t, opts.name.empty() ? std::string_view(t.name) : opts.name, it->second, name, data,
             funcs, opts);
}

std::string error_expanding_template(const Template& t, const Error& e, std::string_view name) {
  return fmt::format("<error expanding template: error executing template {}: {}>",
                     name.empty() ? std::string_view(t.name) : name, e.message);
}

}  // namespace ruleeval::tmpl
