// go-yaml v2's output for the shapes ruleeval slo writes (internal).
#pragma once

#include <string>
#include <utility>

#include "ruleeval/slo/slo.hpp"

namespace ruleeval::slo::yaml {

bool go_key_less(const std::string& a, const std::string& b);
// Writes a scalar value that starts at `column` (after "key: "); continuation lines and literal
// block lines are indented by `indent`. Ends with a newline.
void scalar(std::string& out, const std::string& v, int indent, int column);
// "<indent>key: value\n"
void key_value(std::string& out, int indent, const std::string& key, const std::string& value);
// "<indent>key:\n" then the map's entries (go-yaml's key order) at indent + 2.
void string_map(std::string& out, int indent, const std::string& key, const StrMap& m);

}  // namespace ruleeval::slo::yaml

namespace ruleeval::slo {
// Position and length of the next `{{ .window }}` (spaces allowed) at or after `from`; npos if none.
std::pair<size_t, size_t> find_window_var(const std::string& s, size_t from);
// prometheus/common model.Duration.String(): years and weeks only when exact (30d, not 4w2d).
std::string prom_duration(int64_t ms);
}  // namespace ruleeval::slo
