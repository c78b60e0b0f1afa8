// A deflate encoder for shuffled chunks of day-by-day series (output/chunk_filter.hpp).
//
// A shuffled chunk is a run of byte planes, each holding byte b of every value, day after day:
// most of a firm's values are the same as the day before, so most of a plane repeats at the
// distance of one row (the chunk's firms), or repeats its own last byte. The encoder looks for
// exactly those two matches, of at least 8 bytes, and stores everything else as it is: long
// stretches of literals as stored blocks, short ones as literals of deflate's fixed code. The
// result is an ordinary zlib stream (RFC 1950/1951) that HDF5's deflate filter, and any
// inflate, decodes to the same bytes; it is a few percent larger than a general encoder's at
// its fastest level and several times faster to make. The same input always gives the same
// bytes, whatever the thread.
#pragma once

#include <cstddef>
#include <vector>

namespace shortfall::detail {

/// The zlib stream of the `n` bytes at `in`, matching each byte against the byte `row` bytes
/// before it (a row of the chunk; ignored unless 1 < row <= 32768) and the byte before it.
[[nodiscard]] std::vector<unsigned char> row_deflate(const unsigned char* in, std::size_t n,
                                                     std::size_t row);

}  // namespace shortfall::detail
