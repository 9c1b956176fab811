// The same floats as Prometheus, bit for bit: every PromQL math function and the ^ and atan2
// operators, evaluated by the embedded engine and by Debian's real Prometheus (Go's math package
// on amd64) over the same seeded inputs, compared exactly (NaN equals NaN). Part of
// backend_integration_tests (ctest label `integration`).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend_servers.hpp"
#include "ruleeval/common/gomath.hpp"
#include "ruleeval/engine/engine.hpp"
#include "ruleeval/engine/querier.hpp"
#include "ruleeval/engine/storage.hpp"
#include "ruleeval/parser/promql.hpp"

using namespace ruleeval;
using namespace ruleeval::engine;
using namespace ruleeval::testing;

namespace {

// A Prometheus with no data: every query below is over literals only.
// With `godebug`, Go's runtime is told to ignore CPU features (cpu.fma=off takes Exp's SSE2 path).
struct EmptyPrometheus {
  TempDir dir;
  std::unique_ptr<ServerProcess> proc;
  std::string url;
  std::string error;
  explicit EmptyPrometheus(const std::string& godebug = "") {
    int port = free_port();
    url = fmt::format("http://127.0.0.1:{}", port);
    std::ofstream(dir.path + "/prometheus.yml") << "global:\n  scrape_interval: 1h\n";
    proc = std::make_unique<ServerProcess>(
        std::vector<std::string>{"/usr/bin/env", "GODEBUG=" + godebug, find_binary("prometheus"),
                                 "--config.file=" + dir.path + "/prometheus.yml",
                                 "--storage.tsdb.path=" + dir.path + "/data",
                                 fmt::format("--web.listen-address=127.0.0.1:{}", port)},
        dir.path);
    if (!wait_ready(url + "/-/ready", 20'000)) error = "prometheus not ready:\n" + proc->log_tail();
  }
};

EmptyPrometheus& prometheus() {
  static EmptyPrometheus p;
  return p;
}

// Shortest text that reads back as exactly `v` (Go's ParseFloat and ours are correctly rounded).
std::string literal(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

bool same_bits(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

// `f(x_i)` for every input as one PromQL query: an `or` of vectors labelled i="<index>".
std::string batch_query(const std::string& fn, const std::vector<double>& xs, size_t from,
                        size_t n) {
  std::string q;
  for (size_t i = from; i < from + n && i < xs.size(); i++) {
    if (!q.empty()) q += " or ";
    q += fmt::format(R"(label_replace(vector({}), "i", "{}", "", ""))", literal(xs[i]), i);
  }
  return fn + "(" + q + ")";
}

std::map<std::string, double> by_index(const Vector& v) {
  std::map<std::string, double> out;
  for (const auto& s : v) out[std::string(s.metric.get("i"))] = s.v;
  return out;
}

Vector eval_embedded(const std::string& query) {
  auto expr = promql::parse(query, {.experimental_functions = true});
  REQUIRE_MESSAGE(expr.has_value(), query);
  Storage empty;
  auto r = instant_query(empty, **expr, 0);
  REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
  REQUIRE(std::holds_alternative<Vector>(r->value));
  return std::get<Vector>(r->value);
}

Vector eval_prometheus(const std::string& query, const EmptyPrometheus& p = prometheus()) {
  HttpClientConfig cfg;
  cfg.url = p.url;
  cfg.timeout_ms = 20'000;
  HttpQuerier q(cfg);
  auto r = q.query(query, 0);
  REQUIRE_MESSAGE(r.has_value(), r.error().to_string());
  REQUIRE(std::holds_alternative<Vector>(r->value));
  return std::get<Vector>(r->value);
}

// Compares one function over all inputs in batches; returns the number of differences (and
// reports the first few).
int compare(const std::string& fn, const std::vector<double>& xs) {
  int diffs = 0;
  constexpr size_t kBatch = 150;
  for (size_t from = 0; from < xs.size(); from += kBatch) {
    std::string query = batch_query(fn, xs, from, kBatch);
    auto ours = by_index(eval_embedded(query));
    auto theirs = by_index(eval_prometheus(query));
    REQUIRE(ours.size() == theirs.size());
    for (const auto& [i, want] : theirs) {
      double got = ours.at(i);
      if (!same_bits(got, want)) {
        if (++diffs <= 12) {
          MESSAGE(fmt::format("{}({}): prometheus {} ({:a}), ruleeval {} ({:a})", fn,
                              literal(xs[std::stoul(i)]), want, want, got, got));
        }
      }
    }
  }
  return diffs;
}

// How many random inputs per case: RULEEVAL_FLOAT_PARITY_N for a longer search.
size_t sample_count() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the test binary never calls setenv
  const char* n = std::getenv("RULEEVAL_FLOAT_PARITY_N");
  return n ? std::strtoul(n, nullptr, 10) : 284;
}

// Seeded inputs over the interesting ranges of each function: uniform, log-uniform over many
// magnitudes, and the edges (zeros, infinities, NaN, subnormals, reduction thresholds).
std::vector<double> inputs(uint32_t seed, double lo, double hi, bool log_uniform, size_t n) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::mt19937_64 rng(seed);
  std::vector<double> xs = {0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-300, 5e-324, -5e-324,
                            2.2250738585072014e-308, 1e300, -1e300, kInf, -kInf, NAN};
  std::uniform_real_distribution<double> u(lo, hi);
  std::uniform_real_distribution<double> e(std::log(lo > 0 ? lo : 1e-300), std::log(hi));
  for (size_t i = 0; i < n; i++) {
    double x = log_uniform ? std::exp(e(rng)) : u(rng);
    if (log_uniform && (rng() & 1)) x = -x;
    xs.push_back(x);
  }
  return xs;
}

}  // namespace

TEST_CASE("math functions give Prometheus's floats bit for bit") {
  if (prometheus().error.size()) FAIL(prometheus().error);
  MESSAGE(fmt::format("Go's Exp path here: {}", gomath::exp_uses_fma() ? "AVX2+FMA" : "SSE2"));
  struct Case {
    const char* fn;
    double lo, hi;
    bool log_uniform;
  };
  const Case cases[] = {
      {"sin", -10, 10, false},       {"sin", 1e-8, 1e22, true},    {"cos", -10, 10, false},
      {"cos", 1e-8, 1e22, true},     {"tan", -10, 10, false},      {"tan", 1e-8, 1e22, true},
      {"asin", -1, 1, false},        {"acos", -1, 1, false},       {"atan", -10, 10, false},
      {"atan", 1e-10, 1e300, true},  {"sinh", -30, 30, false},     {"cosh", -30, 30, false},
      {"tanh", -5, 5, false},        {"tanh", 1e-10, 100, true},   {"asinh", 1e-10, 1e300, true},
      {"acosh", 1, 1e10, true},      {"atanh", -1, 1, false},      {"exp", -750, 710, false},
      {"exp", 1e-12, 700, true},     {"ln", 1e-320, 1e300, true},  {"ln", 0, 3, false},
      {"log2", 1e-320, 1e300, true}, {"log10", 1e-320, 1e300, true}, {"sqrt", 0, 1e6, false},
      {"deg", -10, 10, false},       {"rad", -1000, 1000, false},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    CAPTURE(c.fn);
    auto xs = inputs(seed++, c.lo, c.hi, c.log_uniform, sample_count());
    CHECK(compare(c.fn, xs) == 0);
  }
}

TEST_CASE("the ^ and atan2 operators give Prometheus's floats bit for bit") {
  if (prometheus().error.size()) FAIL(prometheus().error);
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> base(-20, 20), frac(-30, 30);
  std::uniform_int_distribution<int> small(-130, 130);
  int diffs = 0;
  for (int round = 0; round < 6; round++) {
    // x ^ y with y fractional, integral (repeated squaring), and halves; atan2 across quadrants.
    double y = round % 3 == 0 ? frac(rng) : round % 3 == 1 ? small(rng) : small(rng) + 0.5;
    std::vector<double> xs = inputs(100 + round, -20, 20, false, 150);
    for (int i = 0; i < 20; i++) xs.push_back(base(rng) * 1e-3);
    for (const char* op : {"^", "atan2"}) {
      std::string lit = literal(y);
      constexpr size_t kBatch = 150;
      for (size_t from = 0; from < xs.size(); from += kBatch) {
        std::string q = batch_query("", xs, from, kBatch) + " " + op + " " + lit;
        auto ours = by_index(eval_embedded(q));
        auto theirs = by_index(eval_prometheus(q));
        REQUIRE(ours.size() == theirs.size());
        for (const auto& [i, want] : theirs) {
          if (!same_bits(ours.at(i), want) && ++diffs <= 5) {
            MESSAGE(fmt::format("{} {} {}: prometheus {} ruleeval {}", literal(xs[std::stoul(i)]),
                                op, lit, want, ours.at(i)));
          }
        }
      }
    }
  }
  CHECK(diffs == 0);
}

TEST_CASE("exp without FMA gives what Go's SSE2 path gives") {
  // Go chooses Exp's path by CPU (AVX2 and FMA); this machine's choice is covered above. Run a
  // second Prometheus with FMA hidden from Go's runtime and compare the other path directly.
  if (!gomath::exp_uses_fma()) return;  // the case above already took the SSE2 path
  EmptyPrometheus plain("cpu.fma=off");
  if (plain.error.size()) FAIL(plain.error);
  auto xs = inputs(7, -750, 710, false, sample_count() * 4);
  int diffs = 0;
  for (size_t from = 0; from < xs.size(); from += 150) {
    auto theirs = by_index(eval_prometheus(batch_query("exp", xs, from, 150), plain));
    for (const auto& [i, want] : theirs) {
      double x = xs[std::stoul(i)];
      double got = gomath::exp_path(x, false);
      if (!same_bits(got, want) && ++diffs <= 12) {
        MESSAGE(fmt::format("exp({}) without FMA: prometheus {:a}, ruleeval {:a}", literal(x), want,
                            got));
      }
    }
  }
  CHECK(diffs == 0);
  // And the two paths do differ somewhere, so the second server really took the other one.
  int differ = 0;
  for (double x : xs) differ += same_bits(gomath::exp_path(x, false), gomath::exp_path(x, true)) ? 0 : 1;
  CHECK(differ > 0);
}
