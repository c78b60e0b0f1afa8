// The chunks of the run file as stored (output/chunk_filter.hpp): built from the recorder's
// buffers, shuffled, and deflated. With libdeflate (Debian's libdeflate-dev) the general zlib
// stream is made about 1.7 times faster than by zlib at the same level; either stream decodes
// with HDF5's deflate filter to the same bytes.
#include "output/chunk_filter.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#ifdef SHORTFALL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif

#include "output/row_deflate.hpp"
#include "shortfall/error.hpp"

namespace shortfall::detail {

static_assert(std::endian::native == std::endian::little,
              "the series are written as little-endian chunks without conversion");

namespace {
constexpr int kLevel = 1;  // the datasets' declared deflate level

#ifdef SHORTFALL_HAVE_LIBDEFLATE
struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};
libdeflate_compressor* thread_compressor() {
  thread_local std::unique_ptr<libdeflate_compressor, CompressorDeleter> c(
      libdeflate_alloc_compressor(kLevel));
  return c.get();
}
#endif

/// The zlib stream of `in` (kept even where it is larger, as HDF5's deflate filter does), made
/// in a buffer of the thread's and returned at its size (a vector sized to the bound and cut
/// down would keep the bound's capacity while the chunk waits to be written).
std::vector<unsigned char> deflate(const unsigned char* in, std::size_t in_size, const char* what) {
  thread_local std::vector<unsigned char> buf;
#ifdef SHORTFALL_HAVE_LIBDEFLATE
  libdeflate_compressor* c = thread_compressor();
  if (!c) throw IoError(std::string(what) + ": cannot allocate a compressor");
  buf.resize(std::max(buf.size(), libdeflate_zlib_compress_bound(c, in_size)));
  const std::size_t n = libdeflate_zlib_compress(c, in, in_size, buf.data(), buf.size());
  if (n == 0) throw IoError(std::string(what) + ": compressing a chunk failed");
#else
  buf.resize(std::max<std::size_t>(buf.size(), compressBound(uLong(in_size))));
  uLongf n = uLongf(buf.size());
  if (compress2(buf.data(), &n, in, uLong(in_size), kLevel) != Z_OK)
    throw IoError(std::string(what) + ": compressing a chunk failed");
#endif
  return {buf.data(), buf.data() + n};
}
/// HDF5's shuffle of `elems` 8-byte elements, plane b at `out + b * plane`: eight at a time as
/// an 8 x 8 byte transpose in three rounds of swaps (4-, 2-, then 1-byte blocks), so that each
/// plane gets 8 bytes at once.
void shuffle8(const unsigned char* in, std::size_t elems, unsigned char* out, std::size_t plane) {
  std::size_t e = 0;
#ifdef __SSE2__
  // Sixteen at a time: a 16 x 8 byte transpose in four rounds of byte interleaves. Register k
  // starts with elements 2k and 2k + 1; each round makes registers 2k and 2k + 1 of the
  // interleaved bytes of the low and high halves of registers k and k + 4 (a perfect shuffle
  // of the 128 bytes' positions, four times), after which register b holds byte b of the
  // sixteen elements, in order.
  for (; e + 16 <= elems; e += 16) {
    __m128i r[8], t[8];
    for (int k = 0; k < 8; ++k)
      r[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + e * 8 + 16 * k));
    for (int round = 0; round < 4; ++round) {
      for (int k = 0; k < 4; ++k) {
        t[2 * k] = _mm_unpacklo_epi8(r[k], r[k + 4]);
        t[2 * k + 1] = _mm_unpackhi_epi8(r[k], r[k + 4]);
      }
      for (int k = 0; k < 8; ++k) r[k] = t[k];
    }
    for (std::size_t b = 0; b < 8; ++b)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + b * plane + e), r[b]);
  }
#endif
  for (; e + 8 <= elems; e += 8) {
    std::uint64_t x[8];
    std::memcpy(x, in + e * 8, sizeof x);
    for (int i = 0; i < 4; ++i) {
      const std::uint64_t t = ((x[i] >> 32) ^ x[i + 4]) & 0x00000000FFFFFFFFull;
      x[i] ^= t << 32;
      x[i + 4] ^= t;
    }
    for (int i : {0, 1, 4, 5}) {
      const std::uint64_t t = ((x[i] >> 16) ^ x[i + 2]) & 0x0000FFFF0000FFFFull;
      x[i] ^= t << 16;
      x[i + 2] ^= t;
    }
    for (int i : {0, 2, 4, 6}) {
      const std::uint64_t t = ((x[i] >> 8) ^ x[i + 1]) & 0x00FF00FF00FF00FFull;
      x[i] ^= t << 8;
      x[i + 1] ^= t;
    }
    for (std::size_t b = 0; b < 8; ++b) std::memcpy(out + b * plane + e, &x[b], 8);
  }
  for (; e < elems; ++e)
    for (std::size_t b = 0; b < 8; ++b) out[b * plane + e] = in[e * 8 + b];
}

}  // namespace

void shuffle_row(const void* data, std::size_t have, std::size_t width, std::size_t elem_size,
                 const unsigned char* fill, unsigned char* out, std::size_t plane) {
  const auto* raw = static_cast<const unsigned char*>(data);
  if (elem_size == 1) {
    if (have > 0) std::memcpy(out, raw, have);  // HDF5's shuffle leaves 1-byte elements as they are
  } else if (elem_size == 8) {
    shuffle8(raw, have, out, plane);
  } else {
    for (std::size_t b = 0; b < elem_size; ++b)
      for (std::size_t i = 0; i < have; ++i) out[b * plane + i] = raw[i * elem_size + b];
  }
  for (std::size_t b = 0; b < elem_size; ++b)
    std::memset(out + b * plane + have, fill[b], width - have);
}

FilteredChunk deflate_shuffled(const unsigned char* shuffled, std::size_t bytes, const char* what,
                               std::size_t fast_row) {
  if (fast_row > 0) return FilteredChunk{row_deflate(shuffled, bytes, fast_row), 0};
  return FilteredChunk{deflate(shuffled, bytes, what), 0};
}

namespace {
/// The `have` values of a row of `b` at `src` as stored, into `out` (loss, float32).
const unsigned char* convert(const ChunkSource& b, const unsigned char* src, std::size_t have,
                             unsigned char* out) {
  for (std::size_t i = 0; i < have; ++i) {
    double v;
    std::memcpy(&v, src + i * sizeof v, sizeof v);
    if (b.x0) v = production_loss(v, b.x0[b.col0 + i]);
    if (!b.to_float) {
      std::memcpy(out + i * sizeof v, &v, sizeof v);
      continue;
    }
    // IEEE rounding; beyond float's range, an infinity (a cast would be undefined).
    constexpr double kMax = std::numeric_limits<float>::max();
    const float f = std::abs(v) <= kMax || std::isnan(v)
                        ? static_cast<float>(v)
                        : (v > 0 ? 1.0f : -1.0f) * std::numeric_limits<float>::infinity();
    std::memcpy(out + i * sizeof f, &f, sizeof f);
  }
  return out;
}
}  // namespace

FilteredChunk build_chunk(const ChunkSource& b, Compression compression) {
  const std::size_t src_es = b.elem_size, es = b.to_float ? sizeof(float) : src_es,
                    width = std::min(b.cols, b.row_len - b.col0), plane = b.chunk_rows * b.cols;
  const bool shuffled = compression != Compression::kNone;
  // Built in buffers of the thread's, reused chunk after chunk (a new one for each chunk
  // cost page faults and zeroing: a tenth of a recorded run's time on two threads), and
  // shuffled as it is built: row by row, the fill as runs of each of its bytes.
  thread_local std::vector<unsigned char> chunk, converted;
  chunk.resize(std::max(chunk.size(), plane * es));
  converted.resize(std::max(converted.size(), b.cols * es));
  for (std::size_t r = 0; r < b.chunk_rows; ++r) {
    const std::size_t have = r < b.rows ? width : 0;
    const unsigned char* row = nullptr;  // nothing is read past the recorded rows
    if (have > 0)
      row =
          (b.last && r + 1 == b.rows ? b.last : b.block + r * b.row_len * src_es) + b.col0 * src_es;
    if (b.to_float || b.x0) row = convert(b, row, have, converted.data());
    if (shuffled) {
      shuffle_row(row, have, b.cols, es, b.fill, chunk.data() + r * b.cols, plane);
    } else {
      unsigned char* dst = chunk.data() + r * b.cols * es;
      if (have > 0) std::memcpy(dst, row, have * es);
      for (std::size_t i = have; i < b.cols; ++i) std::memcpy(dst + i * es, b.fill, es);
    }
  }
  if (!shuffled) return {{chunk.data(), chunk.data() + plane * es}, 0};
  return deflate_shuffled(chunk.data(), plane * es, "HDF5 output",
                          compression == Compression::kFast ? b.cols : 0);
}

}  // namespace shortfall::detail
