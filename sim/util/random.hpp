// Deterministic random numbers: splitmix64 for seeding and hashing keys, xoshiro256** for
// streams. Our own code (not <random>'s distributions), so that a seed gives the same numbers
// with every standard library and compiler.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace shortfall::detail {

/// splitmix64 step: advances `state` and returns the next output.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// splitmix64 as a stateless mixing function of one value (for keyed draws).
inline std::uint64_t mix64(std::uint64_t x) {
  return splitmix64(x);
}

/// xoshiro256** seeded by splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n) (n > 0), by multiply-shift (bias below 2^-64 n).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  /// Uniform integer in [0, n) (n > 0), exactly, by rejection.
  std::uint64_t below_exact(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    std::uint64_t x;
    do x = next();
    while (x < threshold);
    return x % n;
  }
  /// Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t k = v.size(); k > 1; --k) std::swap(v[k - 1], v[below(k)]);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace shortfall::detail
