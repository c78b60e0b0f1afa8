// max0_select's AVX form (sim/engine/kernels.hpp): a build with AVX enabled (-march=native on
// most machines) compiles VMAXSD instead of MAXSD, whose legacy encoding among AVX code made
// the buyer loop about 40 times slower on an Intel Xeon (docs/performance.md, Built for the
// machine). This file is compiled with -mavx into a binary of its own (tests/CMakeLists.txt), so
// that no AVX instruction reaches the other tests; it skips on a CPU without AVX.
#include <gtest/gtest.h>

#include "engine/max0_cases.hpp"

#ifndef __AVX__
#error "engine/test_kernels_avx.cpp is built with -mavx: it tests max0_select's AVX form"
#endif

TEST(Max0SelectAvx, SameBitsAsStdMaxForEveryKindOfValue) {
  if (!__builtin_cpu_supports("avx")) GTEST_SKIP() << "this CPU has no AVX";
  shortfall::test::expect_max0_select_is_std_max();
}
