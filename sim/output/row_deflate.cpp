// A deflate encoder for shuffled chunks of day-by-day series (output/row_deflate.hpp). The
// stream's format is RFC 1950 (zlib) around RFC 1951 (deflate) blocks of three kinds: stored
// (BTYPE 00), fixed Huffman codes (BTYPE 01, section 3.2.6) and Huffman codes fitted to the
// block (BTYPE 10, section 3.2.7).
#include "output/row_deflate.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#ifdef SHORTFALL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif

namespace shortfall::detail {

namespace {

constexpr std::size_t kMinMatch = 8;        // shorter repeats are left as literals
constexpr std::size_t kShortLiterals = 32;  // longer stretches of literals go in stored blocks
constexpr std::size_t kMaxStored = 65535;   // bytes in one stored block
constexpr std::size_t kMaxDistance = 32768;
constexpr std::size_t kBlock = kMaxStored;         // input a block covers (more if a match runs on)
constexpr std::uint32_t kMaxCodeLength = 15;       // RFC 1951: literal/length and distance codes
constexpr std::uint32_t kMaxLengthCodeLength = 7;  // the code of the code lengths

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
/// Also each length's symbol (257-285) and its extra bits as written, for fitted codes.
struct Tables {
  std::array<Code, 256> literal{};
  std::array<Code, 259> length{};
  std::array<std::uint16_t, 259> length_symbol{};
  std::array<Code, 259> length_extra{};
  constexpr Tables() {
    for (std::uint32_t b = 0; b < 256; ++b) literal[b] = fixed_symbol(b);
    for (std::uint32_t l = 3; l <= 258; ++l) {
      std::uint32_t c = 28;
      while (kLengthBase[c] > l) --c;
      const Code sym = fixed_symbol(257 + c);
      length[l] = {sym.bits | ((l - kLengthBase[c]) << sym.len), sym.len + kLengthExtra[c]};
      length_symbol[l] = static_cast<std::uint16_t>(257 + c);
      length_extra[l] = {l - kLengthBase[c], kLengthExtra[c]};
    }
  }
};
constexpr Tables kTables;

/// Distance d (1-32768): its symbol (0-29) and its extra bits as written.
std::uint32_t distance_symbol(std::uint32_t d) {
  std::uint32_t c = 29;
  while (kDistanceBase[c] > d) --c;
  return c;
}
Code distance_extra(std::uint32_t d) {
  const std::uint32_t c = distance_symbol(d);
  return {d - kDistanceBase[c], kDistanceExtra[c]};
}
/// Distance d as written in a block of fixed codes: its 5-bit code, then its extra bits.
Code distance_code(std::uint32_t d) {
  const Code extra = distance_extra(d);
  return {reversed(distance_symbol(d), 5) | (extra.bits << 5), 5 + extra.len};
}

/// Lengths of a Huffman code for the `n` symbols of weights `freq` (0: unused, length 0),
/// none longer than `limit`: Huffman's construction over the used symbols sorted by (weight,
/// symbol), taking a leaf before a node of equal weight; where a code would be longer than the
/// limit, the weights are halved (a used symbol keeping at least 1) and the code built again.
/// At least two symbols must be used.
void huffman_lengths(const std::uint32_t* freq, std::size_t n, std::uint32_t limit,
                     std::uint8_t* len) {
  constexpr std::size_t kMax = 286;
  std::array<std::uint32_t, kMax> w{};
  std::array<std::uint16_t, kMax> sym{};
  std::array<std::uint64_t, 2 * kMax> weight{};
  std::array<std::uint16_t, 2 * kMax> parent{}, depth{};
  std::size_t m = 0;
  for (std::size_t s = 0; s < n; ++s) {
    len[s] = 0;
    if (freq[s] > 0) w[m] = freq[s], sym[m++] = static_cast<std::uint16_t>(s);
  }
  for (;;) {
    // Sorted by (weight, index) as one integer each, weight << 16 | index (index < 2^16;
    // symbols are in increasing order of index).
    std::array<std::uint64_t, kMax> key{};
    for (std::size_t k = 0; k < m; ++k) key[k] = std::uint64_t(w[k]) << 16 | k;
    std::sort(key.begin(), key.begin() + std::ptrdiff_t(m));
    for (std::size_t k = 0; k < m; ++k) weight[k] = key[k] >> 16;
    // Leaves 0..m-1 in weight order, nodes m.. in the order made (their weights never fall).
    std::size_t leaf = 0, node = m, made = m;
    auto take = [&] {
      if (leaf < m && (node == made || weight[leaf] <= weight[node])) return leaf++;
      return node++;
    };
    for (; made < 2 * m - 1; ++made) {
      const std::size_t a = take(), b = take();
      weight[made] = weight[a] + weight[b];
      parent[a] = parent[b] = static_cast<std::uint16_t>(made);
    }
    depth[2 * m - 2] = 0;
    std::uint32_t longest = 0;
    for (std::size_t k = 2 * m - 2; k-- > 0;) {
      depth[k] = static_cast<std::uint16_t>(depth[parent[k]] + 1);
      if (k < m) longest = std::max<std::uint32_t>(longest, depth[k]);
    }
    if (longest <= limit) {
      for (std::size_t k = 0; k < m; ++k)
        len[sym[key[k] & 0xFFFFu]] = static_cast<std::uint8_t>(depth[k]);
      return;
    }
    for (std::size_t k = 0; k < m; ++k) w[k] = std::max<std::uint32_t>(1, w[k] >> 1);
  }
}

/// The canonical code of lengths `len` (RFC 1951 3.2.2), bits reversed for writing.
void canonical_codes(const std::uint8_t* len, std::size_t n, Code* code) {
  std::array<std::uint32_t, 16> count{}, next{};
  for (std::size_t s = 0; s < n; ++s) ++count[len[s]];
  count[0] = 0;
  for (std::uint32_t b = 1, c = 0; b < 16; ++b) next[b] = c = (c + count[b - 1]) << 1;
  for (std::size_t s = 0; s < n; ++s)
    code[s] = len[s] ? Code{reversed(next[len[s]]++, len[s]), len[s]} : Code{};
}

/// Bits least significant first into a buffer sized for the worst case, plus 8 bytes: each put
/// stores the whole 64-bit accumulator and moves on by the bytes it completed (no branch on
/// whether a word is full, which mispredicted on codes of a few bits), so that at most 7 bits
/// wait between puts.
class BitWriter {
 public:
  explicit BitWriter(unsigned char* out) : p_(out) {}
  void put(Code c) { put(c.bits, c.len); }
  void put(std::uint64_t bits, std::uint32_t len) {  // len <= 56
    acc_ |= bits << n_;
    n_ += len;
    std::memcpy(p_, &acc_, 8);
    const std::uint32_t done = n_ >> 3;
    p_ += done;
    acc_ >>= 8 * done;  // done <= 7: n_ was at most 7 + 56 bits
    n_ &= 7;
  }
  /// Pads to a whole byte with zero bits.
  void align() {
    if (n_ > 0) put(0, 8 - n_);
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

/// Bit k set where a[k] == b[k], k < 32.
std::uint32_t equal32(const unsigned char* a, const unsigned char* b) {
#ifdef __SSE2__
  const auto lo = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)),
                                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
  const auto hi = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + 16)),
                                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16)));
  return std::uint32_t(_mm_movemask_epi8(lo)) | std::uint32_t(_mm_movemask_epi8(hi)) << 16;
#else
  std::uint32_t m = 0;
  for (int k = 0; k < 32; ++k) m |= std::uint32_t(a[k] == b[k]) << k;
  return m;
#endif
}

/// A stretch of literals followed by a match (none where `match` is 0), as the scan finds them.
struct Token {
  std::size_t literals = 0;
  std::size_t match = 0;
  bool by_row = false;
};

/// Lengths of 3-258 bytes: a longer match is written as pieces of at most 258 that leave no
/// piece shorter than 3.
template <class F>
void pieces(std::size_t len, F&& f) {
  for (std::size_t left = len; left > 0;) {
    const std::size_t k = left > 258 ? (left - 258 < 3 ? left - 3 : 258) : left;
    f(k);
    left -= k;
  }
}

/// A block's literal/length code fitted to it, and the code lengths as written in its header:
/// run-length coded (16 repeats the last length 3-6 times, 17 and 18 are 3-10 and 11-138
/// zeros) in a code of their own.
struct FittedCode {
  struct Rle {
    std::uint8_t symbol, extra;
  };
  std::array<Code, 286> code{};
  std::size_t nlit = 0, ndist = 0, ncl = 0, nrle = 0;
  std::array<Rle, 286 + 30> rle{};
  std::array<std::uint8_t, 19> cl_len{};
  std::array<Code, 19> cl_code{};
  static constexpr std::uint8_t kOrder[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                              11, 4,  12, 3, 13, 2, 14, 1, 15};

  /// From the symbols' weights (`freq`, end of block included) and the distance code's two
  /// symbols, 0 and `row_symbol`.
  FittedCode(std::array<std::uint32_t, 286>& freq, std::uint32_t row_symbol) {
    if (std::count_if(freq.begin(), freq.end(), [](auto f) { return f > 0; }) < 2)
      freq[freq[0] ? 1 : 0] = 1;               // a Huffman code needs two symbols
    std::array<std::uint8_t, 286 + 30> len{};  // literal/length code, then the distance code
    huffman_lengths(freq.data(), 286, kMaxCodeLength, len.data());
    canonical_codes(len.data(), 286, code.data());
    nlit = 286;
    while (len[nlit - 1] == 0) --nlit;
    ndist = row_symbol + 1;
    len[nlit] = 1;  // distance 1
    len[nlit + row_symbol] = 1;
    run_lengths(len.data(), nlit + ndist);
    std::array<std::uint32_t, 19> cl_freq{};
    for (std::size_t k = 0; k < nrle; ++k) ++cl_freq[rle[k].symbol];
    if (std::count_if(cl_freq.begin(), cl_freq.end(), [](auto f) { return f > 0; }) < 2)
      cl_freq[cl_freq[0] ? 1 : 0] = 1;
    huffman_lengths(cl_freq.data(), 19, kMaxLengthCodeLength, cl_len.data());
    canonical_codes(cl_len.data(), 19, cl_code.data());
    ncl = 19;
    while (ncl > 4 && cl_len[kOrder[ncl - 1]] == 0) --ncl;
  }

  void run_lengths(const std::uint8_t* len, std::size_t total) {
    for (std::size_t k = 0; k < total;) {
      const std::uint8_t v = len[k];
      std::size_t r = 1;
      while (k + r < total && len[k + r] == v) ++r;
      k += r;
      if (v == 0) {
        for (; r >= 11; r -= std::min<std::size_t>(r, 138))
          rle[nrle++] = {18, static_cast<std::uint8_t>(std::min<std::size_t>(r, 138) - 11)};
        if (r >= 3) rle[nrle++] = {17, static_cast<std::uint8_t>(r - 3)}, r = 0;
      } else {
        rle[nrle++] = {v, 0}, --r;
        for (; r >= 3; r -= std::min<std::size_t>(r, 6))
          rle[nrle++] = {16, static_cast<std::uint8_t>(std::min<std::size_t>(r, 6) - 3)};
      }
      for (; r > 0; --r) rle[nrle++] = {v, 0};
    }
  }

  /// The block's header: BFINAL 0, BTYPE 10, then the code lengths (RFC 1951 3.2.7).
  void write_header(BitWriter& w) const {
    w.put(0b100, 3);
    w.put(std::uint32_t(nlit - 257), 5);
    w.put(std::uint32_t(ndist - 1), 5);
    w.put(std::uint32_t(ncl - 4), 4);
    for (std::size_t k = 0; k < ncl; ++k) w.put(cl_len[kOrder[k]], 3);
    static constexpr std::uint32_t kRleExtra[3] = {2, 3, 7};
    for (std::size_t k = 0; k < nrle; ++k) {
      w.put(cl_code[rle[k].symbol]);
      if (rle[k].symbol >= 16) w.put(rle[k].extra, kRleExtra[rle[k].symbol - 16]);
    }
  }
};

/// One stream: the scan finds a block's tokens, then the block is written in fixed or fitted
/// codes.
class Encoder {
 public:
  Encoder(const unsigned char* in, std::size_t n, std::size_t row, unsigned char* out)
      : in_(in),
        n_(n),
        row_(row),
        rows_(row > 1 && row <= kMaxDistance),
        by_one_(distance_code(1)),
        by_row_(rows_ ? distance_code(std::uint32_t(row)) : Code{}),
        row_symbol_(rows_ ? distance_symbol(std::uint32_t(row)) : 1),
        w_(out) {
    // In a block of fitted codes the distance code has two symbols of 1 bit: distance 1's
    // (symbol 0, code 0) and the row's (code 1; without rows an unused symbol 1).
    const Code extra = rows_ ? distance_extra(std::uint32_t(row)) : Code{};
    fitted_row_ = {1u | (extra.bits << 1), 1 + extra.len};
  }

  /// The whole stream; returns its end.
  unsigned char* encode() {
    w_.put(0x0178, 16);  // zlib header: deflate, 32 KB window, fastest level (CMF 0x78, FLG 0x01)
    while (lit_ < n_) {
      const std::size_t begin = lit_;
      scan(std::min(n_, lit_ + kBlock));
      if (fitted_pays(begin))
        fitted_block(begin);
      else
        fixed_block(begin);
    }
    w_.put(0b011, 3);  // the last block: fixed codes,
    w_.put(0, 7);      // empty
    w_.align();
    const std::uint32_t a = adler32(in_, n_);
    const unsigned char trailer[4] = {
        static_cast<unsigned char>(a >> 24), static_cast<unsigned char>(a >> 16),
        static_cast<unsigned char>(a >> 8), static_cast<unsigned char>(a)};
    w_.bytes(trailer, 4);
    return w_.end();
  }

 private:
  /// Bytes from i equal to those d before them (LZ77's copy, overlapping where d is short).
  std::size_t run(std::size_t i, std::size_t d) const {
    std::size_t k = 0;
    const std::size_t max = n_ - i;
    for (; k + 8 <= max; k += 8) {
      std::uint64_t a, b;
      std::memcpy(&a, in_ + i + k, 8);
      std::memcpy(&b, in_ + i + k - d, 8);
      if (const std::uint64_t x = a ^ b) return k + std::size_t(std::countr_zero(x) >> 3);
    }
    while (k < max && in_[i + k] == in_[i + k - d]) ++k;
    return k;
  }

  /// The block's tokens, found from lit_ (the first byte not yet in a token) and i_ (the first
  /// position not yet looked at): the earliest position from which kMinMatch or more bytes
  /// repeat, 25 positions at a time (those whose 8 bytes lie in the 32 compared). Bit k of
  /// `one` (`up`) says that byte i + k equals the byte before it (a row before it), and a bit
  /// of run8(...) that kMinMatch such bits start there; bits of bytes past the end or without a
  /// row above stay 0.
  void scan(std::size_t block_end) {
    static_assert(kMinMatch == 8);
    auto run8 = [](std::uint32_t m) {  // runs of 2, then of 4, then of 8
      m &= m >> 1;
      m &= m >> 2;
      return m & m >> 4;
    };
    // Copies in registers: the tokens written could alias the members.
    const unsigned char* in = in_;
    const std::size_t n = n_, row = row_;
    const bool rows = rows_;
    std::size_t i = i_, lit = lit_;
    tokens_.clear();
    while (lit < block_end) {
      if (i >= block_end) {  // a stretch of literals to the block's end ends it (no match
        tokens_.push_back({block_end - lit, 0, false});  // starts before i: i stays)
        lit = block_end;
        break;
      }
      if (i + kMinMatch > n) {
        tokens_.push_back({n - lit, 0, false});
        lit = n;
        break;
      }
      std::uint32_t one = 0, up = 0;
      const bool up_here = rows && i >= row;
      if (i + 32 <= n && (up_here || !rows || i + 32 <= row)) {
        one = equal32(in + i, in + i - 1);
        if (up_here) up = equal32(in + i, in + i - row);
      } else {  // the chunk's first row and its last 31 bytes
        for (std::size_t k = 0; k < 32 && i + k < n; ++k) {
          one |= std::uint32_t(in[i + k] == in[i + k - 1]) << k;
          if (rows && i + k >= row) up |= std::uint32_t(in[i + k] == in[i + k - row]) << k;
        }
      }
      const std::uint32_t starts = (run8(one) | run8(up)) & 0x1FFFFFFu;
      if (starts == 0) {
        i += 25;
        continue;
      }
      const std::size_t j = i + std::size_t(std::countr_zero(starts));
      const std::size_t by1 = run(j, 1), byr = rows && j >= row ? run(j, row) : 0;
      tokens_.push_back({j - lit, std::max(by1, byr), byr >= by1});
      i = lit = j + std::max(by1, byr);
    }
    i_ = i;
    lit_ = lit;
  }

  /// Whether the block from `begin` is worth fitted codes: its bits estimated both ways (a
  /// distance's extra bits are the same in both). Stored or fixed: 8 bits a literal in stored
  /// blocks and about 8.5 in fixed codes, 13 a piece of a match. Fitted: the entropy of the
  /// literals (at least a bit each, from every 16th literal where there are many), 7 bits a
  /// piece, and 600 for the codes; fitted codes where they save a tenth.
  bool fitted_pays(std::size_t begin) const {
    std::array<std::uint32_t, 256> h{};
    std::size_t lits = 0, matches = 0;
    double fixed = 0;
    for (const Token& t : tokens_) {
      lits += t.literals;
      fixed +=
          t.literals <= kShortLiterals ? 8.5 * double(t.literals) : 8.0 * double(t.literals) + 60.0;
      pieces(t.match, [&](std::size_t) { ++matches; });
    }
    const std::size_t stride = lits < 4096 ? 1 : 16;
    std::size_t at = begin, sampled = 0;
    for (const Token& t : tokens_) {
      for (std::size_t k = (at + stride - 1) / stride * stride; k < at + t.literals; k += stride)
        ++h[in_[k]], ++sampled;
      at += t.literals + t.match;
    }
    double bits = 0;
    for (std::uint32_t c : h)
      if (c > 0) bits += double(c) * std::max(1.0, std::log2(double(sampled) / double(c)));
    const double per_literal = sampled > 0 ? bits / double(sampled) : 0.0;
    return double(lits) * per_literal + 7.0 * double(matches) + 600.0 <
           0.9 * (fixed + 13.0 * double(matches));
  }

  /// Stored blocks for the literals [a, b) where they are many, else their fixed codes (inside
  /// a block of fixed codes, which it leaves open).
  void literals(std::size_t a, std::size_t b) {
    if (b - a <= kShortLiterals) {
      for (; a < b; ++a) w_.put(kTables.literal[in_[a]]);
      return;
    }
    w_.put(0, 7);  // end of the block of fixed codes
    while (a < b) {
      const auto k = static_cast<std::uint32_t>(std::min(b - a, kMaxStored));
      w_.put(0b000, 3);  // a stored block, not the last
      w_.align();
      w_.put(k | ((~k & 0xFFFFu) << 16), 32);  // LEN, NLEN
      w_.bytes(in_ + a, k);
      a += k;
    }
    w_.put(0b010, 3);  // a new block of fixed codes
  }

  /// A block of fixed codes, with stored blocks for its long stretches of literals.
  void fixed_block(std::size_t at) {
    w_.put(0b010, 3);  // fixed codes, not the last block (BFINAL 0, BTYPE 01)
    for (const Token& t : tokens_) {
      literals(at, at + t.literals);
      const Code dist = t.by_row ? by_row_ : by_one_;
      pieces(t.match, [&](std::size_t k) {
        w_.put(kTables.length[k]);
        w_.put(dist);
      });
      at += t.literals + t.match;
    }
    w_.put(0, 7);  // end of block
  }

  /// A block of codes fitted to its literals and lengths.
  void fitted_block(std::size_t at) {
    std::array<std::uint32_t, 286> freq{};
    std::array<std::array<std::uint32_t, 256>, 4> part{};  // four counts: fewer stalls on repeats
    std::size_t p = at;
    for (const Token& t : tokens_) {
      std::size_t k = p;
      for (; k + 4 <= p + t.literals; k += 4)
        ++part[0][in_[k]], ++part[1][in_[k + 1]], ++part[2][in_[k + 2]], ++part[3][in_[k + 3]];
      for (; k < p + t.literals; ++k) ++part[0][in_[k]];
      pieces(t.match, [&](std::size_t k) { ++freq[kTables.length_symbol[k]]; });
      p += t.literals + t.match;
    }
    for (std::size_t b = 0; b < 256; ++b)
      freq[b] = part[0][b] + part[1][b] + part[2][b] + part[3][b];
    freq[256] = 1;  // end of block
    const FittedCode fc(freq, row_symbol_);
    fc.write_header(w_);
    // Copies the compiler keeps in registers (the bytes written could alias the members).
    BitWriter v = w_;
    const unsigned char* src = in_;
    const Code one = {0, 1}, row = fitted_row_;
    for (const Token *t = tokens_.data(), *end = t + tokens_.size(); t != end; ++t) {
      std::size_t k = at;
      for (; k + 3 <= at + t->literals; k += 3) {  // three literals (at most 45 bits) at once
        const Code a = fc.code[src[k]], b = fc.code[src[k + 1]], c = fc.code[src[k + 2]];
        v.put(a.bits | std::uint64_t(b.bits) << a.len | std::uint64_t(c.bits) << (a.len + b.len),
              a.len + b.len + c.len);
      }
      for (; k < at + t->literals; ++k) v.put(fc.code[src[k]]);
      const Code dist = t->by_row ? row : one;
      pieces(t->match, [&](std::size_t k) {  // length, its extra bits, distance: <= 35 bits
        const Code len = fc.code[kTables.length_symbol[k]], extra = kTables.length_extra[k];
        v.put(len.bits | std::uint64_t(extra.bits) << len.len |
                  std::uint64_t(dist.bits) << (len.len + extra.len),
              len.len + extra.len + dist.len);
      });
      at += t->literals + t->match;
    }
    v.put(fc.code[256]);  // end of block
    w_ = v;
  }

  const unsigned char* in_;
  std::size_t n_, row_;
  bool rows_;
  Code by_one_, by_row_, fitted_row_;
  std::uint32_t row_symbol_;
  BitWriter w_;
  std::size_t i_ = 1, lit_ = 0;  // the scan's state: see scan()
  std::vector<Token>& tokens_ = thread_tokens();

  static std::vector<Token>& thread_tokens() {
    thread_local std::vector<Token> tokens;  // reused: a block's tokens
    return tokens;
  }
};

}  // namespace

std::vector<unsigned char> row_deflate(const unsigned char* in, std::size_t n, std::size_t row) {
  // Worst case: 15 bits a literal (fitted codes), a stored block's 5 bytes of header per 33
  // literals, the codes of each block (under 512 bytes), the zlib header and trailer,
  // and the 8 bytes BitWriter stores past its last whole byte.
  thread_local std::vector<unsigned char> buf;
  const std::size_t bound = 2 * n + 512 * (n / kBlock + 2) + 64;
  if (buf.size() < bound) buf.resize(bound);
  Encoder e(in, n, row, buf.data());
  return {buf.data(), e.encode()};
}

}  // namespace shortfall::detail
