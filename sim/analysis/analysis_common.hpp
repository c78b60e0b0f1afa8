// Helpers shared by the analysis's files (sim/analysis/): the NaN that marks a value not
// computed, the thread count, and the top-k ranking used by the knockouts and the tables.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <thread>
#include <vector>

namespace shortfall::analysis_common {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// `threads` if positive, else the hardware's thread count (at least 1).
inline int resolve_threads(int threads) {
  return threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

/// Indices of the `k` largest finite positive scores, largest first, ties by index.
inline std::vector<std::size_t> top_k(const std::vector<double>& score, std::size_t k) {
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < score.size(); ++i)
    if (std::isfinite(score[i]) && score[i] > 0) idx.push_back(i);
  auto cmp = [&](std::size_t a, std::size_t b) {
    return score[a] > score[b] || (score[a] == score[b] && a < b);
  };
  if (idx.size() > k) {
    std::partial_sort(idx.begin(), idx.begin() + std::ptrdiff_t(k), idx.end(), cmp);
    idx.resize(k);
  } else {
    std::sort(idx.begin(), idx.end(), cmp);
  }
  return idx;
}

}  // namespace shortfall::analysis_common
