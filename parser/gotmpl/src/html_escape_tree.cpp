// html/template's escaper (Go 1.19.8's escape.go) over ruleeval's template tree: contexts are
// computed from the template text through every branch, loop and {{template}} call; each
// action gets the escaper commands of its context appended to its pipeline, text is rewritten
// (comments dropped, a '<' that starts no tag written as &lt;), templates called in a context
// other than HTML text are escaped as copies under mangled names. Edits are collected per node
// and applied only when the whole template escapes without error, as Go's commit does.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "html_context.hpp"
#include "template_html.hpp"
#include "template_internal.hpp"

namespace ruleeval::tmpl::detail {
namespace {

using html::Context;
using html::Delim;
using html::Error;
using html::JsCtx;
using html::State;
using html::UrlPart;

using NodeList = std::vector<Node>;

struct RangeContext {
  std::shared_ptr<RangeContext> outer;
  std::vector<Context> breaks, continues;
};

Context node_error(Error::Code code, uint32_t pos, std::string desc) {
  Context c = html::error_context(code, std::move(desc));
  c.err->has_node = true;
  c.err->pos = pos;
  return c;
}

// Where Go's parser puts a {{break}}/{{continue}} node (its keyword) or a {{template}} node (the
// name after the keyword): ruleeval's nodes start at the action's "{{".
uint32_t go_token_pos(const std::string& src, uint32_t pos, bool skip_keyword) {
  size_t i = pos;
  auto space = [&] {
    while (i < src.size() &&
           (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r')) {
      ++i;
    }
  };
  if (i + 2 > src.size() || src.compare(i, 2, "{{") != 0) return pos;
  i += 2;
  if (i < src.size() && src[i] == '-') ++i;
  space();
  if (skip_keyword) {
    while (i < src.size() && std::isalpha(static_cast<unsigned char>(src[i]))) ++i;
    space();
  }
  return static_cast<uint32_t>(std::min(i, src.size()));
}

// Go's ActionNode.String(): "{{" + pipeline + "}}".
std::string action_string(const Node& n) { return "{{" + to_string(n.pipe) + "}}"; }

class Escaper {
 public:
  Escaper(Template& t, std::string entry, NodeList* entry_list)
      : t_(t), entry_(std::move(entry)), entry_list_(entry_list) {}
  const std::string& source() const { return t_.source; }

  // escapeTree from the start context; the output context.
  std::pair<Context, std::string> escape_tree(const Context& c, const Node* node,
                                              const std::string& name);
  void commit();

 private:
  Escaper fork() const {
    Escaper e(t_, entry_, entry_list_);
    e.range_ = range_;
    e.output_ = output_;
    e.alive_ = alive_;
    e.work_ = work_;
    return e;
  }
  NodeList* lookup(const std::string& name) {
    if (name == entry_) return entry_list_;
    if (auto it = t_.defines.find(name); it != t_.defines.end()) return &it->second;
    if (auto it = derived_.find(name); it != derived_.end()) return it->second.get();
    return nullptr;
  }
  Context escape(Context c, Node& n);
  Context escape_list(Context c, NodeList& list) {
    for (auto& n : list) {
      c = escape(c, n);
      if (c.state == State::kDead) break;
    }
    return c;
  }
  template <class Filter>
  std::pair<Context, bool> escape_list_conditionally(Context c, NodeList& list, Filter filter);
  Context escape_action(Context c, Node& n);
  Context escape_branch(const Context& c, Node& n, const char* node_name);
  Context escape_template(const Context& c, Node& n);
  Context escape_text(Context c, Node& n);
  Context compute_out_ctx(Context c, const std::string& name, NodeList& list);
  std::pair<Context, bool> escape_template_body(Context c, const std::string& name,
                                                NodeList& list);
  void merge(Escaper& e1);

  Template& t_;
  std::string entry_;
  NodeList* entry_list_;
  std::map<std::string, Context> output_;
  std::map<std::string, std::shared_ptr<NodeList>> derived_;
  // Every derived copy made by this escaper or its forks: edits point into them until commit.
  std::shared_ptr<std::vector<std::shared_ptr<NodeList>>> alive_ =
      std::make_shared<std::vector<std::shared_ptr<NodeList>>>();
  std::set<std::string> called_;
  std::map<Node*, std::vector<std::string>> action_edits_;
  std::map<Node*, std::string> template_edits_;
  std::map<Node*, std::string> text_edits_;
  std::shared_ptr<RangeContext> range_;
  // Nodes visited by this escaper and its forks. Nested {{range}}s are escaped twice each (as
  // in Go), so depth d costs 2^d: past kMaxWork the template is refused rather than hanging.
  std::shared_ptr<size_t> work_ = std::make_shared<size_t>(0);
  static constexpr size_t kMaxWork = 2'000'000;
};

Context join(Context a, Context b, uint32_t pos, const char* node_name) {
  if (a.state == State::kError) return a;
  if (b.state == State::kError) return b;
  if (a.state == State::kDead) return b;
  if (b.state == State::kDead) return a;
  if (a.eq(b)) return a;
  Context c = a;
  c.url_part = b.url_part;
  if (c.eq(b)) {
    c.url_part = UrlPart::kUnknown;
    return c;
  }
  c = a;
  c.js_ctx = b.js_ctx;
  if (c.eq(b)) {
    c.js_ctx = JsCtx::kUnknown;
    return c;
  }
  // A nudged context may join an unnudged one (`<p title={{if .C}}{{.}}{{end}}`).
  Context cn = html::nudge(a), dn = html::nudge(b);
  if (!(cn.eq(a) && dn.eq(b))) {
    Context e = join(cn, dn, pos, node_name);
    if (e.state != State::kError) return e;
  }
  return node_error(Error::kBranchEnd, pos,
                    fmt::format("{{{{{}}}}} branches end in different contexts: {}, {}",
                                node_name, a.str(), b.str()));
}

Context join_range(Context c0, const RangeContext& rc, const std::string& src) {
  for (const auto& c : rc.breaks) {
    const auto* n = static_cast<const Node*>(c.node);
    c0 = join(c0, c, go_token_pos(src, n->pos, false), "range");
    if (c0.state == State::kError) {
      c0.err->description = "at range loop break: " + c0.err->description;
      return c0;
    }
  }
  for (const auto& c : rc.continues) {
    const auto* n = static_cast<const Node*>(c.node);
    c0 = join(c0, c, go_token_pos(src, n->pos, false), "range");
    if (c0.state == State::kError) {
      c0.err->description = "at range loop continue: " + c0.err->description;
      return c0;
    }
  }
  return c0;
}

Context Escaper::escape(Context c, Node& n) {
  if (++*work_ > kMaxWork) {
    return node_error(Error::kOutputContext, n.pos,
                      "template too complex to escape (nested loops or template calls)");
  }
  switch (n.kind) {
    case Node::Kind::kAction:
      return escape_action(c, n);
    case Node::Kind::kBreak:
    case Node::Kind::kContinue: {
      c.node = &n;
      if (range_) {
        // Go 1.19.8 appends a continue's context to the breaks (and stores it as continues).
        if (n.kind == Node::Kind::kBreak) {
          range_->breaks.push_back(c);
        } else {
          auto v = range_->breaks;
          v.push_back(c);
          range_->continues = std::move(v);
        }
      }
      Context d;
      d.state = State::kDead;
      return d;
    }
    case Node::Kind::kIf:
      return escape_branch(c, n, "if");
    case Node::Kind::kRange:
      return escape_branch(c, n, "range");
    case Node::Kind::kWith:
      return escape_branch(c, n, "with");
    case Node::Kind::kTemplate:
      return escape_template(c, n);
    case Node::Kind::kText:
      return escape_text(c, n);
  }
  return c;
}

Context Escaper::escape_action(Context c, Node& n) {
  if (!n.pipe.decl.empty()) return c;  // an assignment writes nothing
  c = html::nudge(c);
  const auto& cmds = n.pipe.cmds;
  for (size_t i = 0; i < cmds.size(); ++i) {
    if (cmds[i].args.empty() || cmds[i].args[0].kind != Operand::Kind::kIdentifier) continue;
    const std::string& ident = cmds[i].args[0].name;
    if (ident != "html" && ident != "urlquery") continue;
    if (i + 1 < cmds.size() ||
        (c.state == State::kAttr && c.delim == Delim::kSpaceOrTagEnd && ident == "html")) {
      return node_error(Error::kPredefinedEscaper, n.pipe.pos,
                        fmt::format("predefined escaper {} disallowed in template",
                                    go_quote(ident)));
    }
  }
  std::vector<std::string> s;
  switch (c.state) {
    case State::kError:
      return c;
    case State::kURL: case State::kCSSDqStr: case State::kCSSSqStr: case State::kCSSDqURL:
    case State::kCSSSqURL: case State::kCSSURL:
      switch (c.url_part) {
        case UrlPart::kNone:
          s.emplace_back("_html_template_urlfilter");
          [[fallthrough]];
        case UrlPart::kPreQuery:
          if (c.state == State::kCSSDqStr || c.state == State::kCSSSqStr) {
            s.emplace_back("_html_template_cssescaper");
          } else {
            s.emplace_back("_html_template_urlnormalizer");
          }
          break;
        case UrlPart::kQueryOrFrag:
          s.emplace_back("_html_template_urlescaper");
          break;
        case UrlPart::kUnknown:
          return node_error(Error::kAmbigContext, n.pipe.pos,
                            fmt::format("{} appears in an ambiguous context within a URL",
                                        action_string(n)));
      }
      break;
    case State::kJS:
      s.emplace_back("_html_template_jsvalescaper");
      c.js_ctx = JsCtx::kDivOp;  // a slash after a value starts a division
      break;
    case State::kJSDqStr: case State::kJSSqStr:
      s.emplace_back("_html_template_jsstrescaper");
      break;
    case State::kJSBqStr:
      // Go 1.19.8 (CVE-2023-24538) refuses actions in JS template literals.
      return node_error(Error::kJSTemplate, n.pipe.pos,
                        fmt::format("{} appears in a JS template literal", action_string(n)));
    case State::kJSRegexp:
      s.emplace_back("_html_template_jsregexpescaper");
      break;
    case State::kCSS:
      s.emplace_back("_html_template_cssvaluefilter");
      break;
    case State::kText:
      s.emplace_back("_html_template_htmlescaper");
      break;
    case State::kRCDATA:
      s.emplace_back("_html_template_rcdataescaper");
      break;
    case State::kAttr:
      break;  // the delimiter decides below
    case State::kAttrName: case State::kTag:
      c.state = State::kAttrName;
      s.emplace_back("_html_template_htmlnamefilter");
      break;
    case State::kSrcset:
      s.emplace_back("_html_template_srcsetescaper");
      break;
    default:
      if (html::is_comment(c.state)) {
        s.emplace_back("_html_template_commentescaper");
      } else {
        return node_error(Error::kOutputContext, n.pipe.pos,
                          fmt::format("unexpected state {}", c.str()));
      }
  }
  switch (c.delim) {
    case Delim::kNone:
      break;
    case Delim::kSpaceOrTagEnd:
      s.emplace_back("_html_template_nospaceescaper");
      break;
    default:
      s.emplace_back("_html_template_attrescaper");
  }
  action_edits_[&n] = std::move(s);
  return c;
}

Context Escaper::escape_branch(const Context& c, Node& n, const char* node_name) {
  const bool is_range = n.kind == Node::Kind::kRange;
  const uint32_t pos = n.pipe.pos;
  if (is_range) {
    auto rc = std::make_shared<RangeContext>();
    rc->outer = range_;
    range_ = rc;
  }
  Context c0 = escape_list(c, n.list);
  if (is_range) {
    if (c0.state != State::kError) c0 = join_range(c0, *range_, source());
    range_ = range_->outer;
    if (c0.state == State::kError) return c0;
    // The body can run again: once more must end in the same context.
    auto rc = std::make_shared<RangeContext>();
    rc->outer = range_;
    range_ = rc;
    auto [c1, ok] = escape_list_conditionally(c0, n.list, nullptr);
    (void)ok;
    c0 = join(c0, c1, pos, node_name);
    if (c0.state == State::kError) {
      range_ = range_->outer;
      c0.err->description = "on range loop re-entry: " + c0.err->description;
      return c0;
    }
    c0 = join_range(c0, *range_, source());
    range_ = range_->outer;
    if (c0.state == State::kError) return c0;
  }
  Context c1 = escape_list(c, n.else_list);
  return join(c0, c1, pos, node_name);
}

template <class Filter>
std::pair<Context, bool> Escaper::escape_list_conditionally(Context c, NodeList& list,
                                                            Filter filter) {
  Escaper e1 = fork();
  c = e1.escape_list(c, list);
  bool ok = false;
  if constexpr (!std::is_same_v<Filter, std::nullptr_t>) ok = filter(e1, c);
  if (ok) merge(e1);
  return {c, ok};
}

void Escaper::merge(Escaper& e1) {
  for (auto& [k, v] : e1.output_) output_[k] = v;
  for (auto& [k, v] : e1.derived_) derived_[k] = v;
  for (const auto& k : e1.called_) called_.insert(k);
  for (auto& [k, v] : e1.action_edits_) action_edits_[k] = v;
  for (auto& [k, v] : e1.template_edits_) template_edits_[k] = v;
  for (auto& [k, v] : e1.text_edits_) text_edits_[k] = v;
}

Context Escaper::escape_template(const Context& c, Node& n) {
  auto [c1, name] = escape_tree(c, &n, n.text);
  if (name != n.text) template_edits_[&n] = name;
  return c1;
}

std::pair<Context, std::string> Escaper::escape_tree(const Context& c, const Node* node,
                                                     const std::string& name) {
  const std::string dname = c.mangle(name);
  called_.insert(dname);
  if (auto it = output_.find(dname); it != output_.end()) return {it->second, dname};
  NodeList* list = lookup(name);
  if (list == nullptr) {
    return {node_error(Error::kNoSuchTemplate,
                       node != nullptr ? go_token_pos(t_.source, node->pos, true) : 0,
                       fmt::format("no such template {}", go_quote(name))),
            dname};
  }
  if (dname != name) {
    NodeList* dt = lookup(dname);
    if (dt == nullptr) {
      auto copy = std::make_shared<NodeList>(*list);
      dt = copy.get();
      alive_->push_back(copy);
      derived_[dname] = std::move(copy);
    }
    list = dt;
  }
  return {compute_out_ctx(c, dname, *list), dname};
}

Context Escaper::compute_out_ctx(Context c, const std::string& name, NodeList& list) {
  auto [c1, ok] = escape_template_body(std::move(c), name, list);
  if (!ok) {
    // Look for a fixed point by assuming c1 as the output context.
    auto [c2, ok2] = escape_template_body(c1, name, list);
    if (ok2) {
      c1 = c2;
      ok = true;
    }
  }
  if (!ok && c1.state != State::kError) {
    return node_error(Error::kOutputContext, list.empty() ? 0 : list.front().pos,
                      fmt::format("cannot compute output context for template {}", name));
  }
  return c1;
}

std::pair<Context, bool> Escaper::escape_template_body(Context c, const std::string& name,
                                                       NodeList& list) {
  auto filter = [&](Escaper& e1, const Context& c1) {
    if (c1.state == State::kError) return false;
    if (!e1.called_.contains(name)) return true;  // not recursive: c1 is exact
    return c.eq(c1);
  };
  output_[name] = c;  // assumed, so recursive calls end
  return escape_list_conditionally(c, list, filter);
}

bool has_doctype(std::string_view s) {
  constexpr std::string_view kDoctype = "<!DOCTYPE";
  if (s.size() < kDoctype.size()) return false;
  for (size_t i = 0; i < kDoctype.size(); ++i) {
    char ch = s[i];
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (ch != kDoctype[i]) return false;
  }
  return true;
}

Context Escaper::escape_text(Context c, Node& n) {
  const std::string_view s = n.text;
  size_t written = 0, i = 0;
  std::string b;
  while (i != s.size()) {
    auto [c1, nread] = html::context_after_text(c, s.substr(i));
    const size_t i1 = i + nread;
    if (c.state == State::kText || c.state == State::kRCDATA) {
      size_t end = i1;
      if (c1.state != c.state) {
        for (size_t j = end; j-- > i;) {
          if (s[j] == '<') {
            end = j;
            break;
          }
        }
      }
      for (size_t j = i; j < end; ++j) {
        if (s[j] == '<' && !has_doctype(s.substr(j))) {
          b.append(s.substr(written, j - written));
          b += "&lt;";
          written = j + 1;
        }
      }
    } else if (html::is_comment(c.state) && c.delim == Delim::kNone) {
      if (c.state == State::kJSBlockCmt) {
        const std::string_view cm = s.substr(written, i1 - written);
        const bool nl = cm.find_first_of("\n\r") != std::string_view::npos ||
                        cm.find("\xE2\x80\xA8") != std::string_view::npos ||
                        cm.find("\xE2\x80\xA9") != std::string_view::npos;
        b += nl ? '\n' : ' ';
      } else if (c.state == State::kCSSBlockCmt) {
        b += ' ';
      }
      written = i1;
    }
    if (c.state != c1.state && html::is_comment(c1.state) && c1.delim == Delim::kNone) {
      // Keep what precedes the comment's opening ("<!--", "/*" or "//").
      size_t cs = i1 - 2;
      if (c1.state == State::kHTMLCmt) cs -= 2;
      b.append(s.substr(written, cs - written));
      written = i1;
    }
    if (i == i1 && c.state == c1.state) break;  // cannot happen (Go panics)
    c = c1;
    i = i1;
  }
  if (written != 0 && c.state != State::kError) {
    if (!html::is_comment(c.state) || c.delim != Delim::kNone) b.append(s.substr(written));
    text_edits_[&n] = std::move(b);
  }
  return c;
}

// Go's ensurePipelineContains: append the escapers, merged with a final html/urlquery.
void ensure_pipeline_contains(Pipeline& p, std::vector<std::string> s) {
  if (s.empty()) return;
  auto normalize = [](const std::string& e) -> std::string {
    if (e == "_html_template_attrescaper" || e == "_html_template_htmlescaper" ||
        e == "_html_template_rcdataescaper") {
      return "html";
    }
    if (e == "_html_template_urlescaper" || e == "_html_template_urlnormalizer") return "urlquery";
    return e;
  };
  auto ident_cmd = [&p](const std::string& name) {
    Command c;
    c.pos = p.pos;
    Operand o;
    o.kind = Operand::Kind::kIdentifier;
    o.pos = p.pos;
    o.name = name;
    c.args.push_back(std::move(o));
    return c;
  };
  auto redundant = [](const std::string& last, const std::string& next) {
    static const std::map<std::string, std::set<std::string>> kRedundant = {
        {"_html_template_commentescaper",
         {"_html_template_attrescaper", "_html_template_htmlescaper"}},
        {"_html_template_cssescaper", {"_html_template_attrescaper"}},
        {"_html_template_jsregexpescaper", {"_html_template_attrescaper"}},
        {"_html_template_jsstrescaper", {"_html_template_attrescaper"}},
        {"_html_template_urlescaper", {"_html_template_urlnormalizer"}},
    };
    auto it = kRedundant.find(last);
    return it != kRedundant.end() && it->second.contains(next);
  };
  auto append_cmd = [&](std::vector<Command>& cmds, Command cmd) {
    if (!cmds.empty() && !cmds.back().args.empty() &&
        cmds.back().args[0].kind == Operand::Kind::kIdentifier &&
        redundant(cmds.back().args[0].name, cmd.args[0].name)) {
      return;
    }
    cmds.push_back(std::move(cmd));
  };
  size_t len = p.cmds.size();
  if (len > 0) {
    Command& last = p.cmds[len - 1];
    if (!last.args.empty() && last.args[0].kind == Operand::Kind::kIdentifier &&
        (last.args[0].name == "html" || last.args[0].name == "urlquery")) {
      const std::string esc = last.args[0].name;
      if (p.cmds.size() == 1 && last.args.size() > 1) {
        // {{ esc a b }} -> {{ _eval_args_ a b | esc }}
        last.args[0].name = "_eval_args_";
        append_cmd(p.cmds, ident_cmd(esc));
        ++len;
      }
      bool dup = false;
      for (auto& e : s) {
        if (normalize(esc) == normalize(e)) {
          e = esc;
          dup = true;
        }
      }
      if (dup) --len;
    }
  }
  std::vector<Command> cmds(p.cmds.begin(), p.cmds.begin() + static_cast<ptrdiff_t>(len));
  std::set<std::string> inserted;
  for (const auto& c : cmds) {
    if (!c.args.empty() && c.args[0].kind == Operand::Kind::kIdentifier) {
      inserted.insert(normalize(c.args[0].name));
    }
  }
  for (const auto& name : s) {
    if (!inserted.contains(normalize(name))) append_cmd(cmds, ident_cmd(name));
  }
  p.cmds = std::move(cmds);
}

void Escaper::commit() {
  for (auto& [n, s] : action_edits_) ensure_pipeline_contains(n->pipe, s);
  for (auto& [n, name] : template_edits_) n->text = name;
  for (auto& [n, text] : text_edits_) n->text = std::move(text);
  for (auto& [name, list] : derived_) t_.defines[name] = *list;
}

}  // namespace

Result<Template> html_escape_template(const Template& src, std::string_view entry) {
  Template t = src;
  if (t.shared_root) {  // the escaper edits the nodes: this copy gets its own
    t.root = *t.shared_root;
    t.shared_root.reset();
  }
  const std::string name(entry);
  NodeList* list = name == t.name ? &t.root : nullptr;
  if (list == nullptr) {
    auto it = t.defines.find(name);
    if (it == t.defines.end()) {
      return make_error(fmt::format("html/template: {} is undefined", go_quote(name)));
    }
    list = &it->second;
  }
  Escaper e(t, name, list);
  auto [c, dname] = e.escape_tree(Context{}, nullptr, name);
  (void)dname;
  std::string msg;
  if (c.err) {
    const Error& err = *c.err;
    if (err.has_node) {
      msg = fmt::format("html/template:{}:{}: {}", t.name, t.go_position(err.pos), err.description);
    } else if (err.line != 0) {
      msg = fmt::format("html/template:{}:{}: {}", name, err.line, err.description);
    } else if (!name.empty()) {
      msg = fmt::format("html/template:{}: {}", name, err.description);
    } else {
      msg = "html/template: " + err.description;
    }
    return make_error(std::move(msg), err.has_node ? t.user_location(err.pos) : SourceLocation{});
  }
  if (c.state != State::kText) {
    const std::string d = "ends in a non-text context: " + c.str();
    return make_error(name.empty() ? "html/template: " + d
                                   : fmt::format("html/template:{}: {}", name, d));
  }
  e.commit();
  return t;
}

}  // namespace ruleeval::tmpl::detail
