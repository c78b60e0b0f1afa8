// A deflate encoder for shuffled chunks of day-by-day series (output/chunk_filter.hpp).
//
// A shuffled chunk is a run of byte planes, each holding byte b of every value, day after day:
// most of a firm's values are the same as the day before, so most of a plane repeats at the
// distance of one row (the chunk's firms), or repeats its own last byte. The encoder looks for
// exactly those two matches, of at least 8 bytes, 25 positions at a time. The bytes between
// them go, block by block (64 KB of input), either into a block of Huffman codes fitted to the
// block, where its bytes take few values (the planes of a series that is 0 for most firms, or
// the high bytes of a value), or as they are: long stretches as stored blocks, short ones in
// deflate's fixed code. The result is an ordinary zlib stream (RFC 1950/1951) that HDF5's
// deflate filter, and any inflate, decodes to the same bytes; on the benchmark worlds it is
// about the size of a general encoder's at its fastest level and three to four times faster
// to make. The same input always gives the same bytes, whatever the thread.
#pragma once

#include <cstddef>
#include <vector>

namespace shortfall::detail {

/// The zlib stream of the `n` bytes at `in`, matching each byte against the byte `row` bytes
/// before it (a row of the chunk; ignored unless 1 < row <= 32768) and the byte before it.
[[nodiscard]] std::vector<unsigned char> row_deflate(const unsigned char* in, std::size_t n,
                                                     std::size_t row);

}  // namespace shortfall::detail
