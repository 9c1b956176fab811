// The Spirit X3 grammar of Go text/template (see template_grammar.hpp). Rules that follow an
// expectation point are named after the error Go reports there, so the caller can turn
// x3::expectation_failure::which() into Go's wording.
#include "template_grammar.hpp"

namespace ruleeval::tmpl::grammar {
namespace {

struct base_tag;

// Records byte offsets of the nodes that carry them.
struct annotate {
  template <class It, class Attr, class Ctx>
  void on_success(const It& first, const It& last, Attr& ast, const Ctx& ctx) const {
    const char* base = x3::get<base_tag>(ctx);
    if constexpr (requires { ast.pos; }) {
      ast.pos = static_cast<uint32_t>(first - base);
    }
    if constexpr (requires { ast.end_pos; }) {
      ast.end_pos = static_cast<uint32_t>(last - base);
    }
  }
};

using x3::attr;
using x3::char_;
using x3::lit;
using x3::raw;

// ASCII-only classes: Spirit's standard classes assert on non-ASCII (negative) chars.
const auto ascii_digit = x3::char_('0', '9');
const auto ascii_alpha = x3::char_('a', 'z') | x3::char_('A', 'Z');
const auto ascii_alnum = ascii_alpha | ascii_digit;

const auto space_char = char_(" \t\r\n");
const auto sp = x3::omit[+space_char];
const auto ident_char = ascii_alnum | char_('_');
inline auto kw(const char* k) { return lit(k) >> !ident_char; }

struct ident_class;
struct dq_class;
struct dq_rest_class;
struct raw_class;
struct raw_rest_class;
struct chr_class;
struct chr_rest_class;
struct number_class;
struct tagged_class;
struct paren_value_class;
struct paren_close_class;
struct term_class;
struct operand_class : annotate {};
struct command_class;
struct vars_class;
struct decl_class;
struct pipeline_class : annotate {};
struct pipe_if_class : annotate {};
struct pipe_range_class : annotate {};
struct pipe_with_class : annotate {};
struct pipe_block_class : annotate {};
struct name_define_class;
struct name_template_class;
struct name_block_class;
struct keyword_class;
struct comment_rest_class;
struct close_class;
struct body_class;
struct action_class : annotate {};
struct text_class : annotate {};
struct items_class;

const x3::rule<ident_class, std::string> ident = "identifier";
const x3::rule<dq_class, Tagged> dq = "quoted string";
const x3::rule<dq_rest_class> dq_rest = "unterminated quoted string";
const x3::rule<raw_class, Tagged> raw_str = "raw string";
const x3::rule<raw_rest_class> raw_rest = "unterminated raw quoted string";
const x3::rule<chr_class, Tagged> chr = "character constant";
const x3::rule<chr_rest_class> chr_rest = "unterminated character constant";
const x3::rule<number_class, Tagged> number = "number";
const x3::rule<tagged_class, Tagged> tagged = "operand";
const x3::rule<paren_value_class, PipelineX> paren_value = "parenthesized pipeline";
const x3::rule<paren_close_class> paren_close = "unclosed left paren";
const x3::rule<term_class, x3::variant<Tagged, x3::forward_ast<PipelineX>>> term = "term";
const x3::rule<operand_class, OperandX> operand = "operand";
const x3::rule<command_class, CommandX> command = "command";
const x3::rule<vars_class, std::vector<std::string>> vars = "variables";
const x3::rule<decl_class, DeclX> decl = "declaration";
const x3::rule<pipeline_class, PipelineX> pipeline = "pipeline";
const x3::rule<pipe_if_class, PipelineX> pipe_if = "if";
const x3::rule<pipe_range_class, PipelineX> pipe_range = "range";
const x3::rule<pipe_with_class, PipelineX> pipe_with = "with";
const x3::rule<pipe_block_class, PipelineX> pipe_block = "block";
const x3::rule<name_define_class, std::string> name_define = "define clause";
const x3::rule<name_template_class, std::string> name_template = "template clause";
const x3::rule<name_block_class, std::string> name_block = "block clause";
const x3::rule<keyword_class, KeywordX> keyword = "keyword";
const x3::rule<comment_rest_class, std::string> comment_rest = "unclosed comment";
const x3::rule<close_class, bool> close = "close";
const x3::rule<body_class, x3::variant<KeywordX, PipelineX>> body = "command";
const x3::rule<action_class, ActionX> action = "action";
const x3::rule<text_class, TextX> text = "text";
const x3::rule<items_class, ItemsX> items = "items";

const auto ident_def = raw[(ascii_alpha | char_('_')) >> *ident_char];

// Strings keep their quotes; template_parse.cpp unquotes them with Go's rules.
const auto dq_rest_def = *((lit('\\') >> (char_ - '\n')) | (char_ - char_("\"\\\n"))) >> lit('"');
const auto dq_def = attr('"') >> raw[lit('"') > dq_rest];
const auto raw_rest_def = *(char_ - '`') >> lit('`');
const auto raw_str_def = attr('`') >> raw[lit('`') > raw_rest];
const auto chr_rest_def = *((lit('\\') >> (char_ - '\n')) | (char_ - char_("'\\\n"))) >> lit('\'');
const auto chr_def = attr('\'') >> raw[lit('\'') > chr_rest];

// Loose number shape; template_parse.cpp validates it ("bad number syntax").
const auto number_def =
    attr('n') >> raw[-char_("+-") >> (ascii_digit | (lit('.') >> ascii_digit)) >>
                     *((char_("eEpP") >> char_("+-")) | ascii_alnum | char_("_."))];

const auto tagged_def = dq | raw_str | chr | number | (attr('b') >> raw[kw("true") | kw("false")]) |
                        (attr('0') >> raw[kw("nil")]) | (attr('$') >> lit('$') >> raw[-ident]) |
                        (attr('f') >> lit('.') >> ident) |
                        (attr('.') >> lit('.') >> attr(std::string())) | (attr('i') >> ident);

const auto paren_value_def = pipeline;
const auto paren_close_def = lit(')');
const auto term_def = (lit('(') > -sp > paren_value > -sp > paren_close) | tagged;
const auto operand_def = term >> *(lit('.') >> ident);
const auto command_def = operand >> *(sp >> operand);

const auto var_name = raw[lit('$') >> -ident];
const auto vars_def = var_name >> -(-sp >> lit(',') >> -sp >> var_name);
const auto decl_def = vars >> -sp >> (x3::string(":=") | x3::string("=")) >> -sp;
const auto pipeline_def = -decl >> (command % (-sp >> lit('|') >> -sp));
const auto pipe_if_def = pipeline;
const auto pipe_range_def = pipeline;
const auto pipe_with_def = pipeline;
const auto pipe_block_def = pipeline;

const auto name_def = raw[dq | raw_str];
const auto name_define_def = name_def;
const auto name_template_def = name_def;
const auto name_block_def = name_def;

const auto none = attr(std::string());
const auto no_pipe = attr(PipelineX());
inline auto word(const char* s) { return attr(std::string(s)); }

const auto comment_rest_def = raw[*(char_ - "*/")] >> lit("*/");
const auto keyword_def =
    (((lit("/*") >> word("comment")) > comment_rest) >> no_pipe) |
    (kw("if") >> word("if") >> none >> (-sp > pipe_if)) |
    (kw("else") >> sp >> kw("if") >> word("elseif") >> none >> (-sp > pipe_if)) |
    (kw("else") >> sp >> kw("with") >> word("elsewith") >> none >> (-sp > pipe_with)) |
    (kw("else") >> word("else") >> none >> no_pipe) |
    (kw("end") >> word("end") >> none >> no_pipe) |
    (kw("range") >> word("range") >> none >> (-sp > pipe_range)) |
    (kw("with") >> word("with") >> none >> (-sp > pipe_with)) |
    (kw("define") >> word("define") >> (-sp > name_define) >> no_pipe) |
    (kw("template") >> word("template") >> (-sp > name_template) >> ((sp >> pipeline) | no_pipe)) |
    (kw("block") >> word("block") >> (-sp > name_block) >> (-sp > pipe_block)) |
    (kw("break") >> word("break") >> none >> no_pipe) |
    (kw("continue") >> word("continue") >> none >> no_pipe);

const auto close_def = -sp >> ((lit("-}}") >> attr(true)) | (lit("}}") >> attr(false)));
const auto body_def = keyword | pipeline;
const auto trim_left = x3::matches[lit('-') >> &space_char];
const auto action_def = lit("{{") > trim_left > -sp > body > close;
const auto text_def = raw[+(char_ - "{{")] >> attr(char(0));
const auto items_def = *(text | action);

BOOST_SPIRIT_DEFINE(ident, dq, dq_rest, raw_str, raw_rest, chr, chr_rest, number, tagged,
                    paren_value, paren_close, term, operand, command, vars, decl, pipeline, pipe_if,
                    pipe_range, pipe_with, pipe_block, name_define, name_template, name_block,
                    keyword, comment_rest, close, body, action, text, items)

}  // namespace

bool parse_items(const char* first, const char* last, ItemsX& out, const char*& stop) {
  return parse_items(first, first, last, out, stop);
}

bool parse_items(const char* base, const char* first, const char* last, ItemsX& out,
                 const char*& stop) {
  const char* it = first;
  const bool ok = x3::parse(it, last, x3::with<base_tag>(base)[items], out);
  stop = it;
  return ok && it == last;
}

}  // namespace ruleeval::tmpl::grammar
