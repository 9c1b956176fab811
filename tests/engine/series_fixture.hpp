// The evaluator tests' common ground: a Storage loaded from promqltest `load` lines (one series a
// line in the expanding notation, samples `interval` apart from 0) and queries parsed with every
// parser feature enabled, REQUIRE-ing that each line and query parses.
#pragma once

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <string_view>

#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/load_notation.hpp"
#include "ruleeval/parser/promql.hpp"

namespace series_fixture {

inline constexpr ruleeval::Millis kMin = 60'000;

// Loads every non-blank line of `text` into `storage`.
inline void load_lines(ruleeval::engine::Storage& storage, std::string_view text,
                       ruleeval::Millis interval = kMin) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto spec = ruleeval::engine::parse_series_line(line);
    REQUIRE_MESSAGE(spec.has_value(), line);
    ruleeval::engine::load_series(storage, *spec, 0, interval);
  }
}

// `q` parsed with every feature (experimental ones too); the parse error is the message.
inline ruleeval::promql::ExprPtr parse_all(std::string_view q) {
  auto e = ruleeval::promql::parse(q, ruleeval::promql::ParseOptions::all());
  const std::string what = e ? std::string(q) : std::string(q) + ": " + e.error().to_string();
  REQUIRE_MESSAGE(e.has_value(), what);
  return std::move(*e);
}

// The instant query `q` at `t` over `storage`.
inline ruleeval::Result<ruleeval::engine::QueryResult> instant_all(
    ruleeval::engine::Storage& storage, std::string_view q, ruleeval::Millis t) {
  return ruleeval::engine::instant_query(storage, *parse_all(q), t);
}

}  // namespace series_fixture
