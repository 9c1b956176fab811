// Alertmanager label matchers: `name="value"`, `name!="v"`, `name=~"re"`, `name!~"re"`, with or
// without quotes, alone or in a `{a="b", c=~"d"}` list. Regexes are RE2, fully anchored.
// Thread-safety: Matcher is immutable after make() (the compiled RE2 is shared and RE2 is
// thread-safe); match from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ruleeval/common/error.hpp"
#include "ruleeval/common/labels.hpp"

namespace ruleeval::notifiers {

enum class MatchOp { kEqual, kNotEqual, kRegex, kNotRegex };

class Matcher {
 public:
  static Result<Matcher> make(std::string name, MatchOp op, std::string value);

  const std::string& name() const { return name_; }
  MatchOp op() const { return op_; }
  const std::string& value() const { return value_; }

  bool matches_value(std::string_view v) const;  // a missing label matches as ""
  bool matches(const Labels& labels) const { return matches_value(labels.get(name_)); }
  // Alertmanager's form: name="value" (Go-quoted value).
  std::string to_string() const;

 private:
  struct Regex;
  std::string name_;
  MatchOp op_ = MatchOp::kEqual;
  std::string value_;
  std::shared_ptr<const Regex> re_;
};

using Matchers = std::vector<Matcher>;

// One matcher (`severity=~"crit|page"`, `team = db`) or a braced, comma-separated list.
Result<Matchers> parse_matchers(std::string_view text);
bool matches_all(const Matchers& ms, const Labels& labels);
// Sorted like Alertmanager's route keys: by name, then value, then operator.
void sort_matchers(Matchers& ms);
// {a="b",c=~"d"}
std::string matchers_to_string(const Matchers& ms);

}  // namespace ruleeval::notifiers
