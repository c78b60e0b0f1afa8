// A deflate encoder for shuffled chunks of day-by-day series (output/row_deflate.hpp). The
// stream's format is RFC 1950 (zlib) around RFC 1951 (deflate) blocks of two kinds: stored
// (BTYPE 00) and fixed Huffman codes (BTYPE 01, section 3.2.6).
#include "output/row_deflate.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#ifdef SHORTFALL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif

namespace shortfall::detail {

namespace {

constexpr std::size_t kMinMatch = 6;          // shorter repeats are left as literals
constexpr std::size_t kStep = kMinMatch - 3;  // a match covers the 4 bytes at i + kStep - 1 ..
constexpr std::size_t kShortLiterals = 32;    // longer stretches of literals go in stored blocks
constexpr std::size_t kMaxStored = 65535;     // bytes in one stored block
constexpr std::size_t kMaxDistance = 32768;

/// A code as written: `bits` (least significant first, Huffman codes already reversed) and
/// their number.
struct Code {
  std::uint32_t bits = 0;
  std::uint32_t len = 0;
};

constexpr std::uint32_t reversed(std::uint32_t code, std::uint32_t len) {
  std::uint32_t r = 0;
  for (std::uint32_t k = 0; k < len; ++k) r |= ((code >> k) & 1u) << (len - 1 - k);
  return r;
}

/// The fixed literal/length code of symbol s (0-287), RFC 1951 3.2.6.
constexpr Code fixed_symbol(std::uint32_t s) {
  if (s < 144) return {reversed(0x30 + s, 8), 8};
  if (s < 256) return {reversed(0x190 + s - 144, 9), 9};
  if (s < 280) return {reversed(s - 256, 7), 7};
  return {reversed(0xC0 + s - 280, 8), 8};
}

constexpr std::array<std::uint32_t, 29> kLengthBase = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                                       15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                                       67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::array<std::uint32_t, 29> kLengthExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                        2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::array<std::uint32_t, 30> kDistanceBase = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::array<std::uint32_t, 30> kDistanceExtra = {0, 0, 0,  0,  1,  1,  2,  2,  3,  3,
                                                          4, 4, 5,  5,  6,  6,  7,  7,  8,  8,
                                                          9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/// Literal bytes and match lengths 3-258 as written, code and extra bits together.
struct Tables {
  std::array<Code, 256> literal{};
  std::array<Code, 259> length{};
  constexpr Tables() {
    for (std::uint32_t b = 0; b < 256; ++b) literal[b] = fixed_symbol(b);
    for (std::uint32_t l = 3; l <= 258; ++l) {
      std::uint32_t c = 28;
      while (kLengthBase[c] > l) --c;
      const Code sym = fixed_symbol(257 + c);
      length[l] = {sym.bits | ((l - kLengthBase[c]) << sym.len), sym.len + kLengthExtra[c]};
    }
  }
};
constexpr Tables kTables;

/// Distance d (1-32768) as written: its fixed 5-bit code, then its extra bits.
Code distance_code(std::uint32_t d) {
  std::uint32_t c = 29;
  while (kDistanceBase[c] > d) --c;
  return {reversed(c, 5) | ((d - kDistanceBase[c]) << 5), 5 + kDistanceExtra[c]};
}

/// Bits least significant first into a buffer sized for the worst case.
class BitWriter {
 public:
  explicit BitWriter(unsigned char* out) : p_(out) {}
  void put(Code c) { put(c.bits, c.len); }
  void put(std::uint32_t bits, std::uint32_t len) {  // len <= 32
    acc_ |= std::uint64_t(bits) << n_;
    n_ += len;
    if (n_ >= 32) {
      const auto word = static_cast<std::uint32_t>(acc_);
      std::memcpy(p_, &word, 4);
      p_ += 4;
      acc_ >>= 32;
      n_ -= 32;
    }
  }
  /// Pads to a whole byte with zero bits.
  void align() {
    for (; n_ > 0; n_ = n_ >= 8 ? n_ - 8 : 0) {
      *p_++ = static_cast<unsigned char>(acc_);
      acc_ >>= 8;
    }
    acc_ = 0;
  }
  void bytes(const unsigned char* s, std::size_t k) {  // after align()
    std::memcpy(p_, s, k);
    p_ += k;
  }
  [[nodiscard]] unsigned char* end() const { return p_; }

 private:
  unsigned char* p_;
  std::uint64_t acc_ = 0;
  std::uint32_t n_ = 0;
};

std::uint32_t adler32(const unsigned char* in, std::size_t n) {
#ifdef SHORTFALL_HAVE_LIBDEFLATE
  return libdeflate_adler32(1, in, n);
#else
  std::uint32_t a = 1;
  for (std::size_t k = 0; k < n;) {  // zlib's length argument is 32 bits
    const std::size_t m = std::min<std::size_t>(n - k, std::size_t(1) << 30);
    a = static_cast<std::uint32_t>(::adler32(a, in + k, static_cast<uInt>(m)));
    k += m;
  }
  return a;
#endif
}

std::uint32_t load32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

std::vector<unsigned char> row_deflate(const unsigned char* in, std::size_t n, std::size_t row) {
  // Worst case: 9 bits a literal, a stored block's 5 bytes of header per 33 literals, and
  // the header, the trailer and the block codes around them.
  thread_local std::vector<unsigned char> buf;
  const std::size_t bound = n + n / 8 + 8 * (n / (kShortLiterals + 1)) + 64;
  if (buf.size() < bound) buf.resize(bound);
  BitWriter w(buf.data());
  w.put(0x0178, 16);  // zlib header: deflate, 32 KB window, fastest level (CMF 0x78, FLG 0x01)
  w.put(0b010, 3);    // a block of fixed codes, not the last (BFINAL 0, BTYPE 01)

  // Stored blocks for the literals [a, b) where they are many, else their fixed codes.
  auto literals = [&](std::size_t a, std::size_t b) {
    if (b - a <= kShortLiterals) {
      for (; a < b; ++a) w.put(kTables.literal[in[a]]);
      return;
    }
    w.put(0, 7);  // end of the block of fixed codes
    while (a < b) {
      const auto k = static_cast<std::uint32_t>(std::min(b - a, kMaxStored));
      w.put(0b000, 3);  // a stored block, not the last
      w.align();
      w.put(k | ((~k & 0xFFFFu) << 16), 32);  // LEN, NLEN
      w.bytes(in + a, k);
      a += k;
    }
    w.put(0b010, 3);  // a new block of fixed codes
  };
  // Bytes from i equal to those d before them (LZ77's copy, overlapping where d is short).
  auto run = [&](std::size_t i, std::size_t d) {
    std::size_t k = 0;
    const std::size_t max = n - i;
    for (; k + 8 <= max; k += 8) {
      std::uint64_t a, b;
      std::memcpy(&a, in + i + k, 8);
      std::memcpy(&b, in + i + k - d, 8);
      if (const std::uint64_t x = a ^ b) return k + std::size_t(std::countr_zero(x) >> 3);
    }
    while (k < max && in[i + k] == in[i + k - d]) ++k;
    return k;
  };
  const bool rows = row > 1 && row <= kMaxDistance;
  const Code by_one = distance_code(1), by_row = rows ? distance_code(std::uint32_t(row)) : Code{};

  std::size_t i = 0, lit = 0;
  while (i + kMinMatch <= n) {
    // A match of kMinMatch or more starting in [i, i + kStep) covers the 4 bytes from
    // i + kMinMatch - 4.
    const std::size_t q = i + kMinMatch - 4;
    const std::uint32_t word = load32(in + q);
    if (word != load32(in + q - 1) && !(rows && q >= row && word == load32(in + q - row))) {
      i += kStep;
      continue;
    }
    std::size_t len = 0, j = i;
    Code dist;
    for (; j < i + kStep && j + kMinMatch <= n; ++j) {
      const std::size_t by1 = j >= 1 ? run(j, 1) : 0, byr = rows && j >= row ? run(j, row) : 0;
      if (std::max(by1, byr) >= kMinMatch) {
        len = std::max(by1, byr);
        dist = byr >= by1 ? by_row : by_one;
        break;
      }
    }
    if (len == 0) {
      i += kStep;
      continue;
    }
    literals(lit, j);
    for (std::size_t left = len; left > 0;) {  // pieces of 3-258 bytes
      const std::size_t k = left > 258 ? (left - 258 < 3 ? left - 3 : 258) : left;
      w.put(kTables.length[k]);
      w.put(dist);
      left -= k;
    }
    i = lit = j + len;
  }
  literals(lit, n);
  w.put(0, 7);      // end of the block of fixed codes
  w.put(0b011, 3);  // the last block: fixed codes,
  w.put(0, 7);      // empty
  w.align();
  const std::uint32_t a = adler32(in, n);
  const unsigned char trailer[4] = {
      static_cast<unsigned char>(a >> 24), static_cast<unsigned char>(a >> 16),
      static_cast<unsigned char>(a >> 8), static_cast<unsigned char>(a)};
  w.bytes(trailer, 4);
  return {buf.data(), w.end()};
}

}  // namespace shortfall::detail
