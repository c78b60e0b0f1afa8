// The filters of the program's chunked series, applied outside HDF5 so that chunks are
// compressed on all threads and written with H5Dwrite_chunk (HDF5 would run its filters one
// chunk at a time on the writing thread). The bytes decode with HDF5's own pipeline as
// declared on the datasets: shuffle, then deflate (a zlib stream), level 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shortfall/scenario.hpp"

namespace shortfall::detail {

/// A firm's production loss 1 - x / x0, 0 where x0 = 0 (docs/output.md), as stored.
inline double production_loss(double x, double x0) {
  return x0 > 0.0 ? 1.0 - x / x0 : 0.0;
}

/// Where one chunk's values are: `rows` of the block buffer `block` (rows of `row_len`
/// elements of `elem_size` bytes, the chunk's first row first) recorded so far, columns
/// [col0, col0 + cols) of them, into a chunk of `chunk_rows` x `cols` elements whose unrecorded
/// rows and columns past the edge hold `fill` (the dataset's fill value). `to_float`: the
/// block holds doubles, the chunk floats (each rounded to nearest; `fill` is then a float).
/// `x0`: the block holds production x and the chunk the production loss 1 - x / x0, computed
/// here: the loss is not buffered. `last`: where set, the last recorded row (row `rows` - 1,
/// `row_len` elements) is read from there and not from `block` (the recorder reads a chunk's
/// last day from the engine's arrays).
struct ChunkSource {
  const unsigned char* block = nullptr;
  std::size_t elem_size = 8, row_len = 0, rows = 0, chunk_rows = 0, col0 = 0, cols = 0;
  const unsigned char* fill = nullptr;
  bool to_float = false;
  const double* x0 = nullptr;
  const unsigned char* last = nullptr;
};

/// A chunk as stored: its bytes and HDF5's filter mask (bit k set: filter k of the pipeline
/// was skipped; always 0 here: both filters are applied).
struct FilteredChunk {
  std::vector<unsigned char> bytes;
  std::uint32_t filter_mask = 0;
};

/// One row of a chunk shuffled (byte b of every element, then byte b + 1, ...: HDF5's H5Z
/// shuffle) as the chunk is built: byte b of the `have` elements of `elem_size` bytes at `data`
/// (native little-endian) to `out + b * plane`, one after another, then byte b of `fill` (one
/// element) up to `width` elements (the columns or days past the data's edge hold the fill
/// value, as HDF5 would store them). A chunk of `plane` elements: its planes are `plane` bytes
/// apart.
void shuffle_row(const void* data, std::size_t have, std::size_t width, std::size_t elem_size,
                 const unsigned char* fill, unsigned char* out, std::size_t plane);
/// The deflated chunk (deflate, a zlib stream, level 1) of the `bytes` shuffled bytes at
/// `shuffled`. Thread-safe. Throws IoError naming `what` if compression fails. `fast_row` > 0:
/// the chunk's rows hold `fast_row` elements each (a day of firms, or of countries x
/// materials), and the stream is made by row_deflate (output/row_deflate.hpp: the run file's
/// default, faster); else by the general encoder at level 1.
[[nodiscard]] FilteredChunk deflate_shuffled(const unsigned char* shuffled, std::size_t bytes,
                                             const char* what, std::size_t fast_row = 0);

/// The chunk of `src` as stored under `compression`: built whole and shuffled as it is built,
/// then deflated (by row_deflate for `fast`, by the general encoder for `deflate`), or built as
/// it is (`none`). Thread-safe.
[[nodiscard]] FilteredChunk build_chunk(const ChunkSource& src, Compression compression);

}  // namespace shortfall::detail
