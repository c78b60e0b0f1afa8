// The fast deflate encoder (sim/output/row_deflate.hpp): every stream it makes must inflate, by
// zlib itself, to the bytes it was given, whatever they hold; and it must find the repeats it
// is for. The inputs are built to reach each path: long and short literal stretches, stored
// blocks of more than 65,535 bytes, matches longer than 258 bytes (and their 1-2 byte tails),
// both distances, rows too long for deflate's window, literals of both fixed code lengths, and
// blocks of codes fitted to skewed literals.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <random>
#include <vector>

#include "output/row_deflate.hpp"

namespace {

using shortfall::detail::row_deflate;
using Bytes = std::vector<unsigned char>;

Bytes inflate(const Bytes& z, std::size_t n) {
  Bytes out(n + 1);  // one spare byte: a stream that decodes to more than n fails below
  uLongf len = uLongf(out.size());
  const int rc = uncompress(out.data(), &len, z.data(), uLong(z.size()));
  EXPECT_EQ(rc, Z_OK);
  out.resize(len);
  return out;
}

void expect_round_trip(const Bytes& in, std::size_t row) {
  const Bytes z = row_deflate(in.data(), in.size(), row);
  ASSERT_GE(z.size(), 2u);
  EXPECT_EQ(z[0], 0x78);  // zlib header: deflate, 32 KB window
  EXPECT_EQ((z[0] * 256 + z[1]) % 31, 0);
  EXPECT_EQ(inflate(z, in.size()), in) << "row " << row << ", " << in.size() << " bytes";
}

Bytes random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<unsigned char>(rng());
  return b;
}

TEST(RowDeflate, EmptyAndTinyInputsInflateToThemselves) {
  for (std::size_t n : {0, 1, 2, 5, 7, 8, 9, 13})
    for (std::size_t row : {0, 1, 2, 3}) expect_round_trip(random_bytes(n, 7), row);
  expect_round_trip(Bytes(9, 0), 0);
}

TEST(RowDeflate, RandomBytesGoToStoredBlocksOfAtMost65535) {
  const Bytes in = random_bytes(200'000, 1);  // no repeats: every byte a literal
  const Bytes z = row_deflate(in.data(), in.size(), 16384);
  EXPECT_EQ(inflate(z, in.size()), in);
  // Stored: 5 bytes a block of at most 65,535, the header, the trailer and the block codes.
  EXPECT_LE(z.size(), in.size() + 5 * (in.size() / 65535 + 1) + 16);
}

TEST(RowDeflate, LongRunsAreMatchesWithTheirTails) {
  // Runs of one byte whose lengths leave every remainder modulo 258, separated by literals.
  Bytes in;
  std::mt19937 rng(3);
  for (std::size_t len = 1; len < 800; len += 1 + len / 7) {
    in.insert(in.end(), len, static_cast<unsigned char>(rng()));
    for (int k = 0; k < 3; ++k) in.push_back(static_cast<unsigned char>(rng()));
  }
  for (std::size_t row : {0, 100, 16384}) expect_round_trip(in, row);
  const Bytes zeros(1 << 20, 0);
  const Bytes z = row_deflate(zeros.data(), zeros.size(), 0);
  EXPECT_EQ(inflate(z, zeros.size()), zeros);
  EXPECT_LT(z.size(), zeros.size() / 100);  // a megabyte of zeros: about 4 KB of matches
}

TEST(RowDeflate, RowsThatRepeatYesterdayAreFound) {
  // Four "days" of a plane: day 0 random, each later day day 0 with a few changed bytes.
  for (std::size_t row : {64, 1000, 16384, 32768}) {
    Bytes in = random_bytes(row, 11);
    std::mt19937 rng(5);
    for (int day = 1; day < 4; ++day) {
      const std::size_t at = in.size();
      in.insert(in.end(), in.end() - std::ptrdiff_t(row), in.end());
      for (std::size_t k = 0; k < 1 + row / 1000; ++k)
        in[at + rng() % row] = static_cast<unsigned char>(rng());
    }
    const Bytes z = row_deflate(in.data(), in.size(), row);
    EXPECT_EQ(inflate(z, in.size()), in) << row;
    EXPECT_LT(z.size(), row + row / 2 + 64) << row;  // day 0 stored, the rest mostly matches
  }
}

TEST(RowDeflate, RowsBeyondTheWindowAreNotUsedAndStillInflate) {
  const std::size_t row = 40000;  // past deflate's 32,768-byte window
  Bytes in = random_bytes(row, 2);
  in.insert(in.end(), in.begin(), in.end());
  const Bytes z = row_deflate(in.data(), in.size(), row);
  EXPECT_EQ(inflate(z, in.size()), in);
  EXPECT_GT(z.size(), in.size() - 16);  // no repeat within reach: stored
}

TEST(RowDeflate, MixedStretchesOfEveryKindInflate) {
  // Literal stretches of 1-100 bytes (fixed codes up to 32, stored beyond) between repeats at
  // either distance, bytes from the whole range (8- and 9-bit literal codes).
  for (std::uint32_t seed = 0; seed < 40; ++seed) {
    std::mt19937 rng(seed);
    const std::size_t row = 1 + rng() % 5000;
    Bytes in;
    while (in.size() < 150'000) {
      const std::uint32_t kind = rng() % 3;
      const std::size_t len = 1 + rng() % (kind == 0 ? 100 : 600);
      for (std::size_t k = 0; k < len; ++k) {
        if (kind == 0 || in.size() < row)
          in.push_back(static_cast<unsigned char>(rng()));
        else if (kind == 1)
          in.push_back(in.back());
        else
          in.push_back(in[in.size() - row]);
      }
    }
    expect_round_trip(in, row);
    expect_round_trip(in, 0);
  }
}

TEST(RowDeflate, SkewedLiteralsGetCodesFittedToThem) {
  // Bytes that rarely repeat at either distance but take only a few values, most often 0: the
  // byte planes of a series that is 0 for most firms. Entropy about 1.4 bits a byte, so a code
  // fitted to the block needs well under the fixed code's 8 bits a byte.
  std::mt19937 rng(17);
  Bytes in(300'000);
  unsigned char last = 1;
  for (auto& b : in) {
    const std::uint32_t r = rng() % 16;
    b = r < 12 ? 0 : static_cast<unsigned char>(1 + r % 4);
    if (b == last && b == 0) b = static_cast<unsigned char>(5 + rng() % 2);  // no long runs
    last = b;
  }
  for (std::size_t row : {0, 1000, 16384}) {
    const Bytes z = row_deflate(in.data(), in.size(), row);
    EXPECT_EQ(inflate(z, in.size()), in);
    EXPECT_LT(z.size(), in.size() / 3) << row;  // fixed codes would need about in.size()
  }
  // Blocks of two literal values only (7, and 9 every fifth byte: no repeat of 8 bytes), so
  // that the fitted code has the fewest symbols a code can have besides its end of block.
  Bytes two(70'000, 7);
  for (std::size_t k = 0; k < two.size(); k += 5) two[k] = 9;
  expect_round_trip(two, 0);
  expect_round_trip(two, 3);
}

TEST(RowDeflate, TheSameInputGivesTheSameBytes) {
  Bytes in = random_bytes(50'000, 9);
  in.insert(in.end(), in.begin(), in.begin() + 20'000);
  EXPECT_EQ(row_deflate(in.data(), in.size(), 20'000), row_deflate(in.data(), in.size(), 20'000));
}

}  // namespace
