// The cases that max0_select (sim/engine/kernels.hpp) must pass in each of its forms: MAXSD in a
// default build (engine/test_kernels.cpp) and VMAXSD where AVX is enabled, as under
// -march=native (engine/test_kernels_avx.cpp, compiled with -mavx).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/kernels.hpp"

namespace shortfall::test {

/// The branch-free max(0, v) of the lead-time loops must give std::max(0.0, v) bit for bit: v
/// where v > 0, else +0 (for negative values, -0, +0 and NaN alike).
inline void expect_max0_select_is_std_max() {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double tiny = std::numeric_limits<double>::denorm_min();
  for (double v : {2.5, 1e-300, tiny, 0.0, -0.0, -tiny, -3.0, kInf, -kInf, nan, -nan}) {
    const double want = std::max(0.0, v), got = detail::max0_select(v);
    EXPECT_EQ(std::memcmp(&want, &got, sizeof want), 0) << v;
  }
  EXPECT_EQ(detail::max0_select(2.5), 2.5);
  EXPECT_FALSE(std::signbit(detail::max0_select(-0.0)));
  EXPECT_EQ(detail::max0_select(nan), 0.0);
}

}  // namespace shortfall::test
