// Go templates, all concepts at once: the parse tree (template_ast.hpp), parsing
// (template_parse.hpp), analysis (template_analyze.hpp), execution (template_exec.hpp), the
// function sets (template_funcs.hpp), Alertmanager's data model (template_data.hpp) and Go's fmt
// (go_fmt.hpp). Include the one you need; this header is for code that uses most of them.
#pragma once

#include "ruleeval/parser/go_fmt.hpp"
#include "ruleeval/parser/template_analyze.hpp"
#include "ruleeval/parser/template_ast.hpp"
#include "ruleeval/parser/template_data.hpp"
#include "ruleeval/parser/template_exec.hpp"
#include "ruleeval/parser/template_funcs.hpp"
#include "ruleeval/parser/template_parse.hpp"
#include "ruleeval/parser/template_value.hpp"
