// Go html/template's model of where a template's output lands in an HTML document (context.go,
// transition.go, attr.go of Go 1.19.8, the Go Debian's Alertmanager 0.25 is built with): the
// state an HTML parser is in, the attribute delimiter, the URL part, whether a '/' in JS starts
// a regexp, the attribute and element kinds; and the transitions over literal template text.
// Used by the contextual escaper (html_escape_tree.cpp). Pure functions, no shared state.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ruleeval::tmpl::html {

// Go's states in 1.19.8's order (no JS HTML-like comment states: they came with Go 1.21.1).
enum class State : uint8_t {
  kText, kTag, kAttrName, kAfterName, kBeforeValue, kHTMLCmt, kRCDATA, kAttr, kURL, kSrcset,
  kJS, kJSDqStr, kJSSqStr, kJSBqStr, kJSRegexp, kJSBlockCmt, kJSLineCmt,
  kCSS, kCSSDqStr, kCSSSqStr, kCSSDqURL, kCSSSqURL, kCSSURL, kCSSBlockCmt, kCSSLineCmt,
  kError, kDead,
};
enum class Delim : uint8_t { kNone, kDoubleQuote, kSingleQuote, kSpaceOrTagEnd };
enum class UrlPart : uint8_t { kNone, kPreQuery, kQueryOrFrag, kUnknown };
enum class JsCtx : uint8_t { kRegexp, kDivOp, kUnknown };
enum class Attr : uint8_t { kNone, kScript, kScriptType, kStyle, kURL, kSrcset };
enum class Element : uint8_t { kNone, kScript, kStyle, kTextarea, kTitle };
// attr.go's contentType of an attribute's value (and of typed strings).
enum class ContentType : uint8_t { kPlain, kCSS, kHTML, kHTMLAttr, kJS, kJSStr, kURL, kSrcset, kUnsafe };

// Go's html/template.Error: ErrorCode, the node (its byte offset when has_node), Name, Line.
struct Error {
  enum Code : uint8_t {
    kOK, kAmbigContext, kBadHTML, kBranchEnd, kEndContext, kNoSuchTemplate, kOutputContext,
    kPartialCharset, kPartialEscape, kRangeLoopReentry, kSlashAmbig, kPredefinedEscaper,
    kJSTemplate,
  };
  Code code = kOK;
  bool has_node = false;
  uint32_t pos = 0;
  std::string name;
  int line = 0;
  std::string description;
};

struct Context {
  State state = State::kText;
  Delim delim = Delim::kNone;
  UrlPart url_part = UrlPart::kNone;
  JsCtx js_ctx = JsCtx::kRegexp;
  Attr attr = Attr::kNone;
  Element element = Element::kNone;
  const void* node = nullptr;  // the {{break}}/{{continue}} node that produced it
  std::shared_ptr<Error> err;

  // Go's eq: everything but the node (errors compared by identity).
  bool eq(const Context& o) const {
    return state == o.state && delim == o.delim && url_part == o.url_part && js_ctx == o.js_ctx &&
           attr == o.attr && element == o.element && err == o.err;
  }
  // Go's mangle: the template name for a start context ("name$htmltemplate_stateJS_..." ).
  std::string mangle(std::string_view name) const;
  // Go's %v: "{stateURL delimDoubleQuote urlPartNone jsCtxRegexp attrURL elementNone <nil>}".
  std::string str() const;
};

Context error_context(Error::Code code, std::string description);

bool is_comment(State s);
bool is_in_tag(State s);
ContentType attr_type(std::string_view lower_name);
bool is_js_type(std::string_view mime);

// Go's nudge: the context after empty-string transitions (`<a href=` -> start of a URL value).
Context nudge(Context c);
// Go's contextAfterText: consumes a prefix of s from c; returns the new context and the bytes
// consumed (0 only when a special end tag such as </script> was reached).
std::pair<Context, size_t> context_after_text(Context c, std::string_view s);
// transition.go's function for c.state over s.
std::pair<Context, size_t> transition(const Context& c, std::string_view s);
// Go's html.UnescapeString for the entities that matter to transitions: numeric ones and the
// named ones of ASCII characters (others are left as they are).
std::string html_unescape(std::string_view s);
// The CSS3 escape decoder of css.go.
std::string decode_css(std::string_view s);
bool is_css_nmchar(uint32_t r);
// Go's %q of a byte string, optionally truncated to `prec` runes first (%.32q).
std::string go_quote_bytes(std::string_view s, int prec = -1);

}  // namespace ruleeval::tmpl::html
