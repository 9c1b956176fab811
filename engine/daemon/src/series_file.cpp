#include "series_file.hpp"

#include <sstream>
#include <string_view>

#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/duration.hpp"

namespace ruleeval::engine {

Result<void> load_series_file(Storage& store, const std::string& path, Millis t0, Env& env) {
  auto text = env.read_file(path);
  if (!text) {
    return make_error("series file: " + text.error().message, SourceLocation{path, 0, 0});
  }
  std::istringstream in(std::move(*text));
  std::string line;
  uint32_t lineno = 0;
  Millis interval = 0;
  Millis start = t0;
  while (std::getline(in, line)) {
    ++lineno;
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::string_view body(line);
    body.remove_prefix(first);
    if (body.substr(0, 5) == "load ") {
      // load <interval> [from -<duration>]: samples start <duration> before start-up.
      std::string rest(body.substr(5));
      start = t0;
      if (auto from = rest.find(" from "); from != std::string::npos) {
        std::string when = rest.substr(from + 6);
        rest.resize(from);
        bool neg = !when.empty() && when[0] == '-';
        auto off = parse_duration(neg ? when.substr(1) : when);
        if (!off) {
          return make_error("invalid `from` offset: " + off.error().message,
                            SourceLocation{path, lineno, static_cast<uint32_t>(first + 12 + from)});
        }
        start = t0 + (neg ? -*off : *off);
      }
      auto d = parse_duration(rest);
      if (!d || *d <= 0) {
        return make_error("invalid load interval", SourceLocation{path, lineno, 6});
      }
      interval = *d;
      continue;
    }
    if (interval == 0) {
      return make_error("series before the first `load <interval>` line",
                        SourceLocation{path, lineno, static_cast<uint32_t>(first + 1)});
    }
    auto spec = parse_series_line(body);
    if (!spec) {
      return make_error(spec.error().message,
                        SourceLocation{path, lineno, static_cast<uint32_t>(first + 1)});
    }
    load_series(store, *spec, start, interval);
  }
  return {};
}

}  // namespace ruleeval::engine
