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

/// Shuffle (byte b of every element, then byte b + 1, ...: HDF5's H5Z shuffle) and deflate
/// `elems` elements of `elem_size` bytes at `data` (native little-endian). Thread-safe.
/// Throws IoError naming `what` if compression fails. `fast_row` > 0: the chunk's rows hold
/// `fast_row` elements each (a day of firms, or of countries x materials), and the deflate
/// stream is made by row_deflate (output/row_deflate.hpp: the run file's default, faster); else
/// by the general encoder at level 1.
[[nodiscard]] FilteredChunk shuffle_deflate(const void* data, std::size_t elems,
                                            std::size_t elem_size, const char* what,
                                            std::size_t fast_row = 0);

/// The two steps of shuffle_deflate, for a chunk shuffled piece by piece. shuffle_into: byte b
/// of the `elems` elements at `data` to `out + b * plane`, one after another (a piece of a
/// chunk of `plane` elements: its planes are `plane` bytes apart).
void shuffle_into(const void* data, std::size_t elems, std::size_t elem_size, unsigned char* out,
                  std::size_t plane);
/// The deflated chunk of the `bytes` shuffled bytes at `shuffled` (`fast_row` as above).
[[nodiscard]] FilteredChunk deflate_shuffled(const unsigned char* shuffled, std::size_t bytes,
                                             const char* what, std::size_t fast_row = 0);

}  // namespace shortfall::detail
