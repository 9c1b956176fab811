// A YAML emitter that writes what go-yaml v2 (libyaml's emitter
// port, best width 80) writes for string maps and sequences: the shape of Sloth's output.
#include <algorithm>
#include <cstdio>
#include <vector>
#include <regex>
#include <string>

#include "goyaml.hpp"
#include "ruleeval/slo/slo.hpp"

namespace ruleeval::slo {

namespace yaml {

bool go_key_less(const std::string& as, const std::string& bs) {
  // go-yaml v2's keyList.Less: letters sort after other runes, digit runs compare numerically.
  auto is_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const std::string& a = as;
  const std::string& b = bs;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    bool al = is_letter(a[i]), bl = is_letter(b[i]);
    if (al && bl) return a[i] < b[i];
    if (al || bl) return bl;
    long long an = 0, bn = 0;
    if (a[i] == '0' || b[i] == '0') {
      for (size_t j = i; j-- > 0 && is_digit(a[j]);) {
        if (a[j] != '0') {
          an = 1;
          bn = 1;
          break;
        }
      }
    }
    size_t ai = i, bi = i;
    for (; ai < a.size() && is_digit(a[ai]); ++ai) an = an * 10 + (a[ai] - '0');
    for (; bi < b.size() && is_digit(b[bi]); ++bi) bn = bn * 10 + (b[bi] - '0');
    if (an != bn) return an < bn;
    if (ai != bi) return ai < bi;
    return a[i] < b[i];
  }
  return a.size() < b.size();
}

namespace {

bool resolves_to_non_string(const std::string& s) {
  static const std::regex re(
      R"(^(~|null|Null|NULL|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$)"
      R"(|^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$)"
      R"(|^[-+]?0x[0-9a-fA-F_]+$|^[-+]?0b[01_]+$|^[-+]?0o?[0-7_]+$)"
      R"(|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$)"
      R"(|^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$)"
      R"(|^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?([Tt ].*)?$)");
  if (s.empty()) return true;
  // Everything that resolves is short, except long digit strings; std::regex recurses per char.
  if (s.size() > 64) return s.find_first_not_of("0123456789_.+-eE") == std::string::npos;
  return std::regex_search(s, re);
}

struct Analysis {
  bool multiline = false, block_plain = true, single = true, block = true;
};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0'; }
bool printable(unsigned char c) {
  return c == '\n' || (c >= 0x20 && c != 0x7f) ;  // UTF-8 bytes >= 0x80 are allowed (unicode)
}

Analysis analyze(const std::string& v) {
  Analysis a;
  bool flow_ind = false, block_ind = false, special = false, line_breaks = false;
  bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
  bool break_space = false, space_break = false, prev_space = false, prev_break = false;
  if (v.rfind("---", 0) == 0 || v.rfind("...", 0) == 0) flow_ind = block_ind = true;
  bool preceded_ws = true;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    bool followed_ws = i + 1 >= v.size() || is_blank(v[i + 1]);
    if (i == 0) {
      if (std::string_view("#,[]{}&*!|>'\"%@`").find(c) != std::string_view::npos)
        flow_ind = block_ind = true;
      if (c == '?' || c == ':') {
        flow_ind = true;
        if (followed_ws) block_ind = true;
      }
      if (c == '-' && followed_ws) flow_ind = block_ind = true;
    } else {
      if (std::string_view(",?[]{}").find(c) != std::string_view::npos) flow_ind = true;
      if (c == ':') {
        flow_ind = true;
        if (followed_ws) block_ind = true;
      }
      if (c == '#' && preceded_ws) flow_ind = block_ind = true;
    }
    if (!printable(static_cast<unsigned char>(c))) special = true;
    if (c == '\n') line_breaks = true;
    if (c == ' ') {
      if (i == 0) leading_space = true;
      if (i + 1 == v.size()) trailing_space = true;
      if (prev_break) break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (c == '\n') {
      if (i == 0) leading_break = true;
      if (i + 1 == v.size()) trailing_break = true;
      if (prev_space) space_break = true;
      prev_break = true;
      prev_space = false;
    } else {
      prev_space = prev_break = false;
    }
    preceded_ws = is_blank(c);
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) a.block_plain = false;
  if (trailing_space) a.block = false;
  if (break_space) a.block_plain = a.single = false;
  if (space_break || special) a.block_plain = a.single = a.block = false;
  if (line_breaks) a.block_plain = false;
  if (block_ind) a.block_plain = false;
  (void)flow_ind;
  return a;
}

void write_indent(std::string& out, int indent) {
  out += '\n';
  out.append(static_cast<size_t>(indent), ' ');
}

// Appends `v` (plain or single-quoted), folding at spaces past column 80.
void write_folded(std::string& out, const std::string& v, int indent, int column, bool quoted) {
  bool spaces = false;
  if (quoted) {
    out += '\'';
    ++column;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == ' ') {
      bool next_space = i + 1 < v.size() && v[i + 1] == ' ';
      bool ok = !spaces && column > 80 && !next_space && (!quoted || (i > 0 && i + 1 < v.size()));
      if (ok) {
        write_indent(out, indent);
        column = indent;
      } else {
        out += c;
        ++column;
      }
      spaces = true;
    } else {
      if (quoted && c == '\'') {
        out += "''";
        column += 2;
      } else {
        out += c;
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column;
      }
      spaces = false;
    }
  }
  if (quoted) out += '\'';
}

void write_double(std::string& out, const std::string& v) {
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02X", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

}  // namespace

void scalar(std::string& out, const std::string& v, int indent, int column) {
  Analysis a = analyze(v);
  if (v.find('\n') != std::string::npos) {
    if (!a.block) {
      write_double(out, v);
      out += '\n';
      return;
    }
    out += '|';
    if (v[0] == ' ' || v[0] == '\n') out += '2';
    if (v.back() != '\n') {
      out += '-';
    } else if (v.size() == 1 || v[v.size() - 2] == '\n') {
      out += '+';
    }
    size_t pos = 0;
    std::string body = v;
    if (!body.empty() && body.back() == '\n') body.pop_back();
    while (pos <= body.size()) {
      size_t nl = body.find('\n', pos);
      std::string line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
      out += '\n';
      if (!line.empty()) {
        out.append(static_cast<size_t>(indent), ' ');
        out += line;
      }
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    out += '\n';
    return;
  }
  if (!resolves_to_non_string(v) && (a.block_plain || a.single)) {
    write_folded(out, v, indent, column, !a.block_plain);  // plain block scalar, else single-quoted
  } else {
    write_double(out, v);
  }
  out += '\n';
}

void key_value(std::string& out, int indent, const std::string& key, const std::string& value) {
  std::string prefix(static_cast<size_t>(indent), ' ');
  out += prefix;
  out += key;
  out += ": ";
  scalar(out, value, indent + 2, indent + static_cast<int>(key.size()) + 2);
}

void string_map(std::string& out, int indent, const std::string& key, const StrMap& m) {
  out.append(static_cast<size_t>(indent), ' ');
  out += key;
  out += ":\n";
  std::vector<std::string> keys;
  for (const auto& [k, _] : m) keys.push_back(k);
  std::stable_sort(keys.begin(), keys.end(), go_key_less);
  for (const auto& k : keys) key_value(out, indent + 2, k, m.at(k));
}

}  // namespace yaml
}  // namespace ruleeval::slo

namespace ruleeval::slo {
std::pair<size_t, size_t> find_window_var(const std::string& s, size_t from) {
  for (size_t i = s.find("{{", from); i != std::string::npos; i = s.find("{{", i + 1)) {
    size_t j = i + 2;
    while (j < s.size() && s[j] == ' ') ++j;
    if (s.compare(j, 7, ".window") != 0) continue;
    j += 7;
    while (j < s.size() && s[j] == ' ') ++j;
    if (s.compare(j, 2, "}}") != 0) continue;
    return {i, j + 2 - i};
  }
  return {std::string::npos, 0};
}

std::string prom_duration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string r;
  auto f = [&](const char* unit, int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    if (int64_t v = ms / mult; v > 0) {
      r += std::to_string(v) + unit;
      ms -= v * mult;
    }
  };
  const int64_t d = 86'400'000;
  f("y", 365 * d, true);
  f("w", 7 * d, true);
  f("d", d, false);
  f("h", 3'600'000, false);
  f("m", 60'000, false);
  f("s", 1000, false);
  f("ms", 1, false);
  return r;
}
}  // namespace ruleeval::slo
