// The shuffle of the program's chunks (sim/output/chunk_filter.hpp): byte b of element e of a
// row goes to plane b at position e (HDF5's H5Z shuffle), and the row is padded to its width
// with the fill value's bytes. Checked byte by byte against that definition for every row
// length up to 50, so that the sixteen-element, eight-element and one-by-one paths and each
// tail are reached, and for elements of 1, 4 and 8 bytes.
#include <gtest/gtest.h>

#include <cstddef>
#include <random>
#include <vector>

#include "output/chunk_filter.hpp"

namespace {

using shortfall::detail::shuffle_row;

TEST(ChunkFilter, ShuffleRowPutsByteBOfElementEAtPlaneBPositionE) {
  std::mt19937 rng(7);
  for (const std::size_t es : {std::size_t(1), std::size_t(4), std::size_t(8)}) {
    const std::vector<unsigned char> fill = {0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF};
    for (std::size_t have = 0; have <= 50; ++have) {
      const std::size_t width = have + 3, plane = width + 5;  // padded, and planes apart
      std::vector<unsigned char> in(have * es), out(plane * es, 0xEE);
      for (auto& x : in) x = static_cast<unsigned char>(rng());
      shuffle_row(in.data(), have, width, es, fill.data(), out.data(), plane);
      for (std::size_t b = 0; b < es; ++b) {
        for (std::size_t e = 0; e < have; ++e)
          ASSERT_EQ(out[b * plane + e], in[e * es + b])
              << es << "-byte elements, " << have << " of them: byte " << b << " of " << e;
        for (std::size_t e = have; e < width; ++e)
          ASSERT_EQ(out[b * plane + e], fill[b]) << "fill, plane " << b;
        for (std::size_t e = width; e < plane; ++e)
          ASSERT_EQ(out[b * plane + e], 0xEE) << "written past the row's width, plane " << b;
      }
    }
  }
}

}  // namespace
