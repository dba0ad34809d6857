#include "lambent/metrics/sketch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lambent::metrics {

namespace {

const double kGamma = (1 + Sketch::kRelativeAccuracy) / (1 - Sketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
// Magnitudes below this count as zero; it keeps bucket indexes within a small range.
constexpr double kMinMagnitude = 1e-9;

std::int32_t bucket_index(double magnitude) {
  double index = std::ceil(std::log(magnitude) / kLogGamma);
  return static_cast<std::int32_t>(std::clamp(index, -1e6, 1e6));
}

// The representative value of a bucket, within kRelativeAccuracy of every value in it.
double bucket_value(std::int32_t index) {
  return 2 * std::pow(kGamma, index) / (kGamma + 1);
}

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

bool get_varint(std::string_view& in, std::uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    auto byte = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

void put_double(std::string& out, double value) {
  char bytes[sizeof(double)];
  std::memcpy(bytes, &value, sizeof(double));
  out.append(bytes, sizeof(double));
}

bool get_double(std::string_view& in, double& value) {
  if (in.size() < sizeof(double)) return false;
  std::memcpy(&value, in.data(), sizeof(double));
  in.remove_prefix(sizeof(double));
  return std::isfinite(value) && value >= 0;
}

// Counts that are whole numbers are written as varints (tag 0), others as doubles (tag 1).
void put_count(std::string& out, double count) {
  if (count == std::floor(count) && count < 1e18) {
    out.push_back(0);
    put_varint(out, static_cast<std::uint64_t>(count));
  } else {
    out.push_back(1);
    put_double(out, count);
  }
}

bool get_count(std::string_view& in, double& count) {
  if (in.empty()) return false;
  char tag = in.front();
  in.remove_prefix(1);
  if (tag == 0) {
    std::uint64_t value = 0;
    if (!get_varint(in, value)) return false;
    count = static_cast<double>(value);
    return true;
  }
  return tag == 1 && get_double(in, count);
}

std::uint64_t zigzag(std::int64_t value) {
  return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}

std::int64_t unzigzag(std::uint64_t value) {
  return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
}

}  // namespace

void Sketch::clear() {
  positive_.clear();
  negative_.clear();
  zero_count_ = 0;
  count_ = 0;
}

void Sketch::add_to(Buckets& buckets, std::int32_t index, double count) {
  // Most values land in the last bucket or near it; search from the back.
  auto it = buckets.end();
  while (it != buckets.begin() && std::prev(it)->first > index) --it;
  if (it != buckets.begin() && std::prev(it)->first == index) {
    std::prev(it)->second += count;
  } else {
    buckets.insert(it, {index, count});
  }
}

void Sketch::add(double value, double count) {
  if (!(count > 0) || !std::isfinite(value)) return;
  count_ += count;
  double magnitude = std::fabs(value);
  if (magnitude < kMinMagnitude) {
    zero_count_ += count;
  } else if (value > 0) {
    add_to(positive_, bucket_index(magnitude), count);
  } else {
    add_to(negative_, bucket_index(magnitude), count);
  }
}

void Sketch::merge(const Sketch& other) {
  for (const auto& [index, count] : other.positive_) add_to(positive_, index, count);
  for (const auto& [index, count] : other.negative_) add_to(negative_, index, count);
  zero_count_ += other.zero_count_;
  count_ += other.count_;
}

double Sketch::quantile(double q) const {
  if (count_ <= 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The value of rank floor(q * (count - 1)), counting from 0, in ascending order.
  double rank = std::floor(q * (count_ - 1));
  double seen = 0;
  for (auto it = negative_.rbegin(); it != negative_.rend(); ++it) {
    seen += it->second;
    if (seen > rank) return -bucket_value(it->first);
  }
  seen += zero_count_;
  if (seen > rank) return 0;
  for (const auto& [index, count] : positive_) {
    seen += count;
    if (seen > rank) return bucket_value(index);
  }
  return positive_.empty() ? 0 : bucket_value(positive_.back().first);
}

std::string Sketch::encode() const {
  std::string out;
  out.reserve(4 + 6 * (positive_.size() + negative_.size()));
  put_count(out, zero_count_);
  for (const Buckets* buckets : {&negative_, &positive_}) {
    put_varint(out, buckets->size());
    std::int64_t previous = 0;
    for (const auto& [index, count] : *buckets) {
      put_varint(out, zigzag(index - previous));
      previous = index;
      put_count(out, count);
    }
  }
  return out;
}

bool Sketch::decode(std::string_view bytes) {
  clear();
  double zero = 0;
  if (!get_count(bytes, zero)) return false;
  Buckets* targets[] = {&negative_, &positive_};
  double total = zero;
  for (Buckets* buckets : targets) {
    std::uint64_t size = 0;
    if (!get_varint(bytes, size) || size > bytes.size()) {
      clear();
      return false;
    }
    std::int64_t index = 0;
    for (std::uint64_t i = 0; i < size; ++i) {
      std::uint64_t delta = 0;
      double count = 0;
      if (!get_varint(bytes, delta) || !get_count(bytes, count)) {
        clear();
        return false;
      }
      std::int64_t next = index + unzigzag(delta);
      if ((i > 0 && next <= index) || next < -1000000 || next > 1000000) {
        clear();
        return false;
      }
      index = next;
      buckets->emplace_back(static_cast<std::int32_t>(index), count);
      total += count;
    }
  }
  if (!bytes.empty()) {
    clear();
    return false;
  }
  zero_count_ = zero;
  count_ = total;
  return true;
}

}  // namespace lambent::metrics
