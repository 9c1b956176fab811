// The canonical printer (Prometheus's Expr.String() style) and the JSON dump of the AST.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "promql_internal.hpp"
#include "ruleeval/common/labels.hpp"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::promql {
namespace {

// Go's fmt %v for float64 (strconv 'g' with the shortest digits): exponent form when the
// decimal exponent is < -4 or >= 6 (so 1e+06), plain digits otherwise; +Inf/-Inf/NaN.
std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  auto epos = sci.find('e');
  int exp = std::atoi(sci.c_str() + epos + 1);
  if (exp < -4 || exp >= 6) return sci;
  r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string label_name(std::string_view s) {
  if (detail::is_legacy_label_name(s)) return std::string(s);
  return go_quote(s);
}

std::string label_list(const std::vector<std::string>& labels) {
  std::string out = "(";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ", ";
    out += label_name(labels[i]);
  }
  out += ')';
  return out;
}

std::string matcher_string(const LabelMatcher& m) {
  return label_name(m.name) + std::string(to_string(m.op)) + go_quote(m.value);
}

std::string at_string(const AtModifier& at) {
  switch (at.kind) {
    case AtModifier::Kind::None: return "";
    case AtModifier::Kind::Start: return " @ start()";
    case AtModifier::Kind::End: return " @ end()";
    case AtModifier::Kind::Timestamp: {
      char buf[64];
      std::snprintf(buf, sizeof buf, " @ %.3f", ms_to_seconds(at.timestamp));
      return buf;
    }
  }
  return "";
}

std::string offset_string(Millis offset) {
  if (offset > 0) return " offset " + format_duration(offset);
  if (offset < 0) return " offset -" + format_duration(-offset);
  return "";
}

// The selector without its offset and @ (they are printed after a range, if any).
std::string selector_core(const VectorSelector& vs) {
  std::vector<std::string> parts;
  size_t n = vs.matchers.size();
  // The implicit __name__ matcher (last) is implied by the name.
  if (!vs.name.empty() && n > 0 && vs.matchers[n - 1].name == "__name__") --n;
  std::string out;
  bool braces_name = vs.name_in_braces || (!vs.name.empty() && !detail::is_legacy_metric_name(vs.name));
  if (braces_name) parts.push_back(go_quote(vs.name));
  for (size_t i = 0; i < n; ++i) parts.push_back(matcher_string(vs.matchers[i]));
  if (!braces_name) out = vs.name;
  if (!parts.empty() || vs.name.empty()) {
    out += '{';
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i) out += ", ";
      out += parts[i];
    }
    out += '}';
  }
  return out;
}

void print(const Expr& e, std::string& out);

// Experimental duration expressions: literals written as durations print as durations.
void print_duration(const Expr& e, std::string& out) {
  if (auto* n = e.as<NumberLiteral>()) {
    double ms = n->value * 1000.0;
    if (n->is_duration && n->value > 0 && ms == std::floor(ms) && ms < 9.2e18) {
      out += format_duration(static_cast<Millis>(ms));
    } else {
      out += format_number(n->value);
    }
  } else if (auto* p = e.as<Paren>()) {
    out += '(';
    print_duration(*p->expr, out);
    out += ')';
  } else if (auto* u = e.as<Unary>()) {
    out += u->op == UnaryOp::Minus ? '-' : '+';
    print_duration(*u->expr, out);
  } else if (auto* b = e.as<Binary>()) {
    const auto* lit = b->lhs->as<NumberLiteral>();
    if (b->op == BinaryOp::Pow && lit && std::isinf(lit->value) && lit->value > 0) {
      out += "Inf";  // see the note in print() below
    } else {
      print_duration(*b->lhs, out);
    }
    out += ' ';
    out += to_string(b->op);
    out += ' ';
    print_duration(*b->rhs, out);
  } else if (auto* c = e.as<Call>()) {
    std::string_view name = c->func ? c->func->name : "";
    if (name == "min_of") name = "min";
    if (name == "max_of") name = "max";
    out += name;
    out += '(';
    for (size_t i = 0; i < c->args.size(); ++i) {
      if (i) out += ", ";
      print_duration(*c->args[i], out);
    }
    out += ')';
  } else {
    print(e, out);
  }
}

void print_range(Millis v, const ExprPtr& expr, std::string& out) {
  if (expr) {
    print_duration(*expr, out);
  } else {
    out += format_duration(v);
  }
}

std::string offset_part(Millis offset, const Expr* expr) {
  if (!expr) return offset_string(offset);
  std::string out = " offset ";
  print_duration(*expr, out);
  return out;
}

void print_ptr(const ExprPtr& e, std::string& out) {
  if (e) print(*e, out);
}

void print(const Expr& e, std::string& out) {
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, NumberLiteral>) {
          out += format_number(n.value);
        } else if constexpr (std::is_same_v<T, StringLiteral>) {
          out += go_quote(n.value);
        } else if constexpr (std::is_same_v<T, VectorSelector>) {
          out += selector_core(n);
          out += at_string(n.at);
          out += offset_part(n.offset, n.offset_expr.get());
          if (n.anchored) out += " anchored";
          if (n.smoothed) out += " smoothed";
        } else if constexpr (std::is_same_v<T, MatrixSelector>) {
          const auto* vs = n.vector ? n.vector->template as<VectorSelector>() : nullptr;
          if (!vs) return;
          out += selector_core(*vs);
          out += '[';
          print_range(n.range, n.range_expr, out);
          out += ']';
          out += at_string(vs->at);
          out += offset_part(vs->offset, vs->offset_expr.get());
          if (n.anchored) out += " anchored";
          if (n.smoothed) out += " smoothed";
        } else if constexpr (std::is_same_v<T, Subquery>) {
          print_ptr(n.expr, out);
          out += '[';
          print_range(n.range, n.range_expr, out);
          out += ':';
          if (n.step_expr || n.step != 0) print_range(n.step, n.step_expr, out);
          out += ']';
          out += at_string(n.at);
          out += offset_part(n.offset, n.offset_expr.get());
        } else if constexpr (std::is_same_v<T, Paren>) {
          out += '(';
          print_ptr(n.expr, out);
          out += ')';
        } else if constexpr (std::is_same_v<T, Unary>) {
          out += n.op == UnaryOp::Minus ? '-' : '+';
          print_ptr(n.expr, out);
        } else if constexpr (std::is_same_v<T, Binary>) {
          // "+Inf ^ x" would read back as +(Inf ^ x): the unary sign binds looser than `^`.
          // A signed literal cannot be a bare left operand of `^` otherwise (`(-2) ^ x` keeps
          // its parentheses), so only +Inf (e.g. from 1e400) needs its sign left off here.
          const auto* lit = n.lhs ? n.lhs->template as<NumberLiteral>() : nullptr;
          if (n.op == BinaryOp::Pow && lit && std::isinf(lit->value) && lit->value > 0) {
            out += "Inf";
          } else {
            print_ptr(n.lhs, out);
          }
          out += ' ';
          out += to_string(n.op);
          if (n.return_bool) out += " bool";
          if (n.matching) {
            const auto& vm = *n.matching;
            if (vm.on || vm.explicit_matching || !vm.matching_labels.empty()) {
              out += vm.on ? " on " : " ignoring ";
              out += label_list(vm.matching_labels);
              if (vm.card == Cardinality::ManyToOne || vm.card == Cardinality::OneToMany) {
                out += vm.card == Cardinality::ManyToOne ? " group_left " : " group_right ";
                out += label_list(vm.include);
              }
            }
            if (vm.fill_left && vm.fill_right &&
                // Bitwise on purpose: fill(NaN) stays one fill(), fill(-0) differs from fill(0).
                // NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): see the line above
                std::memcmp(&*vm.fill_left, &*vm.fill_right, sizeof(double)) == 0) {
              out += " fill(" + format_number(*vm.fill_left) + ")";
            } else {
              if (vm.fill_left) out += " fill_left(" + format_number(*vm.fill_left) + ")";
              if (vm.fill_right) out += " fill_right(" + format_number(*vm.fill_right) + ")";
            }
          }
          out += ' ';
          print_ptr(n.rhs, out);
        } else if constexpr (std::is_same_v<T, Aggregate>) {
          out += to_string(n.op);
          if (n.without) {
            out += " without ";
            out += label_list(n.grouping);
            out += ' ';
          } else if (!n.grouping.empty()) {
            out += " by ";
            out += label_list(n.grouping);
            out += ' ';
          }
          out += '(';
          if (n.param) {
            print(*n.param, out);
            out += ", ";
          }
          print_ptr(n.expr, out);
          out += ')';
        } else if constexpr (std::is_same_v<T, Call>) {
          if (n.func) out += n.func->name;
          out += '(';
          for (size_t i = 0; i < n.args.size(); ++i) {
            if (i) out += ", ";
            print_ptr(n.args[i], out);
          }
          out += ')';
        }
      },
      e.node);
}

// ---------------------------------------------------------------------------------------------
// JSON

void json_string(std::string_view s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void json_strings(const std::vector<std::string>& v, std::string& out) {
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    json_string(v[i], out);
  }
  out += ']';
}

void json_at(const AtModifier& at, std::string& out) {
  switch (at.kind) {
    case AtModifier::Kind::None: out += "null"; break;
    case AtModifier::Kind::Start: out += "\"start\""; break;
    case AtModifier::Kind::End: out += "\"end\""; break;
    case AtModifier::Kind::Timestamp: out += std::to_string(at.timestamp); break;
  }
}

void json(const Expr& e, std::string& out);

void json_ptr(const ExprPtr& e, std::string& out) {
  if (e) {
    json(*e, out);
  } else {
    out += "null";
  }
}

void json(const Expr& e, std::string& out) {
  out += "{\"type\":";
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, NumberLiteral>) {
          out += "\"numberLiteral\",\"value\":";
          json_string(format_number(n.value), out);
        } else if constexpr (std::is_same_v<T, StringLiteral>) {
          out += "\"stringLiteral\",\"value\":";
          json_string(n.value, out);
        } else if constexpr (std::is_same_v<T, VectorSelector>) {
          out += "\"vectorSelector\",\"name\":";
          json_string(n.name, out);
          out += ",\"matchers\":[";
          for (size_t i = 0; i < n.matchers.size(); ++i) {
            if (i) out += ',';
            out += "{\"name\":";
            json_string(n.matchers[i].name, out);
            out += ",\"op\":";
            json_string(to_string(n.matchers[i].op), out);
            out += ",\"value\":";
            json_string(n.matchers[i].value, out);
            out += '}';
          }
          out += "],\"offset\":" + std::to_string(n.offset) + ",\"at\":";
          json_at(n.at, out);
          if (n.offset_expr) {
            out += ",\"offsetExpr\":";
            json(*n.offset_expr, out);
          }
          if (n.anchored) out += ",\"anchored\":true";
          if (n.smoothed) out += ",\"smoothed\":true";
        } else if constexpr (std::is_same_v<T, MatrixSelector>) {
          out += "\"matrixSelector\",\"range\":" + std::to_string(n.range);
          if (n.range_expr) {
            out += ",\"rangeExpr\":";
            json(*n.range_expr, out);
          }
          if (n.anchored) out += ",\"anchored\":true";
          if (n.smoothed) out += ",\"smoothed\":true";
          out += ",\"vector\":";
          json_ptr(n.vector, out);
        } else if constexpr (std::is_same_v<T, Subquery>) {
          out += "\"subquery\",\"range\":" + std::to_string(n.range) +
                 ",\"step\":" + std::to_string(n.step) + ",\"offset\":" + std::to_string(n.offset) +
                 ",\"at\":";
          json_at(n.at, out);
          if (n.range_expr) {
            out += ",\"rangeExpr\":";
            json(*n.range_expr, out);
          }
          if (n.step_expr) {
            out += ",\"stepExpr\":";
            json(*n.step_expr, out);
          }
          if (n.offset_expr) {
            out += ",\"offsetExpr\":";
            json(*n.offset_expr, out);
          }
          out += ",\"expr\":";
          json_ptr(n.expr, out);
        } else if constexpr (std::is_same_v<T, Paren>) {
          out += "\"paren\",\"expr\":";
          json_ptr(n.expr, out);
        } else if constexpr (std::is_same_v<T, Unary>) {
          out += n.op == UnaryOp::Minus ? "\"unary\",\"op\":\"-\"" : "\"unary\",\"op\":\"+\"";
          out += ",\"expr\":";
          json_ptr(n.expr, out);
        } else if constexpr (std::is_same_v<T, Binary>) {
          out += "\"binary\",\"op\":";
          json_string(to_string(n.op), out);
          out += ",\"bool\":";
          out += n.return_bool ? "true" : "false";
          out += ",\"matching\":";
          if (n.matching) {
            static constexpr const char* kCard[] = {"one-to-one", "many-to-one", "one-to-many",
                                                    "many-to-many"};
            out += "{\"card\":\"";
            out += kCard[static_cast<int>(n.matching->card)];
            out += "\",\"on\":";
            out += n.matching->on ? "true" : "false";
            out += ",\"labels\":";
            json_strings(n.matching->matching_labels, out);
            out += ",\"include\":";
            json_strings(n.matching->include, out);
            if (n.matching->fill_left) {
              out += ",\"fillLeft\":";
              json_string(format_number(*n.matching->fill_left), out);
            }
            if (n.matching->fill_right) {
              out += ",\"fillRight\":";
              json_string(format_number(*n.matching->fill_right), out);
            }
            out += '}';
          } else {
            out += "null";
          }
          out += ",\"lhs\":";
          json_ptr(n.lhs, out);
          out += ",\"rhs\":";
          json_ptr(n.rhs, out);
        } else if constexpr (std::is_same_v<T, Aggregate>) {
          out += "\"aggregate\",\"op\":";
          json_string(to_string(n.op), out);
          out += ",\"grouping\":";
          json_strings(n.grouping, out);
          out += ",\"without\":";
          out += n.without ? "true" : "false";
          out += ",\"param\":";
          json_ptr(n.param, out);
          out += ",\"expr\":";
          json_ptr(n.expr, out);
        } else if constexpr (std::is_same_v<T, Call>) {
          out += "\"call\",\"func\":";
          json_string(n.func ? n.func->name : "", out);
          out += ",\"args\":[";
          for (size_t i = 0; i < n.args.size(); ++i) {
            if (i) out += ',';
            json_ptr(n.args[i], out);
          }
          out += ']';
        }
      },
      e.node);
  out += ",\"span\":[" + std::to_string(e.span.begin) + "," + std::to_string(e.span.end) + "]}";
}

}  // namespace

std::string format(const Expr& e) {
  std::string out;
  out.reserve(64);
  print(e, out);
  return out;
}

std::string to_json(const Expr& e) {
  std::string out;
  json(e, out);
  return out;
}

}  // namespace ruleeval::promql
