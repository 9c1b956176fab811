// Prometheus duration grammar (model.ParseDuration): one or more <digits><unit> terms, units in
// strictly decreasing order, each at most once; or a plain "0".
#include "ruleeval/parser/duration.hpp"

#include <boost/spirit/home/x3.hpp>

#include <limits>

namespace ruleeval {
namespace {

namespace x3 = boost::spirit::x3;

struct Unit {
  int rank;
  int64_t ms;
};

struct UnitTable : x3::symbols<Unit> {
  UnitTable() {
    // "ms" must be tried before "m": symbols<> matches the longest key.
    add("y", {0, 365LL * 24 * 3600 * 1000})("w", {1, 7LL * 24 * 3600 * 1000})(
        "d", {2, 24LL * 3600 * 1000})("h", {3, 3600LL * 1000})("m", {4, 60LL * 1000})(
        "s", {5, 1000})("ms", {6, 1});
  }
};

const UnitTable kUnits;

}  // namespace

Result<Millis> parse_duration(std::string_view s) {
  auto invalid = [&] { return make_error("not a valid duration string: \"" + std::string(s) + "\""); };
  if (s == "0") return 0;
  if (s.empty()) return make_error("empty duration string");

  auto it = s.begin();
  const auto end = s.end();
  int last_rank = -1;
  int64_t total = 0;
  bool overflow = false;
  while (it != end) {
    uint64_t n = 0;
    Unit u{};
    // uint_ rejects signs and fractions, which Prometheus durations never have.
    static const x3::uint_parser<uint64_t> digits;
    if (!x3::parse(it, end, digits, n)) return invalid();
    if (!x3::parse(it, end, kUnits, u)) return invalid();
    if (u.rank <= last_rank) return invalid();
    last_rank = u.rank;
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / u.ms)) {
      overflow = true;
      break;
    }
    int64_t add = static_cast<int64_t>(n) * u.ms;
    if (total > std::numeric_limits<int64_t>::max() - add) {
      overflow = true;
      break;
    }
    total += add;
  }
  if (overflow) return make_error("duration out of range: \"" + std::string(s) + "\"");
  return total;
}

std::string format_duration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  struct {
    const char* unit;
    int64_t ms;
  } const units[] = {{"y", 365LL * 24 * 3600 * 1000}, {"w", 7LL * 24 * 3600 * 1000},
                     {"d", 24LL * 3600 * 1000},        {"h", 3600LL * 1000},
                     {"m", 60LL * 1000},               {"s", 1000},
                     {"ms", 1}};
  for (const auto& u : units) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms);
      out += u.unit;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace ruleeval
