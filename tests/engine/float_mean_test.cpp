// avg, avg_over_time, stddev and stdvar of floats with Prometheus 3.14's arithmetic
// (promql/engine.go aggregation, promql/functions.go funcAvgOverTime), bit for bit. Expected
// values are derived by hand; kahansum.Inc as in histogram_kahan_test.cpp.
#include <doctest/doctest.h>

#include <string>

#include "histogram_fixture.hpp"

using hist_fixture::HistogramDb;
using hist_fixture::kMin;

TEST_CASE("avg divides the Kahan sum and its compensation by the count separately") {
  // avg(0.1, 0.1, 0.1): sum = 0.1; Inc(0.1) = (0.2, 0); Inc(0.1, 0.2, 0): t =
  // 0.30000000000000004, c = (0.2 - t) + 0.1 = -2^-55. Prometheus 3:
  // sum/3 + c/3 = 0.10000000000000002 + -9.25185853854297e-18 = 0.1. Dividing the compensated
  // sum instead, (sum + c)/3, gives 0.10000000000000002 (sum + c is a tie that rounds back up
  // to 0.30000000000000004).
  HistogramDb db("x{i=\"1\"} 0.1\nx{i=\"2\"} 0.1\nx{i=\"3\"} 0.1\ny 0.1 0.1 0.1\n");
  CHECK(db.text("avg(x)", 0) == "{} => 0.1\n");
  // avg_over_time takes the same path (funcAvgOverTime: sum/count + kahanC/count).
  CHECK(db.text("avg_over_time(y[3m])", 2 * kMin) == "{} => 0.1\n");
  // sum keeps sum + c: 0.30000000000000004 - 2^-55 rounds to 0.30000000000000004.
  CHECK(db.text("sum(x)", 0) == "{} => 0.30000000000000004\n");
}

TEST_CASE("avg switches to an incremental mean when the Kahan sum would overflow") {
  // 1.5e308 + 1.5e308 overflows: from the second sample on, mean = 1.5e308 / 1, c = 0 / 1;
  // q = 1/2: Inc(1.5e308 / 2, 0.75e308, 0) = (1.5e308, 0). Then a third sample -1.5e308:
  // q = 2/3: Inc(-0.5e308, 1e308, 0) = (0.5e308, 0).
  HistogramDb db("x{i=\"1\"} 1.5e308\nx{i=\"2\"} 1.5e308\nx{i=\"3\"} -1.5e308\n"
                 "y 1.5e308 1.5e308 -1.5e308\n");
  CHECK(db.text("avg(x)", 0) == "{} => 5e+307\n");
  CHECK(db.text("avg_over_time(y[3m])", 2 * kMin) == "{} => 5e+307\n");
}

TEST_CASE("stddev and stdvar aggregate with Welford's algorithm, uncompensated") {
  // stdvar(0.1, 0.2, 0.1), Prometheus's aggregation: mean = 0.1, aux = 0; then
  //   delta = 0.1, mean = 0.15000000000000002, aux = 0.1 * (0.2 - mean) = 0.004999999999999999;
  //   delta = -0.05000000000000002, mean = 0.13333333333333336,
  //   aux += delta * (0.1 - mean) = 0.006666666666666668;
  // aux / 3 = 0.0022222222222222227. promtool 2.42 (same algorithm) printed
  // 2.2222222222222227E-03 when it took the series in this order; its order follows Go map
  // iteration, and (0.2, 0.1, 0.1) gives 0.002222222222222223, so no promtool test pins it. A
  // Kahan-compensated mean, as stdvar_over_time uses, gives 0.0022222222222222222.
  HistogramDb db("x{i=\"1\"} 0.1\nx{i=\"2\"} 0.2\nx{i=\"3\"} 0.1\ny 0.1 0.2 0.1\n");
  CHECK(db.text("stdvar(x)", 0) == "{} => 0.0022222222222222227\n");
  CHECK(db.text("stddev(x)", 0) == "{} => 0.047140452079103175\n");
  CHECK(db.text("stdvar_over_time(y[3m])", 2 * kMin) == "{} => 0.0022222222222222222\n");
}
