#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// A mergeable quantile sketch with relative error. Values fall into logarithmic buckets whose
// bounds grow by gamma = (1 + a) / (1 - a) with a = 0.01. A quantile returns the representative
// value of the bucket that contains the value of that rank, which is within 1% of every value in
// that bucket. Zero counts in a bucket of its own and returns as 0. Negative values use mirrored
// buckets with the same bound.
namespace lambent::metrics {

class Sketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;

  void add(double value, double count = 1);
  void merge(const Sketch& other);
  void clear();
  bool empty() const { return count_ == 0; }
  double count() const { return count_; }

  // The value at quantile q in [0, 1]; 0 when empty.
  double quantile(double q) const;

  // Compact bytes (varint bucket indexes and counts) for the store, and back. decode returns
  // false on malformed bytes and leaves the sketch empty.
  std::string encode() const;
  bool decode(std::string_view bytes);

 private:
  using Buckets = std::vector<std::pair<std::int32_t, double>>;  // (index, count), sorted
  static void add_to(Buckets& buckets, std::int32_t index, double count);

  Buckets positive_;
  Buckets negative_;  // indexed by the magnitude
  double zero_count_ = 0;
  double count_ = 0;
};

}  // namespace lambent::metrics
