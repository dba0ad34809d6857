#include "lambent/metrics/sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace lambent::metrics {
namespace {

double exact_quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(std::floor(q * static_cast<double>(values.size() - 1)))];
}

TEST(Sketch, QuantilesStayWithinTheRelativeBound) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> durations(3.0, 1.5);
  std::vector<double> values;
  Sketch sketch;
  for (int i = 0; i < 20000; ++i) {
    double value = durations(random);
    values.push_back(value);
    sketch.add(value);
  }
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    double exact = exact_quantile(values, q);
    EXPECT_NEAR(sketch.quantile(q), exact, exact * Sketch::kRelativeAccuracy) << "q=" << q;
  }
}

TEST(Sketch, MergedSketchesAnswerLikeOne) {
  Sketch a;
  Sketch b;
  Sketch both;
  for (int i = 1; i <= 1000; ++i) {
    (i % 2 ? a : b).add(i);
    both.add(i);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), 1000);
  for (double q : {0.5, 0.9, 0.99}) EXPECT_EQ(a.quantile(q), both.quantile(q));
}

TEST(Sketch, ZeroNegativeAndWeightedValues) {
  Sketch sketch;
  sketch.add(-50, 2);
  sketch.add(0, 5);
  sketch.add(10, 3);
  EXPECT_EQ(sketch.count(), 10);
  EXPECT_NEAR(sketch.quantile(0), -50, 0.5);
  EXPECT_EQ(sketch.quantile(0.5), 0);
  EXPECT_NEAR(sketch.quantile(1), 10, 0.1);
  sketch.add(std::nan(""));
  sketch.add(5, 0);
  EXPECT_EQ(sketch.count(), 10);
}

TEST(Sketch, EncodeDecodeRoundTripsAndRejectsGarbage) {
  Sketch sketch;
  for (int i = 0; i < 500; ++i) sketch.add(0.5 + i * 3.7);
  sketch.add(-2, 1.5);
  sketch.add(0);
  Sketch copy;
  ASSERT_TRUE(copy.decode(sketch.encode()));
  EXPECT_EQ(copy.count(), sketch.count());
  for (double q : {0.0, 0.25, 0.5, 0.75, 1.0}) EXPECT_EQ(copy.quantile(q), sketch.quantile(q));

  std::string bytes = sketch.encode();
  EXPECT_FALSE(copy.decode(bytes.substr(0, bytes.size() - 1)));
  EXPECT_TRUE(copy.empty());
  EXPECT_FALSE(copy.decode(bytes + "x"));
  EXPECT_FALSE(copy.decode("\x07"));
  EXPECT_TRUE(copy.decode(Sketch().encode()));
  EXPECT_TRUE(copy.empty());
}

}  // namespace
}  // namespace lambent::metrics
