// Shuffle + deflate of one chunk (output/chunk_filter.hpp). With libdeflate (Debian's
// libdeflate-dev) the zlib stream is made about 1.7 times faster than by zlib at the same
// level; either stream decodes with HDF5's deflate filter to the same bytes.
#include "output/chunk_filter.hpp"

#include <bit>
#include <cstring>
#include <memory>
#include <string>

#ifdef SHORTFALL_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif

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

/// The zlib stream of `in` (kept even where it is larger, as HDF5's deflate filter does).
std::vector<unsigned char> deflate(const std::vector<unsigned char>& in, const char* what) {
  std::vector<unsigned char> out;
#ifdef SHORTFALL_HAVE_LIBDEFLATE
  libdeflate_compressor* c = thread_compressor();
  if (!c) throw IoError(std::string(what) + ": cannot allocate a compressor");
  out.resize(libdeflate_zlib_compress_bound(c, in.size()));
  const std::size_t n = libdeflate_zlib_compress(c, in.data(), in.size(), out.data(), out.size());
  if (n == 0) throw IoError(std::string(what) + ": compressing a chunk failed");
  out.resize(n);
#else
  uLongf n = compressBound(uLong(in.size()));
  out.resize(n);
  if (compress2(out.data(), &n, in.data(), uLong(in.size()), kLevel) != Z_OK)
    throw IoError(std::string(what) + ": compressing a chunk failed");
  out.resize(n);
#endif
  return out;
}
}  // namespace

FilteredChunk shuffle_deflate(const void* data, std::size_t elems, std::size_t elem_size,
                              const char* what) {
  const std::size_t bytes = elems * elem_size;
  std::vector<unsigned char> shuffled(bytes);
  const auto* raw = static_cast<const unsigned char*>(data);
  if (elem_size == 1) {
    std::memcpy(shuffled.data(), raw, bytes);  // HDF5's shuffle leaves 1-byte elements as they are
  } else {
    for (std::size_t b = 0; b < elem_size; ++b) {
      unsigned char* plane = shuffled.data() + b * elems;
      for (std::size_t i = 0; i < elems; ++i) plane[i] = raw[i * elem_size + b];
    }
  }
  return FilteredChunk{deflate(shuffled, what), 0};
}

}  // namespace shortfall::detail
