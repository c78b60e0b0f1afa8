// The filters of the program's chunked series, applied outside HDF5 so that chunks are
// compressed on all threads and written with H5Dwrite_chunk (HDF5 would run its filters one
// chunk at a time on the writing thread). The bytes decode with HDF5's own pipeline as
// declared on the datasets: shuffle, then deflate (a zlib stream), level 1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace shortfall::detail {

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

}  // namespace shortfall::detail
