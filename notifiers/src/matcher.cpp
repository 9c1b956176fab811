#include "ruleeval/notifiers/matcher.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

namespace ruleeval::notifiers {

struct Matcher::Regex {
  explicit Regex(const std::string& pattern) : re("^(?:" + pattern + ")$", RE2::Quiet) {}
  RE2 re;
};

Result<Matcher> Matcher::make(std::string name, MatchOp op, std::string value) {
  if (name.empty()) return make_error("matcher has an empty label name");
  Matcher m;
  m.name_ = std::move(name);
  m.op_ = op;
  m.value_ = std::move(value);
  if (op == MatchOp::kRegex || op == MatchOp::kNotRegex) {
    auto re = std::make_shared<Regex>(m.value_);
    if (!re->re.ok()) {
      return make_error("invalid regular expression \"" + m.value_ + "\": " + re->re.error());
    }
    m.re_ = std::move(re);
  }
  return m;
}

bool Matcher::matches_value(std::string_view v) const {
  switch (op_) {
    case MatchOp::kEqual:
      return v == value_;
    case MatchOp::kNotEqual:
      return v != value_;
    case MatchOp::kRegex:
      return RE2::FullMatch(re2::StringPiece(v.data(), v.size()), re_->re);
    case MatchOp::kNotRegex:
      return !RE2::FullMatch(re2::StringPiece(v.data(), v.size()), re_->re);
  }
  return false;
}

static std::string_view op_text(MatchOp op) {
  switch (op) {
    case MatchOp::kEqual:
      return "=";
    case MatchOp::kNotEqual:
      return "!=";
    case MatchOp::kRegex:
      return "=~";
    case MatchOp::kNotRegex:
      return "!~";
  }
  return "=";
}

std::string Matcher::to_string() const {
  return name_ + std::string(op_text(op_)) + go_quote(value_);
}

namespace {

class MatcherParser {
 public:
  explicit MatcherParser(std::string_view s) : s_(s) {}

  Result<Matchers> parse() {
    Matchers out;
    skip_ws();
    bool braced = false;
    if (pos_ < s_.size() && s_[pos_] == '{') {
      braced = true;
      ++pos_;
    }
    while (true) {
      skip_ws();
      if (pos_ >= s_.size()) break;
      if (braced && s_[pos_] == '}') break;
      auto m = one();
      if (!m) return std::unexpected(m.error());
      out.push_back(std::move(*m));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      break;
    }
    skip_ws();
    if (braced) {
      if (pos_ >= s_.size() || s_[pos_] != '}') return fail("expected '}'");
      ++pos_;
      skip_ws();
    }
    if (pos_ != s_.size()) return fail("unexpected '" + std::string(1, s_[pos_]) + "'");
    if (out.empty() && !braced) return fail("empty matcher");
    return out;
  }

 private:
  std::unexpected<Error> fail(const std::string& what) const {
    return make_error("bad matcher \"" + std::string(s_) + "\" at column " +
                      std::to_string(pos_ + 1) + ": " + what);
  }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  Result<std::string> quoted() {
    char q = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != q) {
      char c = s_[pos_++];
      if (c == '\\' && pos_ < s_.size()) {
        char e = s_[pos_++];
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case '\\':
          case '"':
          case '\'':
            out += e;
            break;
          default:
            // Keep regex escapes such as \d or \. intact.
            out += '\\';
            out += e;
        }
      } else {
        out += c;
      }
    }
    if (pos_ >= s_.size()) return fail("unterminated quoted string");
    ++pos_;
    return out;
  }
  Result<Matcher> one() {
    size_t start = pos_;
    std::string name;
    if (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
      auto q = quoted();
      if (!q) return std::unexpected(q.error());
      name = *q;
    } else {
      while (pos_ < s_.size() && s_[pos_] != '=' && s_[pos_] != '!' && s_[pos_] != '~' &&
             !std::isspace(static_cast<unsigned char>(s_[pos_]))) {
        ++pos_;
      }
      name = std::string(s_.substr(start, pos_ - start));
    }
    if (name.empty()) return fail("missing label name");
    skip_ws();
    MatchOp op;
    if (s_.substr(pos_, 2) == "=~") {
      op = MatchOp::kRegex;
      pos_ += 2;
    } else if (s_.substr(pos_, 2) == "!~") {
      op = MatchOp::kNotRegex;
      pos_ += 2;
    } else if (s_.substr(pos_, 2) == "!=") {
      op = MatchOp::kNotEqual;
      pos_ += 2;
    } else if (s_.substr(pos_, 1) == "=") {
      op = MatchOp::kEqual;
      pos_ += 1;
    } else {
      return fail("expected one of = != =~ !~");
    }
    skip_ws();
    std::string value;
    if (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
      auto q = quoted();
      if (!q) return std::unexpected(q.error());
      value = *q;
    } else {
      size_t vs = pos_;
      while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '}') ++pos_;
      value = std::string(s_.substr(vs, pos_ - vs));
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) {
        value.pop_back();
      }
    }
    auto m = Matcher::make(std::move(name), op, std::move(value));
    if (!m) return fail(m.error().message);
    return m;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<Matchers> parse_matchers(std::string_view text) { return MatcherParser(text).parse(); }

bool matches_all(const Matchers& ms, const Labels& labels) {
  return std::all_of(ms.begin(), ms.end(), [&](const Matcher& m) { return m.matches(labels); });
}

void sort_matchers(Matchers& ms) {
  std::stable_sort(ms.begin(), ms.end(), [](const Matcher& a, const Matcher& b) {
    if (a.name() != b.name()) return a.name() < b.name();
    if (a.value() != b.value()) return a.value() < b.value();
    return static_cast<int>(a.op()) < static_cast<int>(b.op());
  });
}

std::string matchers_to_string(const Matchers& ms) {
  std::string out = "{";
  for (size_t i = 0; i < ms.size(); ++i) {
    if (i) out += ',';
    out += ms[i].to_string();
  }
  out += '}';
  return out;
}

}  // namespace ruleeval::notifiers
